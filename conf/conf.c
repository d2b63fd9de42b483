/*
 * conf: load a configuration: defaults, the file, the environment, then
 * the checks that involve more than one key. The first error stops it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/wipe.h"
#include "conf/conf_internal.h"

/* A config file is small; anything bigger is not one. */
#define CONF_FILE_MAX (1024 * 1024)

void conf_seterr(conf_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

void *conf_key_ptr(conf *c, const struct conf_key *k)
{
	return (char *)c + k->offset;
}

const void *conf_key_cptr(const conf *c, const struct conf_key *k)
{
	return (const char *)c + k->offset;
}

void conf_free(conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < conf_nkeys; i++)
		conf_value_clear(&conf_keys[i], conf_key_ptr(c, &conf_keys[i]));
	free(c->path);
	if (c->meta != NULL)
		free(c->meta->dir);
	free(c->meta);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

/* A new conf holding every default. NAME is the file, for relative
 * file names and messages. */
static int conf_new(conf **out, const char *name, conf_error *err)
{
	const struct conf_set how = {.where = "default",
				     .src = CONF_FROM_DEFAULT};
	const char *slash = strrchr(name, '/');
	conf *c;
	int rc = CONF_ENOMEM;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		goto out;
	c->meta = calloc(1,
			 sizeof(*c->meta) + conf_nkeys * sizeof(c->meta->v[0]));
	c->path = strdup(name);
	if (c->meta == NULL || c->path == NULL)
		goto out;
	if (slash != NULL) {
		c->meta->dir = strndup(name, slash == name ? 1 : slash - name);
		if (c->meta->dir == NULL)
			goto out;
	}
	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];

		if (k->def == NULL)
			continue;
		rc = conf_value_set(c, k, conf_key_ptr(c, k), k->def, &how,
				    err);
		if (rc != CONF_OK)
			goto out;
	}
	*out = c;
	c = NULL;
	rc = CONF_OK;
out:
	conf_free(c);
	return rc;
}

/* The environment beats the file; an empty variable is not set. */
static int conf_apply_env(conf *c, conf_error *err)
{
	char where[128];
	int rc;

	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];

		for (size_t j = 0; j < 2 && k->env[j] != NULL; j++) {
			const char *v = getenv(k->env[j]);
			struct conf_set how = {.where = where,
					       .src = CONF_FROM_ENV,
					       .env = k->env[j]};

			if (v == NULL || *v == '\0')
				continue;
			snprintf(where, sizeof(where), "environment %s",
				 k->env[j]);
			rc = conf_value_set(c, k, conf_key_ptr(c, k), v, &how,
					    err);
			if (rc != CONF_OK)
				return rc;
			break;
		}
	}
	return CONF_OK;
}

static const struct conf_value_meta *meta_of(const conf *c, const char *section,
					     const char *key)
{
	const struct conf_key *k = conf_key_find(section, key);

	return k != NULL ? &c->meta->v[conf_key_index(k)] : NULL;
}

/* Record that KEY in [database] got its value the way FROM did. */
static void same_source(conf *c, const char *key, const char *from)
{
	const struct conf_value_meta *src = meta_of(c, "database", from);
	const struct conf_key *k = conf_key_find("database", key);

	if (src != NULL && k != NULL)
		c->meta->v[conf_key_index(k)] = *src;
}

/* The database name: set, or from conninfo or dsn; needed for the dump
 * tools, whose name the CLI cannot guess. */
static int conf_derive_name(conf *c, conf_error *err)
{
	const char *from = "conninfo", *why = NULL;
	char *name = NULL;
	int rc = CONF_OK;

	if (c->database.name != NULL)
		return CONF_OK;
	/* Both were checked when they were set: they parse. */
	if (c->database.conninfo != NULL)
		rc = conf_dbname_from_conninfo(&name, c->database.conninfo);
	if (rc == CONF_OK && name == NULL && c->database.dsn != NULL) {
		from = "dsn";
		rc = conf_dbname_from_url(&name, c->database.dsn, false);
	}
	if (rc == CONF_OK && name != NULL) {
		rc = conf_check_dbname(&name, &why);
		if (rc == CONF_ESYNTAX)
			conf_seterr(err,
				    "%s: database name '%.100s' from %s %s; "
				    "set name in [database]",
				    c->path, name, from, why);
	}
	if (rc != CONF_OK) {
		free(name);
		return rc;
	}
	if (name != NULL) {
		c->database.name = name;
		same_source(c, "name", from);
		return CONF_OK;
	}
	if (c->database.driver == CONF_DRIVER_POSTGRES ||
	    c->database.driver == CONF_DRIVER_MYSQL) {
		conf_seterr(err,
			    "%s: missing required key 'name' in [database] "
			    "(no database name in conninfo or dsn)",
			    c->path);
		return CONF_EMISSING;
	}
	return CONF_OK;
}

