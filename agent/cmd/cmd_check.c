/*
 * offsite check: can a backup be taken here, stored, kept and restored?
 * One line per check on stdout, in the order a backup needs them:
 *
 *   ok    NAME         what was found
 *   FAIL  NAME         what is wrong, and how to fix it
 *   skip  NAME         why it was not checked
 *
 * The exit status is 1 when a check fails, else 0. Nothing is left
 * behind: the test object is deleted, the catalog's table is created
 * only in a transaction that is rolled back. Every line passes through
 * redact, and none is built from a secret.
 */
#include "agent/cmd/cmd.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "agent/ops/catalog.h"
#include "agent/pipe/crypto.h"
#include "agent/pipe/fetch.h"
#include "agent/proc/source.h"
#include "agent/ops/stale.h"
#include "agent/repo/storage.h"
#include "agent/ops/trust.h"
#include "retention/retention.h"
#include "common/codec.h"
#include "common/redact.h"
#include "s3/s3.h"

const char cmd_check_usage[] =
	"usage: offsite check\n"
	"\n"
	"Check, without taking a backup, that a backup can be taken and\n"
	"restored: the configuration, the encryption key, the dump tool\n"
	"and the database connection, the endpoint, the credentials and\n"
	"the bucket (a small object is written under the prefix, read\n"
	"back and deleted), the lifecycle rules that expire backups, and\n"
	"the catalog. Prints one line per check: ok, FAIL with what to\n"
	"fix, or skip with why. The exit status is 1 when a check fails.\n";

/* The checks, in the order they are printed. */
static const char *const check_names[] = {
	"config",      "encryption", "dump-tool", "database", "endpoint",
	"credentials", "bucket",     "write",	  "read",     "delete",
	"duration",    "lifecycle",  "catalog",
};
#define NCHECKS	   (sizeof(check_names) / sizeof(check_names[0]))
#define NAME_WIDTH 11 /* the longest name: credentials */

/* The test object: small, and capped when read back. */
#define PROBE_DIR "offsite-check/"
#define PROBE_MAX 4096

/* For the storage checks: fail fast rather than retry for minutes. */
#define CHECK_MAX_ATTEMPTS	 2
#define CHECK_RETRY_BUDGET_MS	 2000
#define CHECK_CONNECT_TIMEOUT_MS 5000
#define CHECK_STALL_TIMEOUT_S	 20

enum verdict { CHECK_OK, CHECK_FAIL, CHECK_SKIP, CHECK_WARN };

struct report {
	unsigned failed; /* checks that failed */
};

/* Print the line of the check NAME. */
static void say(struct report *rep, enum verdict v, const char *name,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void say(struct report *rep, enum verdict v, const char *name,
		const char *fmt, ...)
{
	static const char *const words[] = {[CHECK_OK] = "ok",
					    [CHECK_FAIL] = "FAIL",
					    [CHECK_SKIP] = "skip",
					    [CHECK_WARN] = "WARN"};
	char detail[1600], line[1800];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "%-4s  %-*s  %s", words[v], NAME_WIDTH,
		 name, detail);
	redact(line, sizeof(line));
	cli_outf("%s\n", line);
	fflush(stdout);
	if (v == CHECK_FAIL)
		rep->failed++;
}

/* Skip every check from FIRST to the end of LAST, with one reason. */
static void skip_range(struct report *rep, const char *first, const char *last,
		       const char *why)
{
	bool in = false;

	for (size_t i = 0; i < NCHECKS; i++) {
		in = in || strcmp(check_names[i], first) == 0;
		if (in)
			say(rep, CHECK_SKIP, check_names[i], "%s", why);
		if (in && strcmp(check_names[i], last) == 0)
			break;
	}
}

/* ---- encryption ---- */

