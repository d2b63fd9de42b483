/*
 * Lifecycle configurations: GetBucketLifecycleConfiguration's answer and
 * PutBucketLifecycleConfiguration's body (Amazon S3 API Reference;
 * User Guide, "Lifecycle configuration elements").
 *
 * A bucket has one configuration holding every rule, ours and anyone
 * else's, and a put replaces it whole. So each rule read keeps its XML as
 * received, and a rule that is not ours goes back exactly as it came.
 */
#include "s3/xml.h"
#include "s3/xml_intern.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* S3's limits: 1,000 rules, IDs of 255 characters. */
#define RULES_MAX  1000
#define ID_MAX	   255
#define PREFIX_MAX 1024

void s3_lifecycle_dispose(struct s3_lifecycle *lc)
{
	size_t i;

	if (!lc)
		return;
	for (i = 0; lc->rules && i < lc->nrules; i++) {
		free(lc->rules[i].id);
		free(lc->rules[i].prefix);
		free(lc->rules[i].raw);
	}
	free(lc->rules);
	lc->rules = NULL;
	lc->nrules = 0;
}

static void rule_dispose(struct s3_lifecycle_rule *r)
{
	free(r->id);
	free(r->prefix);
	free(r->raw);
	memset(r, 0, sizeof(*r));
}

/* The number of child elements of N, of any name. */
static size_t elements(const xmlNode *n)
{
	const xmlNode *c;
	size_t count = 0;

	for (c = n->children; c; c = c->next)
		count += c->type == XML_ELEMENT_NODE;
	return count;
}

/*
 * Where the rule's key prefix is when that is all it filters on: in
 * <Filter> holding only <Prefix>, or the legacy <Prefix> beside no
 * <Filter> (radosgw answers an empty filter that way). An empty <Filter>
 * (every object) sets *ALL. Anything else (Tag, And, ObjectSize*, both
 * forms at once) leaves *FROM NULL: the prefix is then unknown.
 */
static void rule_prefix(const xmlNode **from, bool *all, const xmlNode *rule)
{
	const xmlNode *filter = s3xml_child(rule, "Filter");
	const xmlNode *legacy = s3xml_child(rule, "Prefix");
	const xmlNode *p;

	*from = NULL;
	*all = false;
	if (filter && !legacy) {
		p = s3xml_child(filter, "Prefix");
		if (elements(filter) == 0)
			*all = true;
		else if (p && elements(filter) == 1)
			*from = p;
	} else if (legacy && !filter) {
		*from = legacy;
	}
}

/* Days at PARENT/NAME/CHILD, 0 when absent. */
static int rule_days(unsigned *out, const xmlNode *rule, const char *name,
		     const char *child)
{
	const xmlNode *n = s3xml_child(rule, name);
	uint64_t v = 0;
	int rc = S3XML_OK;

	if (n)
		rc = s3xml_child_u64(&v, NULL, n, child, UINT_MAX, false);
	*out = (unsigned)v;
	return rc;
}

static int parse_rule(struct s3_lifecycle_rule *r, xmlDoc *doc, xmlNode *n)
{
	char *status = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = s3xml_child_text(&r->id, n, "ID", false);
	if (rc == S3XML_OK)
		rc = s3xml_child_text(&status, n, "Status", true);
	if (rc == S3XML_OK) {
		if (strcmp(status, "Enabled") == 0)
			r->enabled = true;
		else if (strcmp(status, "Disabled") != 0)
			rc = S3XML_ESHAPE;
	}
	if (rc == S3XML_OK) {
		const xmlNode *from;
		bool all;

		rule_prefix(&from, &all, n);
		if (all) {
			rc = s3xml_dup(&r->prefix, "");
		} else if (from) {
			rc = s3xml_text(&r->prefix, from);
		}
	}
	if (rc == S3XML_OK)
		rc = rule_days(&r->expiration_days, n, "Expiration", "Days");
	if (rc == S3XML_OK)
		rc = rule_days(&r->abort_incomplete_days, n,
			       "AbortIncompleteMultipartUpload",
			       "DaysAfterInitiation");
	if (rc == S3XML_OK)
		rc = s3xml_node_string(&r->raw, doc, n);
	free(status);
	if (rc)
		rule_dispose(r);
	return rc;
}

