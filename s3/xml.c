/*
 * The XML layer's core: reading S3 response bodies safely, the element
 * and value helpers, serialisation, and the <Error> document. The other
 * documents are in xml_objects.c, xml_multipart.c and xml_lifecycle.c.
 */
#include "s3/xml.h"
#include "s3/xml_intern.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "common/codec.h"

/* ---- libxml2, kept quiet ---- */

/*
 * libxml2 reports errors through a handler that is global to the thread;
 * by default it prints to stderr. Around each call into libxml2 we put in
 * a handler that only takes notes, and put the previous one back after.
 */
struct quiet {
	xmlStructuredErrorFunc prev;
	void *prev_ctx;
	bool nomem;
	bool errors;
	bool dtd;
};

static void quiet_note(void *ctx, xmlErrorPtr e)
{
	struct quiet *q = ctx;

	if (!e)
		return;
	if (e->code == XML_ERR_NO_MEMORY)
		q->nomem = true;
	if (e->level >= XML_ERR_ERROR)
		q->errors = true;
}

static void quiet_begin(struct quiet *q)
{
	memset(q, 0, sizeof(*q));
	q->prev = xmlStructuredError;
	q->prev_ctx = xmlStructuredErrorContext;
	xmlSetStructuredErrorFunc(q, quiet_note);
}

static void quiet_end(const struct quiet *q)
{
	xmlSetStructuredErrorFunc(q->prev_ctx, q->prev);
}

/*
 * The one place where libxml2's failures become our codes: OK says whether
 * the call produced what was asked, FAILURE is what it means if not.
 */
static int from_libxml(const struct quiet *q, bool ok, int failure)
{
	if (q->nomem)
		return S3XML_ENOMEM;
	return ok ? S3XML_OK : failure;
}

/*
 * No S3 document has a DOCTYPE. Refusing it at its first byte keeps
 * entity declarations (billion laughs, external entities) out entirely.
 */
static void refuse_dtd(void *ctx, const xmlChar *name, const xmlChar *ext_id,
		       const xmlChar *sys_id)
{
	xmlParserCtxt *ctxt = ctx;
	struct quiet *q = ctxt->_private;

	(void)name;
	(void)ext_id;
	(void)sys_id;
	q->dtd = true;
	xmlStopParser(ctxt);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int s3xml_read(xmlDoc **out, const char *body, size_t len)
{
	/*
	 * Never XML_PARSE_NOENT or XML_PARSE_DTDLOAD: no entity expansion.
	 * S3 writes UTF-8 only; reading every body as UTF-8, whatever its
	 * declaration says, keeps the server from choosing which converter
	 * libxml2 loads (iconv, ICU).
	 */
	const int options =
		XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_IGNORE_ENC;
	xmlParserCtxt *ctxt = NULL;
	xmlDoc *doc = NULL;
	struct quiet q;
	bool ok;
	int rc;

	*out = NULL;
	if (!body || len > S3XML_MAX_BODY)
		return S3XML_EPARSE;
	/*
	 * S3 answers a slow CompleteMultipartUpload with "200 OK" at once and
	 * then whitespace to keep the connection open, before the document
	 * (API Reference, CompleteMultipartUpload). An XML declaration must
	 * come first, so skip it.
	 */
	while (len > 0 && is_space(*body)) {
		body++;
		len--;
	}
	if (len == 0)
		return S3XML_EPARSE;

	quiet_begin(&q);
	ctxt = xmlNewParserCtxt();
	if (ctxt) {
		ctxt->_private = &q;
		ctxt->sax->internalSubset = refuse_dtd;
		doc = xmlCtxtReadMemory(ctxt, body, (int)len, NULL, "UTF-8",
					options);
	}
	ok = ctxt && doc && ctxt->wellFormed && ctxt->nsWellFormed && !q.dtd &&
	     !q.errors && xmlDocGetRootElement(doc);
	rc = from_libxml(&q, ok, ctxt ? S3XML_EPARSE : S3XML_ENOMEM);
	xmlFreeParserCtxt(ctxt);
	quiet_end(&q);
	if (rc) {
		xmlFreeDoc(doc);
		return rc;
	}
	*out = doc;
	return S3XML_OK;
}

/* ---- elements and values ---- */

bool s3xml_is(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE &&
	       xmlStrEqual(n->name, (const xmlChar *)name) &&
	       (!n->ns || xmlStrEqual(n->ns->href, (const xmlChar *)S3XML_NS) ||
		xmlStrEqual(n->ns->href, (const xmlChar *)S3XML_NS_S3RVER));
}

int s3xml_root(xmlNode **root, xmlDoc *doc, const char *name)
{
	xmlNode *r = xmlDocGetRootElement(doc);

	*root = NULL;
	if (s3xml_is(r, name)) {
		*root = r;
		return S3XML_OK;
	}
	if (s3xml_is(r, "Error")) {
		*root = r;
		return S3XML_EERRORDOC;
	}
	return S3XML_ESHAPE;
}

xmlNode *s3xml_child(const xmlNode *parent, const char *name)
{
	xmlNode *c;

	for (c = parent->children; c; c = c->next)
		if (s3xml_is(c, name))
			return c;
	return NULL;
}

int s3xml_text(char **out, const xmlNode *n)
{
	const xmlNode *c;
	size_t len = 0, at = 0;
	char *s;

	*out = NULL;
	for (c = n->children; c; c = c->next) {
		switch (c->type) {
		case XML_TEXT_NODE:
		case XML_CDATA_SECTION_NODE:
			/* XML text holds no NUL: strlen is its length. */
			len += strlen((const char *)c->content);
			if (len > S3XML_MAX_TEXT)
				return S3XML_ESHAPE;
			break;
		case XML_COMMENT_NODE:
		case XML_PI_NODE:
			break;
		default: /* an element where a value belongs */
			return S3XML_ESHAPE;
		}
	}
	s = malloc(len + 1);
	if (!s)
		return S3XML_ENOMEM;
	for (c = n->children; c; c = c->next) {
		if (c->type == XML_TEXT_NODE ||
		    c->type == XML_CDATA_SECTION_NODE) {
			size_t l = strlen((const char *)c->content);

			memcpy(s + at, c->content, l);
			at += l;
		}
	}
	s[at] = '\0';
	*out = s;
	return S3XML_OK;
}

int s3xml_dup(char **out, const char *s)
{
	*out = strdup(s);
	return *out ? S3XML_OK : S3XML_ENOMEM;
}

int s3xml_child_text(char **out, const xmlNode *parent, const char *name,
		     bool required)
{
	const xmlNode *c = s3xml_child(parent, name);

	*out = NULL;
	if (!c)
		return required ? S3XML_ESHAPE : S3XML_OK;
	return s3xml_text(out, c);
}

/* Decimal digits only: no sign, no blanks, no "0x". */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *p;

	*out = 0;
	if (!*s)
		return S3XML_ESHAPE;
	for (p = s; *p; p++) {
		unsigned d;

		if (*p < '0' || *p > '9')
			return S3XML_ESHAPE;
		d = (unsigned)(*p - '0');
		if (v > (max - d) / 10)
			return S3XML_ESHAPE;
		v = v * 10 + d;
	}
	*out = v;
	return S3XML_OK;
}

