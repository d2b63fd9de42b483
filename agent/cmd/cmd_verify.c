/*
 * offsite verify: read backups back and check them end to end, writing
 * nothing: the restore pipeline into a null sink. One line per backup on
 * stdout:
 *
 *   ok KEY (plain N bytes, stored N bytes)
 *   FAILED KEY: why          the backup is not intact (exit 4)
 *   ERROR KEY: why           it could not be checked (exit 1)
 *   skipped KEY: why         --all: no manifest (an incomplete backup),
 *                            dated in the future, or not encrypted where
 *                            encryption is configured
 */
#include "agent/cmd/cmd.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/pipe/fetch.h"
#include "agent/ops/log.h"
#include "agent/pipe/stages.h"
#include "agent/ops/stop.h"
#include "agent/repo/storage.h"
#include "retention/retention.h"

const char cmd_verify_usage[] =
	"usage: offsite verify KEY|latest|--all [--type TYPE] [--database DB]\n"
	"                      [--allow-unencrypted]\n"
	"\n"
	"Read backups back from the bucket and check them end to end,\n"
	"writing nothing: every encrypted segment's authentication, the\n"
	"gzip CRCs and lengths, the sizes and SHA-256 of the stored and the\n"
	"plain bytes against the manifest, and the end-of-dump marker of a\n"
	"plain pg_dump. One line per backup on standard output:\n"
	"\n"
	"  ok KEY (plain N bytes, stored N bytes)\n"
	"  FAILED KEY: WHY     the backup is not intact\n"
	"  ERROR KEY: WHY      it could not be checked (network, key...)\n"
	"  skipped KEY: WHY    --all: no manifest, dated in the future, or\n"
	"                      not encrypted where encryption is configured\n"
	"\n"
	"The exit status is 4 when a backup failed, else 1 after an error.\n"
	"\n"
	"  KEY            the backup with this key\n"
	"  latest         the newest complete backup of the configured\n"
	"                 database\n"
	"  --all          every backup under the prefix\n"
	"  --type TYPE    with latest or --all: of this type only\n"
	"  --database DB  with latest or --all: of this database only\n"
	"  --allow-unencrypted\n"
	"                 with encryption configured, check backups that\n"
	"                 are not encrypted too\n";

enum { OPT_ALL = 256, OPT_TYPE, OPT_DATABASE, OPT_ALLOW_UNENCRYPTED };

static const struct option verify_options[] = {
	{"all", no_argument, NULL, OPT_ALL},
	{"type", required_argument, NULL, OPT_TYPE},
	{"database", required_argument, NULL, OPT_DATABASE},
	{"allow-unencrypted", no_argument, NULL, OPT_ALLOW_UNENCRYPTED},
	{NULL, 0, NULL, 0},
};

struct verify {
	const conf *c;
	s3_client *s3;
	struct trust trust; /* which backups count, and the key */
	unsigned ok, failed, errors, skipped;
};

/* One line on stdout, as it happens; keys and reasons may hold text from
 * the bucket: escaped. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_voutf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

/* The configured key, for an encrypted backup. */
static const struct crypto_key *need_key(struct verify *v,
					 struct agent_error *err)
{
	const struct crypto_key *k = trust_key(&v->trust);

	if (k == NULL)
		agent_fail(err, AGENT_EIO,
			   "the backup is encrypted and no key is "
			   "configured (key_file or passphrase_file in "
			   "[encryption])");
	return k;
}

static void verify_one(struct verify *v, const char *key)
{
	struct agent_error err = {0};
	struct fetch_backup b;
	struct fetch_result res;
	struct stream *null = NULL;
	const struct crypto_key *ck = NULL;
	char secs[32];
	int rc;

	rc = fetch_open(&b, v->s3, key, &v->trust, &err);
	if (rc == AGENT_OK) {
		if (b.encrypted)
			ck = need_key(v, &err);
		if (b.encrypted && ck == NULL)
			rc = err.code;
		if (rc == AGENT_OK)
			rc = stage_null_new(&null, &err);
		if (rc == AGENT_OK)
			rc = fetch_run(&res, v->s3, &b, ck, null, &err);
		stream_free(null);
		fetch_backup_dispose(&b);
	}
	if (rc == AGENT_OK) {
		v->ok++;
		say("ok %s (plain %llu bytes, stored %llu bytes)\n", key,
		    (unsigned long long)res.plain_bytes,
		    (unsigned long long)res.stored_bytes);
		snprintf(secs, sizeof(secs), "%.1fs", res.seconds);
		log_event(LOG_INFO, "backup verified", "key", key, "duration",
			  secs, NULL);
	} else if (agent_code_is_integrity(rc)) {
		v->failed++;
		say("FAILED %s: %s\n", key, err.msg);
		log_event(LOG_ERROR, "backup failed verification", "key", key,
			  "error", err.msg, NULL);
	} else {
		v->errors++;
		say("ERROR %s: %s\n", key, err.msg);
		log_event(LOG_ERROR, "cannot verify the backup", "key", key,
			  "error", err.msg, NULL);
	}
}