static void check_key(struct report *rep, const conf *c)
{
	struct crypto_key key;
	struct agent_error err = {0};
	char id[CRYPTO_KEY_ID_HEX_SIZE];

	if (!c->encryption.enabled) {
		say(rep, CHECK_SKIP, "encryption",
		    "encryption is off ([encryption] enabled = false)");
		return;
	}
	if (c->encryption.key_file != NULL) {
		if (crypto_key_load_file(&key, c->encryption.key_file, &err)) {
			say(rep, CHECK_FAIL, "encryption", "%s", err.msg);
			return;
		}
		crypto_key_id_hex(id, key.id);
		say(rep, CHECK_OK, "encryption", "key file %s, key id %s",
		    c->encryption.key_file, id);
	} else {
		if (crypto_key_load_passphrase(
			    &key, c->encryption.passphrase_file, NULL, &err)) {
			say(rep, CHECK_FAIL, "encryption", "%s", err.msg);
			return;
		}
		say(rep, CHECK_OK, "encryption", "passphrase file %s",
		    c->encryption.passphrase_file);
	}
	crypto_key_dispose(&key);
}

/* ---- the dump tool and the database ---- */

static void check_source(struct report *rep, const conf *c)
{
	struct agent_error err = {0};
	char *tool = NULL, *db = NULL;

	if (c->database.driver == CONF_DRIVER_STDIN) {
		skip_range(rep, "dump-tool", "database",
			   "driver = stdin: the dump is piped in");
		return;
	}
	if (source_check_tool(&tool, c, NULL, &err) == AGENT_OK)
		say(rep, CHECK_OK, "dump-tool", "%s", tool);
	else
		say(rep, CHECK_FAIL, "dump-tool", "%s", err.msg);

	memset(&err, 0, sizeof(err));
	if (c->database.driver == CONF_DRIVER_COMMAND)
		say(rep, CHECK_SKIP, "database",
		    "driver = command: the command connects by itself");
	else if (source_check_database(&db, c, tool, &err) == AGENT_OK)
		say(rep, CHECK_OK, "database", "%s", db ? db : "");
	else
		say(rep, CHECK_FAIL, "database", "%s", err.msg);
	free(tool);
	free(db);
}

/* ---- storage ---- */

struct place {
	const conf *c;
	char where[1024]; /* "s3://bucket/prefix" */
	char endpoint[512];
};

/* What one ListObjectsV2 under the prefix says about the endpoint, the
 * credentials and the bucket. Returns true when the object checks can
 * follow. */
static bool check_listing(struct report *rep, const struct place *p,
			  s3_client *s3)
{
	const struct s3_list_entry *e = NULL;
	s3_list *it = NULL;
	s3_error err = {0};
	int n;

	n = s3_list_new(&it, s3, p->c->storage.prefix, NULL, &err);
	if (n == S3_OK) {
		s3_list_set_page_size(it, 1);
		n = s3_list_next(&e, it, &err);
	}
	s3_list_free(it);

	if (n < 0 && err.code == S3_ECRED) {
		say(rep, CHECK_SKIP, "endpoint", "no credentials to ask with");
		say(rep, CHECK_FAIL, "credentials", "%s", err.msg);
		skip_range(rep, "bucket", "lifecycle", "no credentials");
		return false;
	}
	if (n < 0 && err.http_status == 0) {
		say(rep, CHECK_FAIL, "endpoint",
		    "%s does not answer: %s (check endpoint in [storage])",
		    p->endpoint, err.msg);
		skip_range(rep, "credentials", "lifecycle",
			   "the endpoint does not answer");
		return false;
	}
	say(rep, CHECK_OK, "endpoint", "%s answers", p->endpoint);

	if (n < 0 && strcmp(err.s3_code, "InvalidAccessKeyId") == 0) {
		say(rep, CHECK_FAIL, "credentials",
		    "the server does not know the access key "
		    "(InvalidAccessKeyId): check access_key in [storage] or "
		    "AWS_ACCESS_KEY_ID");
	} else if (n < 0 && strcmp(err.s3_code, "SignatureDoesNotMatch") == 0) {
		say(rep, CHECK_FAIL, "credentials",
		    "the secret key does not match the access key "
		    "(SignatureDoesNotMatch): check secret_key_file in "
		    "[storage] or AWS_SECRET_ACCESS_KEY");
	} else if (n < 0 && err.http_status == 403) {
		/* Refused before the bucket could say whether it exists. */
		say(rep, CHECK_FAIL, "credentials",
		    "refused listing %s: %s (the credentials need "
		    "s3:ListBucket, s3:PutObject, s3:GetObject and "
		    "s3:DeleteObject)",
		    p->where, err.msg);
	} else {
		say(rep, CHECK_OK, "credentials", "accepted");
		if (n >= 0) {
			say(rep, CHECK_OK, "bucket", "%s exists, %s", p->where,
			    n > 0 ? "holds objects" : "empty");
			return true;
		}
		if (strcmp(err.s3_code, "NoSuchBucket") == 0)
			say(rep, CHECK_FAIL, "bucket",
			    "bucket %s does not exist (NoSuchBucket): create "
			    "it, or fix bucket in [storage]",
			    p->c->storage.bucket);
		else
			say(rep, CHECK_FAIL, "bucket", "cannot list %s: %s",
			    p->where, err.msg);
		skip_range(rep, "write", "lifecycle", "no bucket to use");
		return false;
	}
	skip_range(rep, "bucket", "lifecycle", "the credentials were refused");
	return false;
}

