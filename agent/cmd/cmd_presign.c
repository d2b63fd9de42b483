/*
 * offsite presign: a time-limited download URL for one backup, to hand
 * to a person. The URL is a bearer credential: it goes to stdout only,
 * and the audit line in the log names the key, the expiry and who asked,
 * never the URL or its signature.
 *
 * Only a backup of the layout under the prefix that counts (agent/trust.h:
 * its manifest accepted, encrypted where encryption is configured) is
 * signed, so a URL never hands out a manifest, someone else's object or a
 * planted backup; --any-key signs any key of the bucket, as it is.
 */
#include "agent/cmd/cmd.h"

#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/ops/catalog.h"
#include "agent/pipe/fetch.h"
#include "agent/ops/log.h"
#include "agent/repo/storage.h"
#include "common/codec.h"
#include "retention/retention.h"

const char cmd_presign_usage[] =
	"usage: offsite presign KEY|latest [--type TYPE] [--expires DURATION]\n"
	"                       [--filename NAME] [--at TIME]\n"
	"                       [--allow-unencrypted] [--any-key]\n"
	"\n"
	"Print a presigned URL that downloads a backup without\n"
	"credentials. The URL is itself a credential: anyone who has it\n"
	"can download the backup until it expires.\n"
	"\n"
	"  KEY                 the backup with this key\n"
	"  latest              the newest complete backup\n"
	"  --type TYPE         with latest: the newest backup of this type\n"
	"  --expires DURATION  how long the URL is valid, e.g. 30m, 1h, 2d\n"
	"                      (default: expires in [presign], 1h; at most "
	"7d)\n"
	"  --filename NAME     the file name a browser saves the download\n"
	"                      as (default: the key's last element)\n"
	"  --at TIME           sign as of TIME, e.g. 2026-11-23T09:30:00Z,\n"
	"                      instead of now\n"
	"  --allow-unencrypted with encryption configured, sign a backup\n"
	"                      that is not encrypted\n"
	"  --any-key           sign KEY as it is, whatever it is; without\n"
	"                      it only a complete backup of the layout\n"
	"                      under the prefix is signed\n";

enum {
	OPT_TYPE = 256,
	OPT_EXPIRES,
	OPT_FILENAME,
	OPT_AT,
	OPT_ALLOW_UNENCRYPTED,
	OPT_ANY_KEY
};

static const struct option presign_options[] = {
	{"type", required_argument, NULL, OPT_TYPE},
	{"expires", required_argument, NULL, OPT_EXPIRES},
	{"filename", required_argument, NULL, OPT_FILENAME},
	{"at", required_argument, NULL, OPT_AT},
	{"allow-unencrypted", no_argument, NULL, OPT_ALLOW_UNENCRYPTED},
	{"any-key", no_argument, NULL, OPT_ANY_KEY},
	{NULL, 0, NULL, 0},
};

/* "2026-11-23T09:30:00Z", "20261123T093000Z" or "@1795426200". */
static int parse_time(const char *s, time_t *out)
{
	struct tm tm = {0};
	const char *end;
	char *e;

	if (s[0] == '@') {
		long long v = strtoll(s + 1, &e, 10);
		if (e == s + 1 || *e || v < 0)
			return -1;
		*out = (time_t)v;
		return 0;
	}
	/* The compact form is the one backup keys carry. */
	if (retention_parse_time(s, out) == RETENTION_OK)
		return 0;
	end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end)
		return -1;
	*out = timegm(&tm);
	return 0;
}

/*
 * Content-Disposition for NAME (RFC 6266): a plain quoted filename, plus
 * filename* (RFC 8187) when NAME is not ASCII.
 */
static int disposition(char **out, const char *name)
{
	char enc[1024];
	size_t i, j = 0;
	bool ascii = true;

	*out = NULL;
	for (i = 0; name[i]; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\' ||
		    ch == '/')
			return -1;
		if (ch >= 0x80)
			ascii = false;
		if (j + 4 >= sizeof(enc))
			return -1;
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || strchr("!#$&+-.^_`|~", ch)) {
			enc[j++] = (char)ch;
		} else {
			pct_encode_byte(enc + j, ch);
			j += 3;
		}
	}
	enc[j] = '\0';
	if (i == 0)
		return -1;
	if (ascii)
		return asprintf(out, "attachment; filename=\"%s\"", name) < 0
			       ? -1
			       : 0;
	return asprintf(out,
			"attachment; filename=\"backup\"; "
			"filename*=UTF-8''%s",
			enc) < 0
		       ? -1
		       : 0;
}