int s3xml_child_u64(uint64_t *out, bool *present, const xmlNode *parent,
		    const char *name, uint64_t max, bool required)
{
	char *s;
	int rc;

	*out = 0;
	if (present)
		*present = false;
	rc = s3xml_child_text(&s, parent, name, required);
	if (rc || !s)
		return rc;
	rc = parse_u64(s, max, out);
	free(s);
	if (rc == S3XML_OK && present)
		*present = true;
	return rc;
}

int s3xml_child_bool(bool *out, const xmlNode *parent, const char *name,
		     bool required)
{
	char *s;
	int rc;

	*out = false;
	rc = s3xml_child_text(&s, parent, name, required);
	if (rc || !s)
		return rc;
	if (strcmp(s, "true") == 0)
		*out = true;
	else if (strcmp(s, "false") != 0)
		rc = S3XML_ESHAPE;
	free(s);
	return rc;
}

void *s3xml_grow(void *arr, size_t *cap, size_t n, size_t elem, int *rc)
{
	size_t want;
	void *p;

	if (n < *cap)
		return arr;
	if (n >= S3XML_MAX_ITEMS) {
		*rc = S3XML_ESHAPE;
		return NULL;
	}
	want = *cap ? *cap * 2 : 16;
	if (want > S3XML_MAX_ITEMS)
		want = S3XML_MAX_ITEMS;
	if (elem && want > SIZE_MAX / elem) {
		*rc = S3XML_ENOMEM;
		return NULL;
	}
	p = realloc(arr, want * elem);
	if (!p) {
		*rc = S3XML_ENOMEM;
		return NULL;
	}
	*cap = want;
	return p;
}

/* Strip one pair of surrounding quotes, in place: S3 quotes ETags. */
void s3xml_unquote(char *s)
{
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		memmove(s, s + 1, n - 2);
		s[n - 2] = '\0';
	}
}

/*
 * Undo encoding-type=url, in place. AWS writes a space as '+' and a '+'
 * as "%2B"; radosgw writes a space as "%20" and also "%2B" for '+': so
 * '+' always means a space. "%00" would cut the key short: refused.
 */