/* A name for this host in a key: [A-Za-z0-9.-] only. */
static void host_token(char *out, size_t size)
{
	char host[256] = "";

	gethostname(host, sizeof(host) - 1);
	snprintf(out, size, "%.63s", host[0] ? host : "host");
	for (char *p = out; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
			*p = '-';
	}
}

/* Write a small object under the prefix, read it back, delete it. */
static void check_object(struct report *rep, const struct place *p,
			 s3_client *s3)
{
	struct s3_put_options po = {.content_type = "text/plain"};
	unsigned char rnd[8];
	char host[64], hex[17], *key = NULL, *body = NULL, *got = NULL;
	size_t len = 0;
	s3_error err = {0};

	host_token(host, sizeof(host));
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		say(rep, CHECK_FAIL, "write", "no random bytes for a test key");
		skip_range(rep, "read", "delete", "nothing was written");
		return;
	}
	hex_encode(hex, rnd, sizeof(rnd));
	if (asprintf(&key, "%s." PROBE_DIR "%s-%s", p->c->storage.prefix, host,
		     hex) < 0 ||
	    asprintf(&body, "offsite check from %s, %s\n", host, hex) < 0) {
		say(rep, CHECK_FAIL, "write", "out of memory");
		skip_range(rep, "read", "delete", "nothing was written");
		goto out;
	}

	if (s3_put_object(s3, key, body, strlen(body), &po, &err) != S3_OK) {
		say(rep, CHECK_FAIL, "write",
		    "cannot write %s: %s (the credentials need s3:PutObject "
		    "under the prefix)",
		    key, err.msg);
		skip_range(rep, "read", "delete", "nothing was written");
		goto out;
	}
	say(rep, CHECK_OK, "write", "wrote %s (%zu bytes)", key, strlen(body));

	if (s3_get_object_buf(&got, &len, s3, key, PROBE_MAX, &err) != S3_OK)
		say(rep, CHECK_FAIL, "read", "cannot read %s back: %s", key,
		    err.msg);
	else if (len != strlen(body) || memcmp(got, body, len) != 0)
		say(rep, CHECK_FAIL, "read",
		    "read %s back, but it holds other bytes (%zu, not %zu)",
		    key, len, strlen(body));
	else
		say(rep, CHECK_OK, "read", "read it back, the same %zu bytes",
		    len);

	memset(&err, 0, sizeof(err));
	if (s3_delete_object(s3, key, &err) != S3_OK)
		say(rep, CHECK_FAIL, "delete",
		    "cannot delete %s: %s (delete it by hand; backups need "
		    "s3:DeleteObject to abort failed uploads)",
		    key, err.msg);
	else
		say(rep, CHECK_OK, "delete", "deleted it");
out:
	free(key);
	free(body);
	free(got);
}