/*
 * The backup TARGET names (agent/trust.h: a key as restore takes it, or
 * latest, the newest backup of the configured database, of TYPE, that
 * counts by T): its full key in *KEY. A key must name a backup that
 * counts, too.
 */
static int find_backup(char **key, s3_client *s3, const conf *c,
		       struct trust *t, const char *target, const char *type)
{
	struct agent_error err = {0};
	struct retention_error rerr;
	struct fetch_backup b;
	bool latest = strcmp(target, RETENTION_LATEST) == 0;
	int rc;

	rc = trust_resolve(key, s3, t, c->storage.prefix, target, type,
			   c->database.name, &rerr);
	if (rc != RETENTION_OK && latest) {
		log_event(LOG_ERROR,
			  rc == RETENTION_ENOTFOUND ? "no complete backup found"
						    : "cannot list backups",
			  "error", rerr.msg, NULL);
		return EXIT_FAILED;
	}
	if (rc != RETENTION_OK) {
		log_event(LOG_ERROR, "not signing: not a backup", "error",
			  rerr.msg, "hint",
			  "--any-key signs any object of the bucket", NULL);
		return EXIT_FAILED;
	}
	if (latest)
		return EXIT_OK; /* judged by T already */
	rc = fetch_open(&b, s3, *key, t, &err);
	if (rc == AGENT_OK) {
		fetch_backup_dispose(&b);
		return EXIT_OK;
	}
	log_event(LOG_ERROR, "not signing: the backup does not count", "key",
		  *key, "error", err.msg, NULL);
	free(*key);
	*key = NULL;
	return cli_exit_for(rc);
}

