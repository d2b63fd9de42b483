/*
 * Shared by the files of the XML layer (s3/xml*.c) and nothing else: the
 * one safe way we read a body into a libxml2 tree, the element and value
 * helpers, and serialisation. Codes are enum s3xml_code.
 */
#ifndef OFFSITE_S3_XML_INTERN_H
#define OFFSITE_S3_XML_INTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <libxml/tree.h>

#include "s3/xml.h"

/*
 * Parse BODY (leading whitespace skipped, at most S3XML_MAX_BODY bytes)
 * into *DOC, which has a root element; free with xmlFreeDoc. Quiet, no
 * network, no entity substitution, no DOCTYPE.
 */
int s3xml_read(xmlDoc **doc, const char *body, size_t len);

/*
 * The root of DOC when its local name is NAME: S3XML_OK. When the root is
 * <Error> instead: S3XML_EERRORDOC, *ROOT set to it. Otherwise ESHAPE.
 */
int s3xml_root(xmlNode **root, xmlDoc *doc, const char *name);

/* N is an element named NAME, in the S3 namespace or none. */
bool s3xml_is(const xmlNode *n, const char *name);

/* The first child element of PARENT named NAME, or NULL. */
xmlNode *s3xml_child(const xmlNode *parent, const char *name);

/* A copy of the text of leaf element N (at most S3XML_MAX_TEXT bytes);
 * an element inside it is S3XML_ESHAPE. */
int s3xml_text(char **out, const xmlNode *n);

/* A copy of S: S3XML_OK or S3XML_ENOMEM. */
int s3xml_dup(char **out, const char *s);

/* s3xml_text of child NAME; absent: S3XML_ESHAPE if REQUIRED, else
 * S3XML_OK with *OUT NULL. */
int s3xml_child_text(char **out, const xmlNode *parent, const char *name,
		     bool required);

/* Child NAME as a decimal number in 0..MAX; *PRESENT (may be NULL) says
 * whether it was there (absent and !REQUIRED: *OUT 0). */
int s3xml_child_u64(uint64_t *out, bool *present, const xmlNode *parent,
		    const char *name, uint64_t max, bool required);

/* "true" or "false". */
int s3xml_child_bool(bool *out, const xmlNode *parent, const char *name,
		     bool required);

/* Child NAME as a key: URL-decoded when URL (see s3xml_url_decode); when
 * REQUIRED it must be there and non-empty. */
int s3xml_child_key(char **out, const xmlNode *parent, const char *name,
		    bool url, bool required);

/* Undo encoding-type=url in place: "%XX", and '+' for a space. A bad
 * escape or "%00" is S3XML_ESHAPE. */
int s3xml_url_decode(char *s);

/* The document's <EncodingType>: absent (*URL false) or "url". */
int s3xml_encoding(bool *url, const xmlNode *root);

/* Required child NAME as an S3 timestamp (s3xml_parse_time). */
int s3xml_child_time(time_t *out, const xmlNode *parent, const char *name);

/* Strip one pair of surrounding quotes, in place (S3 quotes ETags). */
void s3xml_unquote(char *s);

/* Fill E from the <Error> element ROOT; S3XML_ESHAPE without a Code. */
int s3xml_fill_error(struct s3xml_error *e, const xmlNode *root);

/* Room for element N of an array of *CAP elements of ELEM bytes: the
 * (moved) array, or NULL with *RC set (S3XML_ENOMEM, or S3XML_ESHAPE past
 * S3XML_MAX_ITEMS). */
void *s3xml_grow(void *arr, size_t *cap, size_t n, size_t elem, int *rc);

/* S's first MAX bytes are UTF-8 of characters XML 1.0 can carry, and S
 * ends there. */
bool s3xml_text_ok(const char *s, size_t max);

/* A new document whose root NAME declares the S3 namespace. */
int s3xml_new_doc(xmlDoc **doc, xmlNode **root, const char *name);

/* Append <NAME>TEXT</NAME> (TEXT escaped) to PARENT; *CHILD may be NULL. */
int s3xml_add(xmlNode **child, xmlNode *parent, const char *name,
	      const char *text);

/* DOC as a UTF-8 string with its XML declaration, for free(). */
int s3xml_doc_string(char **out, xmlDoc *doc);

/* Element N of DOC serialised as it stands (xmlNodeDump), for free(). */
int s3xml_node_string(char **out, xmlDoc *doc, xmlNode *n);

#endif