static void check_lifecycle(struct report *rep, const struct place *p,
			    s3_client *s3)
{
	struct s3_lifecycle lc = {0};
	s3_error err = {0};
	char types[1024] = "", type[RETENTION_NAME_MAX];
	unsigned whole_days = 0;
	size_t used = 0;

	if (s3_lifecycle_get(&lc, s3, &err) != S3_OK) {
		say(rep, CHECK_FAIL, "lifecycle",
		    "cannot read the lifecycle rules of %s: %s",
		    p->c->storage.bucket, err.msg);
		return;
	}
	for (size_t i = 0; i < lc.nrules; i++) {
		const struct s3_lifecycle_rule *r = &lc.rules[i];
		enum retention_reach reach;
		int w;

		reach = retention_rule_reach(r, p->c->storage.prefix, type);
		if (reach != RETENTION_REACH_ALL &&
		    reach != RETENTION_REACH_TYPE)
			continue;
		if (reach == RETENTION_REACH_ALL) {
			/* The rule that fires first is the one that counts. */
			if (whole_days == 0 || r->expiration_days < whole_days)
				whole_days = r->expiration_days;
			continue;
		}
		w = snprintf(types + used, sizeof(types) - used, "%s%s %ud",
			     used ? ", " : "", type, r->expiration_days);
		if (w > 0 && (size_t)w < sizeof(types) - used)
			used += (size_t)w;
	}
	s3_lifecycle_dispose(&lc);

	if (whole_days == 0 && used == 0)
		say(rep, CHECK_FAIL, "lifecycle",
		    "no lifecycle rule expires backups under %s: run `offsite "
		    "retention apply`",
		    p->where);
	else if (whole_days != 0 && used != 0)
		say(rep, CHECK_OK, "lifecycle",
		    "backups under %s expire after %ud; by type: %s", p->where,
		    whole_days, types);
	else if (whole_days != 0)
		say(rep, CHECK_OK, "lifecycle",
		    "backups under %s expire after %ud", p->where, whole_days);
	else
		say(rep, CHECK_OK, "lifecycle",
		    "backups under %s expire by type: %s", p->where, types);
}

/*
 * The last backup's duration (its manifest has it) against the longest a
 * run may last: past half of it, a slower run risks the bucket's rule
 * that aborts unfinished uploads (agent/stale.h). A warning, not a
 * failure: today's backups still work.
 */
static void check_duration(struct report *rep, const struct place *p,
			   s3_client *s3)
{
	const conf *c = p->c;
	const char *db = c->database.name;
	uint64_t longest = stale_longest_run(c);
	struct fetch_backup b = {0};
	struct agent_error serr = {0};
	char *key = NULL, took[CONF_FORMAT_MAX], may[CONF_FORMAT_MAX];
	const char *why = c->database.timeout ? "[database] timeout + 1h"
					      : "without a [database] timeout";
	struct retention_error err;
	struct trust t;
	int rc;

	if (db == NULL) {
		say(rep, CHECK_SKIP, "duration",
		    "no database name ([database] name is not set)");
		return;
	}
	/* The last backup as restore would find it: one that counts. */
	if (trust_init(&t, c, false, &serr) != 0) {
		say(rep, CHECK_SKIP, "duration", "%s", serr.msg);
		trust_dispose(&t);
		return;
	}
	rc = trust_resolve(&key, s3, &t, c->storage.prefix, RETENTION_LATEST,
			   NULL, db, &err);
	if (rc == RETENTION_ENOTFOUND) {
		say(rep, CHECK_SKIP, "duration", "no complete backup of %s yet",
		    db);
		trust_dispose(&t);
		return;
	}
	if (rc != RETENTION_OK) {
		say(rep, CHECK_FAIL, "duration",
		    "cannot find the last backup of %s: %s", db, err.msg);
		trust_dispose(&t);
		return;
	}
	if (fetch_open(&b, s3, key, &t, &serr) != AGENT_OK) {
		say(rep, CHECK_FAIL, "duration", "%s: %s", key, serr.msg);
	} else if (b.m.duration < 0) {
		say(rep, CHECK_SKIP, "duration",
		    "the manifest of %s does not say how long it took", key);
	} else {
		if (b.m.duration < 60)
			snprintf(took, sizeof(took), "%.1fs", b.m.duration);
		else
			conf_format_duration(took, sizeof(took),
					     (uint64_t)(b.m.duration + 0.5));
		conf_format_duration(may, sizeof(may), longest);
		if (b.m.duration * 2 >= (double)longest)
			say(rep, CHECK_WARN, "duration",
			    "the last backup of %s took %s, over half the "
			    "longest a backup may run (%s, %s): a slower one "
			    "may be aborted as unfinished; set [database] "
			    "timeout above what a backup needs",
			    db, took, may, why);
		else
			say(rep, CHECK_OK, "duration",
			    "the last backup of %s took %s; a backup may run "
			    "%s (%s)",
			    db, took, may, why);
	}
	fetch_backup_dispose(&b);
	free(key);
	trust_dispose(&t);
}