static void audit(const char *key, time_t at, long expires)
{
	char until[32], uid[16], host[256] = "", valid[32];
	struct passwd *pw = getpwuid(getuid());
	time_t end = at + expires;
	struct tm tm;

	gmtime_r(&end, &tm);
	strftime(until, sizeof(until), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(uid, sizeof(uid), "%u", (unsigned)getuid());
	gethostname(host, sizeof(host) - 1);
	conf_format_duration(valid, sizeof(valid), (uint64_t)expires);
	log_event(LOG_INFO, "presigned url issued", "key", key, "expires",
		  until, "valid_for", valid, "uid", uid, "user",
		  pw ? pw->pw_name : "?", "host", host, NULL);
}

/* The link in the catalog, if there is one: never the URL, its expiry. */
static void record_presign(const conf *c, const char *key,
			   const struct s3_object_info *info, time_t at,
			   long expires)
{
	struct catalog_entry e = {0};
	struct retention_key k;
	char host[256] = "", detail[64], until[32];
	time_t end = at + expires;
	struct tm tm;

	gmtime_r(&end, &tm);
	strftime(until, sizeof(until), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(detail, sizeof(detail), "expires %s", until);
	gethostname(host, sizeof(host) - 1);
	e.key = key;
	if (retention_key_parse(&k, c->storage.prefix, key) == RETENTION_OK) {
		e.type = k.type;
		e.database = k.database;
	}
	e.has_size = true;
	e.size = info->size;
	e.created_at = at;
	e.duration = -1;
	e.host = host;
	e.status = CATALOG_PRESIGNED;
	e.detail = detail;
	(void)catalog_record(c, &e);
}

int cmd_presign(const struct cli_globals *g, const conf *c, int argc,
		char **argv)
{
	struct s3_presign_options po = {0};
	struct s3_object_info info = {0};
	const char *type = NULL, *filename = NULL, *target;
	char *key = NULL, *url = NULL, *disp = NULL;
	uint64_t expires = c->presign.expires;
	bool allow_unencrypted = false, any_key = false;
	struct agent_error terr = {0};
	struct trust trust = {0};
	s3_client *s3 = NULL;
	s3_error err;
	time_t cred_expire;
	int ch, rc = EXIT_FAILED;

	(void)g;
	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":", presign_options, NULL)) !=
	       -1) {
		switch (ch) {
		case OPT_TYPE:
			type = optarg;
			if (cli_check_type(argv[0], type))
				return EXIT_USAGE;
			break;
		case OPT_EXPIRES:
			if (conf_parse_duration(optarg, &expires) != CONF_OK)
				return cli_usage_error(argv[0],
						       "bad duration '%s' "
						       "(e.g. 30m, 1h, 2d)",
						       optarg);
			break;
		case OPT_FILENAME:
			filename = optarg;
			break;
		case OPT_AT:
			if (parse_time(optarg, &po.at))
				return cli_usage_error(argv[0],
						       "bad time '%s' (e.g. "
						       "2026-11-23T09:30:00Z)",
						       optarg);
			break;
		case OPT_ALLOW_UNENCRYPTED:
			allow_unencrypted = true;
			break;
		case OPT_ANY_KEY:
			any_key = true;
			break;
		default:
			return cli_option_error(argv[0], ch, argv);
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error(argv[0], optind < argc
							? "one KEY or latest, "
							  "not more"
							: "which backup? give "
							  "a KEY or latest");
	target = argv[optind];
	if (expires < 1 || expires > 7 * 24 * 3600)
		return cli_usage_error(argv[0],
				       "expiry must be between 1s and 7d (the "
				       "SigV4 limit for presigned URLs)");
	po.expires = (long)expires;
	if (any_key && strcmp(target, "latest") == 0)
		return cli_usage_error(argv[0], "--any-key goes with a KEY");

	if (trust_init(&trust, c, allow_unencrypted, &terr) != 0) {
		cli_errorf("%s", terr.msg);
		rc = EXIT_USAGE;
		goto out;
	}
	if (storage_open(&s3, c, &err) != S3_OK) {
		log_event(LOG_ERROR, "cannot reach storage", "error", err.msg,
			  NULL);
		goto out;
	}
	if (type && strcmp(target, RETENTION_LATEST) != 0)
		log_event(LOG_WARN, "--type applies to latest only", NULL);
	if (!any_key) {
		rc = find_backup(&key, s3, c, &trust, target, type);
		if (rc != EXIT_OK)
			goto out;
		rc = EXIT_FAILED;
	} else if (!(key = strdup(target))) {
		goto out;
	}
	/* A URL to a 404 helps nobody: the key must exist now. */
	if (s3_head_object(&info, s3, key, &err) != S3_OK) {
		if (err.code == S3_ENOTFOUND)
			log_event(LOG_ERROR, "no such backup", "key", key,
				  "bucket", c->storage.bucket, NULL);
		else
			log_event(LOG_ERROR, "cannot check the backup", "key",
				  key, "error", err.msg, NULL);
		goto out;
	}
	if (!filename) {
		filename = strrchr(key, '/');
		filename = filename ? filename + 1 : key;
	}
	if (disposition(&disp, filename)) {
		rc = cli_usage_error(argv[0],
				     "bad file name '%s' (no quotes, "
				     "backslashes, slashes or control "
				     "characters)",
				     filename);
		goto out;
	}
	po.content_disposition = disp;
	if (!po.at)
		po.at = time(NULL) + s3_client_skew(s3);
	if (s3_presign_get(&url, s3, key, &po, &err) != S3_OK) {
		log_event(LOG_ERROR, "cannot presign", "key", key, "error",
			  err.msg, NULL);
		goto out;
	}
	cred_expire = s3_client_credentials_expire(s3);
	if (cred_expire && cred_expire < po.at + po.expires)
		log_event(LOG_WARN,
			  "the link stops working when the temporary "
			  "credentials that signed it expire, before its own "
			  "expiry",
			  NULL);
	audit(key, po.at, po.expires);
	if (printf("%s\n", url) < 0 || fflush(stdout) != 0)
		goto out;
	rc = EXIT_OK;
	record_presign(c, key, &info, po.at, po.expires);
out:
	s3_object_info_dispose(&info);
	free(disp);
	if (url) {
		memset(url, 0, strlen(url));
		free(url);
	}
	free(key);
	s3_client_free(s3);
	trust_dispose(&trust);
	return rc;
}