static int later_line(const struct conf_value_meta *a,
		      const struct conf_value_meta *b)
{
	int la = a != NULL ? a->line : 0, lb = b != NULL ? b->line : 0;

	return la > lb ? la : lb;
}

uint64_t conf_longest_run(const conf *c)
{
	return c->database.timeout > 0 ? c->database.timeout + CONF_RUN_TAIL
				       : CONF_LONGEST_RUN_DEFAULT;
}

int conf_longest_run_days(const conf *c)
{
	return (int)((conf_longest_run(c) + 86399) / 86400);
}

/* [retention] abort_incomplete_days: the bucket aborts an upload that
 * old, so it may not be shorter than the longest run; unset, it is the
 * longest run in whole days. */
static int conf_check_abort_days(conf *c, conf_error *err)
{
	const struct conf_value_meta *m =
		meta_of(c, "retention", "abort_incomplete_days");
	int need = conf_longest_run_days(c);
	char run[CONF_FORMAT_MAX];

	if (c->retention.abort_incomplete_days == 0) {
		c->retention.abort_incomplete_days = need;
		return CONF_OK;
	}
	if (c->retention.abort_incomplete_days >= need)
		return CONF_OK;
	conf_format_duration(run, sizeof(run), conf_longest_run(c));
	conf_seterr(err,
		    "%s:%d: abort_incomplete_days = %d in [retention] is "
		    "shorter than a backup may run (%s, %s): the bucket would "
		    "abort an upload still in progress; set %d or more%s",
		    c->path, m != NULL ? m->line : 0,
		    c->retention.abort_incomplete_days, run,
		    c->database.timeout > 0 ? "[database] timeout + 1h"
					    : "without a [database] timeout",
		    need,
		    c->database.timeout > 0 ? ", or a shorter timeout"
					    : ", or set [database] timeout");
	return CONF_ESYNTAX;
}

/* The rules that involve more than one key. */
static int conf_validate(conf *c, conf_error *err)
{
	const struct conf_value_meta *kf, *pf;
	int rc;

	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];

		if ((k->flags & CONF_F_REQUIRED) != 0 &&
		    *(char *const *)conf_key_cptr(c, k) == NULL) {
			conf_seterr(err,
				    "%s: missing required key '%s' in [%s]",
				    c->path, k->name, k->section);
			return CONF_EMISSING;
		}
	}
	if (c->database.driver == CONF_DRIVER_COMMAND &&
	    c->database.command == NULL) {
		conf_seterr(err,
			    "%s: missing required key 'command' in [database] "
			    "(needed by driver = command)",
			    c->path);
		return CONF_EMISSING;
	}
	rc = conf_derive_name(c, err);
	if (rc != CONF_OK)
		return rc;

	kf = meta_of(c, "encryption", "key_file");
	pf = meta_of(c, "encryption", "passphrase_file");
	if (c->encryption.key_file != NULL &&
	    c->encryption.passphrase_file != NULL) {
		conf_seterr(err,
			    "%s:%d: key_file and passphrase_file in "
			    "[encryption] exclude each other; set only one",
			    c->path, later_line(kf, pf));
		return CONF_ESYNTAX;
	}
	if (c->encryption.enabled && c->encryption.key_file == NULL &&
	    c->encryption.passphrase_file == NULL) {
		conf_seterr(err,
			    "%s: missing required key 'key_file' or "
			    "'passphrase_file' in [encryption] (needed by "
			    "enabled = true)",
			    c->path);
		return CONF_EMISSING;
	}
	return conf_check_abort_days(c, err);
}

int conf_parse(conf **out, const char *name, const char *text, conf_error *err)
{
	conf *c = NULL;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (err != NULL)
		err->msg[0] = '\0';
	if (out == NULL || name == NULL || text == NULL) {
		conf_seterr(err, "conf_parse: no output, name or text");
		return CONF_ESYNTAX;
	}
	rc = conf_new(&c, name, err);
	if (rc == CONF_OK)
		rc = conf_ini_apply(c, name, text, err);
	if (rc == CONF_OK)
		rc = conf_apply_env(c, err);
	if (rc == CONF_OK)
		rc = conf_validate(c, err);
	if (rc != CONF_OK)
		goto out;
	*out = c;
	c = NULL;
out:
	if (rc == CONF_ENOMEM && err != NULL && err->msg[0] == '\0')
		conf_seterr(err, "%s: out of memory", name);
	conf_free(c);
	return rc;
}