int s3xml_url_decode(char *s)
{
	return pct_decode(s, NULL, s, strlen(s), true) == 0 ? S3XML_OK
							    : S3XML_ESHAPE;
}

/* Child NAME as a key: decoded when URL, non-empty when REQUIRED. */
int s3xml_child_key(char **out, const xmlNode *parent, const char *name,
		    bool url, bool required)
{
	int rc = s3xml_child_text(out, parent, name, required);

	if (rc == S3XML_OK && *out && url)
		rc = s3xml_url_decode(*out);
	if (rc == S3XML_OK && *out && required && !**out)
		rc = S3XML_ESHAPE;
	if (rc) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

/* <EncodingType>: absent, or "url" (the only one S3 defines). */
int s3xml_encoding(bool *url, const xmlNode *root)
{
	char *s;
	int rc;

	*url = false;
	rc = s3xml_child_text(&s, root, "EncodingType", false);
	if (rc || !s)
		return rc;
	if (strcmp(s, "url") == 0)
		*url = true;
	else
		rc = S3XML_ESHAPE;
	free(s);
	return rc;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* N decimal digits at *P, advancing it. */
static bool digits(const char **p, unsigned n, unsigned *out)
{
	unsigned v = 0, i;

	for (i = 0; i < n; i++) {
		char c = (*p)[i];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (unsigned)(c - '0');
	}
	*p += n;
	*out = v;
	return true;
}

int s3xml_parse_time(const char *s, time_t *out)
{
	static const unsigned mdays[] = {31, 28, 31, 30, 31, 30,
					 31, 31, 30, 31, 30, 31};
	unsigned y, mo, d, h, mi, sec, last;
	int64_t t;

	*out = 0;
	if (!s || !digits(&s, 4, &y) || *s++ != '-' || !digits(&s, 2, &mo) ||
	    *s++ != '-' || !digits(&s, 2, &d) || *s++ != 'T' ||
	    !digits(&s, 2, &h) || *s++ != ':' || !digits(&s, 2, &mi) ||
	    *s++ != ':' || !digits(&s, 2, &sec))
		return S3XML_ESHAPE;
	if (*s == '.') {
		unsigned n = 0;

		for (s++; *s >= '0' && *s <= '9'; s++)
			n++;
		if (n == 0 || n > 9)
			return S3XML_ESHAPE;
	}
	if (strcmp(s, "Z") != 0)
		return S3XML_ESHAPE;
	if (y < 1970 || mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 60)
		return S3XML_ESHAPE;
	last = mdays[mo - 1] +
	       (mo == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
	if (d < 1 || d > last)
		return S3XML_ESHAPE;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	if ((int64_t)(time_t)t != t)
		return S3XML_ESHAPE; /* a 32-bit time_t past 2038 */
	*out = (time_t)t;
	return S3XML_OK;
}

int s3xml_child_time(time_t *out, const xmlNode *parent, const char *name)
{
	char *s;
	int rc;

	*out = 0;
	rc = s3xml_child_text(&s, parent, name, true);
	if (rc == S3XML_OK)
		rc = s3xml_parse_time(s, out);
	free(s);
	return rc;
}

/*
 * The characters XML 1.0 can carry (section 2.2), as well-formed UTF-8:
 * no other control character, no surrogate, no U+FFFE or U+FFFF.
 */
bool s3xml_text_ok(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	if (!s)
		return false;
	while (p[n]) {
		unsigned c = p[n], cp, len, i;

		if (n >= max)
			return false;
		if (c < 0x80) {
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
				return false;
			n++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			len = 2;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			len = 3;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n + len > max)
			return false;
		for (i = 1; i < len; i++) {
			if ((p[n + i] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (p[n + i] & 0x3F);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ||
		    cp == 0xFFFE || cp == 0xFFFF)
			return false;
		n += len;
	}
	return true;
}

/* ---- building ---- */

int s3xml_new_doc(xmlDoc **out, xmlNode **root, const char *name)
{
	xmlDoc *doc = xmlNewDoc((const xmlChar *)"1.0");
	xmlNode *r = NULL;
	xmlNs *ns = NULL;

	*out = NULL;
	*root = NULL;
	if (doc)
		r = xmlNewDocNode(doc, NULL, (const xmlChar *)name, NULL);
	if (r) {
		xmlDocSetRootElement(doc, r);
		ns = xmlNewNs(r, (const xmlChar *)S3XML_NS, NULL);
	}
	if (!ns) {
		xmlFreeDoc(doc);
		return S3XML_ENOMEM;
	}
	xmlSetNs(r, ns);
	*out = doc;
	*root = r;
	return S3XML_OK;
}

int s3xml_add(xmlNode **child, xmlNode *parent, const char *name,
	      const char *text)
{
	/* xmlNewTextChild escapes TEXT; the child takes PARENT's namespace. */
	xmlNode *c = xmlNewTextChild(parent, NULL, (const xmlChar *)name,
				     (const xmlChar *)text);

	if (child)
		*child = c;
	return c ? S3XML_OK : S3XML_ENOMEM;
}

/* A malloc()ed copy of LEN bytes at P, NUL-terminated. */
static char *copy_out(const void *p, size_t len)
{
	char *s = malloc(len + 1);

	if (s) {
		memcpy(s, p, len);
		s[len] = '\0';
	}
	return s;
}

int s3xml_doc_string(char **out, xmlDoc *doc)
{
	xmlChar *mem = NULL;
	struct quiet q;
	int size = 0, rc;

	*out = NULL;
	quiet_begin(&q);
	xmlDocDumpMemoryEnc(doc, &mem, &size, "UTF-8");
	quiet_end(&q);
	rc = from_libxml(&q, mem && size > 0, S3XML_ENOMEM);
	if (rc == S3XML_OK) {
		*out = copy_out(mem, (size_t)size);
		if (!*out)
			rc = S3XML_ENOMEM;
	}
	xmlFree(mem);
	return rc;
}

int s3xml_node_string(char **out, xmlDoc *doc, xmlNode *n)
{
	xmlBuffer *buf;
	struct quiet q;
	int len = -1, rc;

	*out = NULL;
	quiet_begin(&q);
	buf = xmlBufferCreate();
	if (buf)
		len = xmlNodeDump(buf, doc, n, 0, 0);
	quiet_end(&q);
	rc = from_libxml(&q, buf && len > 0, S3XML_ENOMEM);
	if (rc == S3XML_OK) {
		*out = copy_out(xmlBufferContent(buf),
				(size_t)xmlBufferLength(buf));
		if (!*out)
			rc = S3XML_ENOMEM;
	}
	xmlBufferFree(buf);
	return rc;
}

/* ---- <Error> ---- */

const char *s3xml_strerror(int code)
{
	switch (code) {
	case S3XML_OK:
		return "success";
	case S3XML_EPARSE:
		return "not well-formed XML";
	case S3XML_ESHAPE:
		return "not the XML document expected";
	case S3XML_ENOMEM:
		return "out of memory";
	case S3XML_EERRORDOC:
		return "an S3 error document";
	case S3XML_EINVAL:
		return "a value S3 cannot take";
	}
	return "unknown XML error";
}

/*
 * Copy SRC into DST of SIZE bytes: control characters become spaces, and
 * a cut falls between UTF-8 sequences, never inside one.
 */
static void copy_clean(char *dst, size_t size, const char *src)
{
	size_t n = src ? strlen(src) : 0, i;

	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = c < 0x20 || c == 0x7F ? ' ' : (char)c;
	}
	dst[n] = '\0';
}

/* Fill E from the <Error> element ROOT. */
int s3xml_fill_error(struct s3xml_error *e, const xmlNode *root)
{
	static const struct {
		const char *name;
		size_t off, size;
	} fields[] = {
		{"Code", offsetof(struct s3xml_error, code),
		 sizeof(((struct s3xml_error *)0)->code)},
		{"Message", offsetof(struct s3xml_error, message),
		 sizeof(((struct s3xml_error *)0)->message)},
		{"RequestId", offsetof(struct s3xml_error, request_id),
		 sizeof(((struct s3xml_error *)0)->request_id)},
		{"Resource", offsetof(struct s3xml_error, resource),
		 sizeof(((struct s3xml_error *)0)->resource)},
	};
	size_t i;
	int rc;

	memset(e, 0, sizeof(*e));
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		char *s;

		rc = s3xml_child_text(&s, root, fields[i].name, false);
		if (rc)
			return rc;
		copy_clean((char *)e + fields[i].off, fields[i].size, s);
		free(s);
	}
	return e->code[0] ? S3XML_OK : S3XML_ESHAPE;
}

int s3xml_parse_error(const char *body, size_t len, struct s3xml_error *out)
{
	xmlDoc *doc = NULL;
	xmlNode *root;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = s3xml_read(&doc, body, len);
	if (rc == S3XML_OK)
		rc = s3xml_root(&root, doc, "Error");
	if (rc == S3XML_OK)
		rc = s3xml_fill_error(out, root);
	if (rc)
		memset(out, 0, sizeof(*out));
	xmlFreeDoc(doc);
	return rc;
}

bool s3xml_is_error_doc(const char *body, size_t len)
{
	xmlDoc *doc = NULL;
	bool is;

	if (s3xml_read(&doc, body, len))
		return false;
	is = s3xml_is(xmlDocGetRootElement(doc), "Error");
	xmlFreeDoc(doc);
	return is;
}