static void check_storage(struct report *rep, const conf *c)
{
	struct place p = {.c = c};
	struct storage st;
	s3_client *s3 = NULL;
	s3_error err = {0};

	snprintf(p.where, sizeof(p.where), "s3://%s/%s", c->storage.bucket,
		 c->storage.prefix);
	if (c->storage.endpoint != NULL)
		snprintf(p.endpoint, sizeof(p.endpoint), "%s",
			 c->storage.endpoint);
	else
		snprintf(p.endpoint, sizeof(p.endpoint), "AWS S3 (%s)",
			 c->storage.region);

	if (storage_in_clear(c)) {
		/* A warning, or the refusal storage_init would give. */
		say(rep, c->storage.allow_http ? CHECK_WARN : CHECK_FAIL,
		    "endpoint",
		    "%s is plain http to a host that is not loopback: "
		    "" STORAGE_IN_CLEAR_RISK "%s",
		    p.endpoint,
		    c->storage.allow_http
			    ? " (allow_http = true)"
			    : "; use https://, or set allow_http = true in "
			      "[storage] to accept that");
		if (!c->storage.allow_http) {
			skip_range(rep, "credentials", "lifecycle",
				   "the endpoint is refused");
			return;
		}
	}
	if (storage_init(&st, c, &err) != S3_OK) {
		say(rep, CHECK_SKIP, "endpoint", "no credentials to ask with");
		say(rep, CHECK_FAIL, "credentials", "%s", err.msg);
		skip_range(rep, "bucket", "lifecycle", "no credentials");
		storage_dispose(&st);
		return;
	}
	st.o.max_attempts = CHECK_MAX_ATTEMPTS;
	st.o.retry_budget_ms = CHECK_RETRY_BUDGET_MS;
	st.o.connect_timeout_ms = CHECK_CONNECT_TIMEOUT_MS;
	st.o.stall_timeout_s = CHECK_STALL_TIMEOUT_S;
	if (storage_client(&s3, &st, NULL, NULL, &err) != S3_OK) {
		say(rep, CHECK_FAIL, "endpoint", "%s", err.msg);
		skip_range(rep, "credentials", "lifecycle",
			   "no client for the endpoint");
	} else if (check_listing(rep, &p, s3)) {
		check_object(rep, &p, s3);
		check_duration(rep, &p, s3);
		check_lifecycle(rep, &p, s3);
	}
	s3_client_free(s3);
	storage_dispose(&st);
}

/* ---- catalog ---- */

static void check_catalog(struct report *rep, const conf *c)
{
	char detail[1024];

	if (c->catalog.conninfo == NULL || c->catalog.conninfo[0] == '\0') {
		say(rep, CHECK_SKIP, "catalog",
		    "no catalog ([catalog] conninfo is not set)");
		return;
	}
	if (catalog_check(c, detail, sizeof(detail)) == 0)
		say(rep, CHECK_OK, "catalog", "%s", detail);
	else
		say(rep, CHECK_FAIL, "catalog", "%s", detail);
}

int cmd_check(const struct cli_globals *g, const conf *unused, int argc,
	      char **argv)
{
	static const struct option none[] = {{NULL, 0, NULL, 0}};
	struct report rep = {0};
	struct agent_error cerr;
	conf *c = NULL;
	int ch;

	(void)unused;
	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":", none, NULL)) != -1)
		return cli_option_error(argv[0], ch, argv);
	if (optind < argc)
		return cli_usage_error(argv[0], "unexpected argument '%s'",
				       argv[optind]);

	/* A config that does not load is the first failed check. */
	if (cli_config_try(&c, g, &cerr) != AGENT_OK) {
		say(&rep, CHECK_FAIL, "config", "%s", cerr.msg);
		skip_range(&rep, check_names[1], check_names[NCHECKS - 1],
			   "the config did not load");
		return EXIT_FAILED;
	}
	say(&rep, CHECK_OK, "config", "%s loads and is valid", c->path);
	check_key(&rep, c);
	check_source(&rep, c);
	check_storage(&rep, c);
	check_catalog(&rep, c);
	conf_free(c);
	return rep.failed ? EXIT_FAILED : EXIT_OK;
}