/* Read all of PATH into a new string. */
static int read_text(char **out, const char *path, conf_error *err)
{
	char *buf = NULL;
	struct stat st;
	size_t len = 0;
	int fd, rc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) != 0) {
		conf_seterr(err, "cannot read config %s: %s", path,
			    strerror(errno));
		if (fd >= 0)
			close(fd);
		return CONF_EIO;
	}
	/* The config runs commands (driver = command, the dump tools' PATH):
	 * only its owner may change it, and that is us or root (as ssh asks
	 * of its config). */
	rc = conf_check_owner(&st, CONF_TRUST_CONFIG, "config", path, err);
	if (rc != CONF_OK)
		goto out;
	if ((st.st_mode & 022) != 0) {
		conf_seterr(err,
			    "config '%s': permissions %04o let others change "
			    "it; it must be writable by its owner only "
			    "(chmod go-w %s)",
			    path, (unsigned)(st.st_mode & 07777), path);
		rc = CONF_EPERM;
		goto out;
	}
	buf = malloc(CONF_FILE_MAX + 1);
	if (buf == NULL) {
		rc = CONF_ENOMEM;
		goto out;
	}
	while (len <= CONF_FILE_MAX) {
		ssize_t n = read(fd, buf + len, CONF_FILE_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			conf_seterr(err, "cannot read config %s: %s", path,
				    strerror(errno));
			rc = CONF_EIO;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CONF_FILE_MAX) {
		conf_seterr(err, "cannot read config %s: larger than 1 MiB",
			    path);
		rc = CONF_EIO;
		goto out;
	}
	if (memchr(buf, '\0', len) != NULL) {
		conf_seterr(err, "%s: not a text file (it holds NUL bytes)",
			    path);
		rc = CONF_ESYNTAX;
		goto out;
	}
	buf[len] = '\0';
	*out = buf;
	buf = NULL;
	rc = CONF_OK;
out:
	if (buf != NULL) {
		OPENSSL_cleanse(buf, CONF_FILE_MAX + 1);
		free(buf);
	}
	close(fd);
	return rc;
}

int conf_load(conf **out, const char *path, conf_error *err)
{
	char *text = NULL;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (err != NULL)
		err->msg[0] = '\0';
	if (out == NULL || path == NULL) {
		conf_seterr(err, "conf_load: no output or path");
		return CONF_ESYNTAX;
	}
	rc = read_text(&text, path, err);
	if (rc == CONF_OK)
		rc = conf_parse(out, path, text, err);
	if (rc == CONF_ENOMEM && err != NULL && err->msg[0] == '\0')
		conf_seterr(err, "%s: out of memory", path);
	/* The file may hold a conninfo password: wipe our copy. */
	wipe_free_str(text);
	return rc;
}

static const struct conf_type_retention *find_type(const conf *c,
						   const char *type)
{
	if (c == NULL || type == NULL)
		return NULL;
	for (size_t i = 0; i < c->retention.ntypes; i++) {
		if (strcmp(c->retention.types[i].name, type) == 0)
			return &c->retention.types[i];
	}
	return NULL;
}

int conf_type_days(const conf *c, const char *type)
{
	const struct conf_type_retention *t = find_type(c, type);

	return t != NULL && t->days >= 0 ? t->days : c->retention.days;
}

int conf_type_keep_last(const conf *c, const char *type)
{
	const struct conf_type_retention *t = find_type(c, type);

	return t != NULL && t->keep_last >= 0 ? t->keep_last
					      : c->retention.keep_last;
}

uint64_t conf_type_max_age(const conf *c, const char *type)
{
	const struct conf_type_retention *t = find_type(c, type);

	return t != NULL && t->max_age > 0 ? t->max_age : c->retention.max_age;
}

enum conf_source conf_get_source(const conf *c, const char *section,
				 const char *key)
{
	const struct conf_value_meta *m;
	const struct conf_key *k;
	const char *dot;
	char base[64];

	if (c == NULL || c->meta == NULL || section == NULL || key == NULL)
		return CONF_FROM_DEFAULT;
	m = meta_of(c, section, key);
	if (m != NULL)
		return m->src;
	/* KEY.TYPE in [retention]: only the file sets those. */
	dot = strchr(key, '.');
	if (dot == NULL || (size_t)(dot - key) >= sizeof(base))
		return CONF_FROM_DEFAULT;
	memcpy(base, key, (size_t)(dot - key));
	base[dot - key] = '\0';
	k = conf_key_find(section, base);
	if (k == NULL || (k->flags & CONF_F_TYPED) == 0)
		return CONF_FROM_DEFAULT;
	for (size_t i = 0; i < c->retention.ntypes; i++) {
		if (strcmp(c->retention.types[i].name, dot + 1) == 0)
			return c->meta->type_line[i][k->typed_slot] > 0
				       ? CONF_FROM_FILE
				       : CONF_FROM_DEFAULT;
	}
	return CONF_FROM_DEFAULT;
}