static void verify_all(struct verify *v, const char *type, const char *database)
{
	struct retention_scan_options o;
	struct retention_backups all;
	struct retention_error err;

	trust_scan_options(&o, &v->trust, v->s3, type, database, true);
	if (retention_scan(&all, v->s3, v->c->storage.prefix, &o, &err) !=
	    RETENTION_OK) {
		log_event(LOG_ERROR, "cannot list backups", "error", err.msg,
			  NULL);
		v->errors++;
		return;
	}
	trust_warn_future(&all, &o);
	for (size_t i = 0; i < all.n && stop_requested() == 0; i++) {
		const struct retention_backup *x = &all.items[i];
		const char *skip = NULL;

		if (x->future)
			skip = "dated in the future (ignored)";
		else if (x->verdict == RETENTION_NO_MANIFEST)
			skip = "no manifest (an incomplete backup)";
		else if (v->trust.encrypted_only && !x->parsed.encrypted)
			/* Its manifest must agree with its key, or it fails:
			 * a key without .enc is not an encrypted backup. */
			skip = "not encrypted, and encryption is configured "
			       "(--allow-unencrypted to check it)";
		if (skip) {
			v->skipped++;
			say("skipped %s: %s\n", x->key, skip);
			continue;
		}
		verify_one(v, x->key);
	}
	if (all.n == 0)
		log_event(LOG_WARN, "no backups found", "prefix",
			  v->c->storage.prefix, "type", type ? type : "any",
			  "database", database ? database : "any", NULL);
	retention_backups_dispose(&all);
}

int cmd_verify(const struct cli_globals *g, const conf *c, int argc,
	       char **argv)
{
	struct verify v = {0};
	struct agent_error err = {0};
	const char *type = NULL, *database = NULL;
	char *key = NULL, counts[128];
	bool all = false, st_ready = false, allow_unencrypted = false;
	struct storage st;
	s3_error serr;
	int ch, rc = EXIT_FAILED;

	(void)g;
	v.c = c;
	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":", verify_options, NULL)) !=
	       -1) {
		switch (ch) {
		case OPT_ALL:
			all = true;
			break;
		case OPT_TYPE:
			type = optarg;
			if (cli_check_type(argv[0], type))
				return EXIT_USAGE;
			break;
		case OPT_DATABASE:
			database = optarg;
			if (cli_check_database(argv[0], database))
				return EXIT_USAGE;
			break;
		case OPT_ALLOW_UNENCRYPTED:
			allow_unencrypted = true;
			break;
		default:
			return cli_option_error(argv[0], ch, argv);
		}
	}
	if (all ? optind != argc : optind + 1 != argc)
		return cli_usage_error(
			argv[0], all		 ? "--all or a KEY, not both"
				 : optind < argc ? "one KEY or latest, not more"
						 : "which backup? give a KEY, "
						   "latest or --all");
	if (!all && (type || database) && strcmp(argv[optind], "latest") != 0)
		return cli_usage_error(argv[0], "--type and --database go with "
						"latest or --all");

	if (trust_init(&v.trust, c, allow_unencrypted, &err) != 0) {
		cli_errorf("%s", err.msg);
		trust_dispose(&v.trust);
		return EXIT_USAGE;
	}
	if (stop_start("verify") != 0) {
		cli_errorf("cannot set up signal handling");
		trust_dispose(&v.trust);
		return EXIT_FAILED;
	}
	if (storage_init(&st, c, &serr) != S3_OK) {
		log_event(LOG_ERROR, "cannot reach storage", "error", serr.msg,
			  NULL);
		goto out;
	}
	st_ready = true;
	/* A stop ends the download under way. */
	if (storage_client(&v.s3, &st, stop_cancelled, NULL, &serr) != S3_OK) {
		log_event(LOG_ERROR, "cannot reach storage", "error", serr.msg,
			  NULL);
		goto out;
	}
	if (all) {
		verify_all(&v, type, database);
	} else if (fetch_resolve(&key, v.s3, c->storage.prefix, argv[optind],
				 type, database ? database : c->database.name,
				 &v.trust, &err) != AGENT_OK) {
		say("ERROR %s: %s\n", argv[optind], err.msg);
		log_event(LOG_ERROR, "cannot verify", "error", err.msg, NULL);
		v.errors++;
	} else {
		verify_one(&v, key);
	}
	snprintf(counts, sizeof(counts),
		 "%u ok, %u failed, %u errors, %u "
		 "skipped",
		 v.ok, v.failed, v.errors, v.skipped);
	log_event(LOG_INFO, "verify finished", "result", counts, NULL);
	if (stop_requested() != 0)
		rc = EXIT_FAILED;
	else if (v.failed > 0)
		rc = EXIT_INTEGRITY;
	else if (v.errors > 0)
		rc = EXIT_FAILED;
	else
		rc = EXIT_OK;
out:
	stop_end();
	free(key);
	trust_dispose(&v.trust);
	s3_client_free(v.s3);
	if (st_ready)
		storage_dispose(&st);
	return rc;
}
