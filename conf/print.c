/*
 * print: the effective configuration as INI (`offsite config`), and the
 * reference of every key as Markdown (the README's configuration table).
 * Both walk the key table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_internal.h"

/* True if K is the first row of its section. */
static bool section_starts(size_t i)
{
	for (size_t j = 0; j < i; j++) {
		if (strcmp(conf_keys[j].section, conf_keys[i].section) == 0)
			return false;
	}
	return true;
}

/* Keys the file cannot set (secret_key: a secret file's contents or the
 * environment) are shown as comments, so the output still loads. */
static int print_line(FILE *fp, const char *lead, const char *name,
		      const char *suffix, const char *value)
{
	if (*value == '\0')
		return fprintf(fp, "%s%s%s =\n", lead, name, suffix) < 0;
	return fprintf(fp, "%s%s%s = %s\n", lead, name, suffix, value) < 0;
}

/* The KEY.TYPE values of SECTION, type by type. */
static int print_typed(const conf *c, FILE *fp, const char *section)
{
	char *value = NULL;
	char suffix[CONF_TYPE_NAME_MAX + 1];
	int rc;

	for (size_t t = 0; t < c->retention.ntypes; t++) {
		const struct conf_type_retention *tr = &c->retention.types[t];

		snprintf(suffix, sizeof(suffix), ".%s", tr->name);
		for (size_t i = 0; i < conf_nkeys; i++) {
			const struct conf_key *k = &conf_keys[i];
			const void *src = (const char *)tr + k->type_offset;

			if ((k->flags & CONF_F_TYPED) == 0 ||
			    strcmp(k->section, section) != 0)
				continue;
			if (k->kind == CONF_K_INT ? *(const int *)src < 0
						  : *(const uint64_t *)src == 0)
				continue; /* not set for this type */
			rc = conf_value_format(&value, k, src);
			if (rc != CONF_OK)
				return rc;
			rc = print_line(fp, "", k->name, suffix, value);
			free(value);
			if (rc != 0)
				return CONF_EIO;
		}
	}
	return CONF_OK;
}

int conf_print(const conf *c, FILE *fp)
{
	char *value = NULL;
	bool typed = false;
	int rc;

	if (c == NULL || fp == NULL)
		return CONF_ESYNTAX;
	if (fprintf(fp, "; offsite configuration from %s\n",
		    c->path != NULL ? c->path : "(defaults)") < 0)
		return CONF_EIO;
	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];
		const struct conf_value_meta *m =
			c->meta != NULL ? &c->meta->v[i] : NULL;

		if (section_starts(i)) {
			if (fprintf(fp, "\n[%s]\n", k->section) < 0)
				return CONF_EIO;
		}
		if (m != NULL && m->src == CONF_FROM_ENV && m->env != NULL &&
		    fprintf(fp, "; from %s\n", m->env) < 0)
			return CONF_EIO;
		rc = conf_value_format(&value, k, conf_key_cptr(c, k));
		if (rc != CONF_OK)
			return rc;
		rc = print_line(fp, (k->flags & CONF_F_NOFILE) != 0 ? "; " : "",
				k->name, "", value);
		free(value);
		if (rc != 0)
			return CONF_EIO;
		typed = typed || (k->flags & CONF_F_TYPED) != 0;
		/* The last row of a section with KEY.TYPE keys: add them. */
		if (typed && (i + 1 == conf_nkeys ||
			      strcmp(conf_keys[i + 1].section, k->section))) {
			rc = print_typed(c, fp, k->section);
			if (rc != CONF_OK)
				return rc;
			typed = false;
		}
	}
	return fflush(fp) == 0 && !ferror(fp) ? CONF_OK : CONF_EIO;
}

static bool numeric(const struct conf_key *k)
{
	return k->kind == CONF_K_SIZE || k->kind == CONF_K_DURATION ||
	       k->kind == CONF_K_UINT || k->kind == CONF_K_INT;
}

static const char *range_of(char *buf, size_t size, const struct conf_key *k)
{
	char lo[CONF_FORMAT_MAX], hi[CONF_FORMAT_MAX];

	snprintf(buf, size, "%s to %s",
		 conf_value_bound(lo, sizeof(lo), k, k->min),
		 conf_value_bound(hi, sizeof(hi), k, k->max));
	return buf;
}

int conf_describe(FILE *fp)
{
	char range[2 * CONF_FORMAT_MAX + 16];

	if (fp == NULL)
		return CONF_ESYNTAX;
	fprintf(fp, "| Section | Key | Default | Description |\n");
	fprintf(fp, "| --- | --- | --- | --- |\n");
	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];
		char def[64] = "";

		if ((k->flags & CONF_F_NOFILE) != 0 && k->env[0] == NULL)
			continue; /* only ever read from a file */
		if ((k->flags & CONF_F_REQUIRED) != 0)
			snprintf(def, sizeof(def), "(required)");
		else if (k->def != NULL && *k->def != '\0')
			snprintf(def, sizeof(def), "`%s`", k->def);
		fprintf(fp, "| `[%s]` | `%s` | %s | %s", k->section, k->name,
			def, k->help);
		if (numeric(k))
			fprintf(fp, " Range: %s.",
				range_of(range, sizeof(range), k));
		for (size_t j = 0; j < 2 && k->env[j] != NULL; j++)
			fprintf(fp, "%s`%s`", j == 0 ? " Environment: " : ", ",
				k->env[j]);
		fprintf(fp, "%s |\n", k->env[0] != NULL ? "." : "");
		if ((k->flags & CONF_F_TYPED) != 0)
			fprintf(fp,
				"| `[%s]` | `%s.TYPE` | `%s` | `%s` for "
				"backups of type TYPE (1 to %d of a-z 0-9 _ "
				"-; at most %d types). Range: %s. |\n",
				k->section, k->name, k->name, k->name,
				CONF_TYPE_NAME_MAX - 1, CONF_MAX_TYPES,
				range_of(range, sizeof(range), k));
	}
	return fflush(fp) == 0 && !ferror(fp) ? CONF_OK : CONF_EIO;
}