int s3xml_parse_lifecycle(const char *body, size_t len, struct s3_lifecycle *lc)
{
	struct s3_lifecycle l = {0};
	size_t cap = 0;
	xmlDoc *doc = NULL;
	xmlNode *root, *n;
	int rc;

	memset(lc, 0, sizeof(*lc));
	rc = s3xml_read(&doc, body, len);
	if (rc == S3XML_OK)
		rc = s3xml_root(&root, doc, "LifecycleConfiguration");
	for (n = rc ? NULL : root->children; n && rc == S3XML_OK; n = n->next) {
		struct s3_lifecycle_rule *r;

		if (!s3xml_is(n, "Rule"))
			continue;
		r = s3xml_grow(l.rules, &cap, l.nrules, sizeof(*r), &rc);
		if (!r)
			break;
		l.rules = r;
		rc = parse_rule(&r[l.nrules], doc, n);
		if (rc == S3XML_OK)
			l.nrules++;
	}
	if (rc == S3XML_OK) {
		*lc = l;
		memset(&l, 0, sizeof(l));
	}
	s3_lifecycle_dispose(&l);
	xmlFreeDoc(doc);
	return rc;
}

/* A rule read from the server, copied node for node under ROOT. */
static int add_raw(xmlDoc *doc, xmlNode *root, const char *raw)
{
	xmlDoc *rdoc = NULL;
	xmlNode *rule = NULL, *copy;
	int rc;

	rc = s3xml_read(&rdoc, raw, strlen(raw));
	if (rc == S3XML_OK) {
		rule = xmlDocGetRootElement(rdoc);
		if (!s3xml_is(rule, "Rule"))
			rc = S3XML_EINVAL;
	} else if (rc != S3XML_ENOMEM) {
		rc = S3XML_EINVAL; /* the caller's RAW, not the server's body */
	}
	if (rc == S3XML_OK) {
		copy = xmlDocCopyNode(rule, doc, 1);
		if (!copy)
			rc = S3XML_ENOMEM;
		else if (!xmlAddChild(root, copy)) {
			xmlFreeNode(copy);
			rc = S3XML_ENOMEM;
		}
	}
	xmlFreeDoc(rdoc);
	return rc;
}

/*
 * One of our rules, in the order of the User Guide's examples:
 *   <Rule><ID/><Filter><Prefix/></Filter><Status/>
 *     <Expiration><Days/></Expiration>
 *     <AbortIncompleteMultipartUpload><DaysAfterInitiation/>
 *     </AbortIncompleteMultipartUpload></Rule>
 * (S3 reads the children of Rule in any order.)
 */
static int add_built(xmlNode *root, const struct s3_lifecycle_rule *r)
{
	const char *prefix = r->prefix ? r->prefix : "";
	xmlNode *rule, *filter, *action;
	char days[16];
	int rc;

	if ((r->id && (!r->id[0] || !s3xml_text_ok(r->id, ID_MAX))) ||
	    !s3xml_text_ok(prefix, PREFIX_MAX) ||
	    (r->expiration_days == 0 && r->abort_incomplete_days == 0))
		return S3XML_EINVAL;
	rc = s3xml_add(&rule, root, "Rule", NULL);
	if (rc == S3XML_OK && r->id)
		rc = s3xml_add(NULL, rule, "ID", r->id);
	if (rc == S3XML_OK)
		rc = s3xml_add(&filter, rule, "Filter", NULL);
	if (rc == S3XML_OK)
		rc = s3xml_add(NULL, filter, "Prefix", prefix);
	if (rc == S3XML_OK)
		rc = s3xml_add(NULL, rule, "Status",
			       r->enabled ? "Enabled" : "Disabled");
	if (rc == S3XML_OK && r->expiration_days) {
		snprintf(days, sizeof(days), "%u", r->expiration_days);
		rc = s3xml_add(&action, rule, "Expiration", NULL);
		if (rc == S3XML_OK)
			rc = s3xml_add(NULL, action, "Days", days);
	}
	if (rc == S3XML_OK && r->abort_incomplete_days) {
		snprintf(days, sizeof(days), "%u", r->abort_incomplete_days);
		rc = s3xml_add(&action, rule, "AbortIncompleteMultipartUpload",
			       NULL);
		if (rc == S3XML_OK)
			rc = s3xml_add(NULL, action, "DaysAfterInitiation",
				       days);
	}
	return rc;
}

int s3xml_build_lifecycle(const struct s3_lifecycle *lc, char **out)
{
	xmlDoc *doc = NULL;
	xmlNode *root;
	size_t i;
	int rc;

	*out = NULL;
	/* An empty configuration is refused by S3: delete it instead. */
	if (!lc || !lc->rules || lc->nrules == 0 || lc->nrules > RULES_MAX)
		return S3XML_EINVAL;
	rc = s3xml_new_doc(&doc, &root, "LifecycleConfiguration");
	for (i = 0; i < lc->nrules && rc == S3XML_OK; i++) {
		const struct s3_lifecycle_rule *r = &lc->rules[i];

		rc = r->raw ? add_raw(doc, root, r->raw) : add_built(root, r);
	}
	if (rc == S3XML_OK)
		rc = s3xml_doc_string(out, doc);
	xmlFreeDoc(doc);
	return rc;
}
