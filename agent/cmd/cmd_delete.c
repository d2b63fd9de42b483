/*
 * offsite delete: one backup and its manifest. Only keys of our layout
 * under the prefix are deleted, never a foreign object. The manifest goes
 * first: a run that stops between the two deletes leaves an incomplete
 * backup, never a "complete" one without its data.
 */
#include "agent/cmd/cmd.h"

#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/ops/log.h"
#include "agent/repo/storage.h"
#include "agent/ops/trust.h"
#include "retention/retention.h"

const char cmd_delete_usage[] =
	"usage: offsite delete KEY|latest [--type TYPE] [--force]\n"
	"\n"
	"Delete a backup and its manifest, the manifest first. Only keys\n"
	"of offsite's layout under the prefix are deleted. Nothing is\n"
	"asked: the command is meant for scripts too.\n"
	"\n"
	"  KEY           the backup with this key, as offsite list shows it\n"
	"  latest        the newest complete backup of the database\n"
	"  --type TYPE   with latest: the newest backup of this type\n"
	"  --force       needed to delete latest\n";

enum { OPT_TYPE = 256, OPT_FORCE };

static const struct option delete_options[] = {
	{"type", required_argument, NULL, OPT_TYPE},
	{"force", no_argument, NULL, OPT_FORCE},
	{NULL, 0, NULL, 0},
};

/* The newest backup of the configured database (of TYPE) that counts
 * (agent/trust.h): latest means the same to every command. */
static int find_latest(char **key, s3_client *s3, const conf *c,
		       const char *type)
{
	struct agent_error terr = {0};
	struct retention_error err;
	struct trust t;
	int rc;

	if (trust_init(&t, c, false, &terr) != 0) {
		trust_dispose(&t);
		log_event(LOG_ERROR, "cannot load the key", "error", terr.msg,
			  NULL);
		return EXIT_FAILED;
	}
	rc = trust_resolve(key, s3, &t, c->storage.prefix, RETENTION_LATEST,
			   type, c->database.name, &err);
	trust_dispose(&t);
	if (rc == RETENTION_OK)
		return EXIT_OK;
	log_event(LOG_ERROR,
		  rc == RETENTION_ENOTFOUND ? "no complete backup found"
					    : "cannot list backups",
		  "error", err.msg, NULL);
	return EXIT_FAILED;
}

/* Whether KEY exists: 0 and *FOUND, or EXIT_FAILED (logged). */
static int exists(bool *found, s3_client *s3, const char *key)
{
	struct s3_object_info info = {0};
	s3_error err;
	int rc;

	*found = false;
	rc = s3_head_object(&info, s3, key, &err);
	s3_object_info_dispose(&info);
	if (rc == S3_OK) {
		*found = true;
		return 0;
	}
	if (err.code == S3_ENOTFOUND)
		return 0;
	log_event(LOG_ERROR, "cannot check the backup", "key", key, "error",
		  err.msg, NULL);
	return EXIT_FAILED;
}

static int remove_key(s3_client *s3, const char *key)
{
	s3_error err;

	if (s3_delete_object(s3, key, &err) == S3_OK)
		return 0;
	log_event(LOG_ERROR, "cannot delete", "key", key, "error", err.msg,
		  NULL);
	return EXIT_FAILED;
}

static void audit(const char *msg, const char *key, bool manifest)
{
	char uid[16], host[256] = "";
	struct passwd *pw = getpwuid(getuid());

	snprintf(uid, sizeof(uid), "%u", (unsigned)getuid());
	gethostname(host, sizeof(host) - 1);
	log_event(LOG_INFO, msg, "key", key, "manifest",
		  manifest ? "yes" : "no", "uid", uid, "user",
		  pw ? pw->pw_name : "?", "host", host, NULL);
}

int cmd_delete(const struct cli_globals *g, const conf *c, int argc,
	       char **argv)
{
	const char *type = NULL, *target;
	char *key = NULL, *manifest = NULL;
	struct retention_error rerr;
	bool force = false, latest, has_object, has_manifest;
	s3_client *s3 = NULL;
	s3_error err;
	int ch, rc = EXIT_FAILED;

	(void)g;
	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, ":", delete_options, NULL)) !=
	       -1) {
		switch (ch) {
		case OPT_TYPE:
			type = optarg;
			if (cli_check_type(argv[0], type))
				return EXIT_USAGE;
			break;
		case OPT_FORCE:
			force = true;
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
	latest = strcmp(target, RETENTION_LATEST) == 0;
	if (latest) {
		if (!force)
			return cli_usage_error(argv[0],
					       "deleting the latest backup "
					       "needs --force");
	} else {
		/* A key as restore takes it: with or without the prefix. */
		switch (retention_resolve_key(&key, c->storage.prefix, target,
					      &rerr)) {
		case RETENTION_OK:
			break;
		case RETENTION_EMANIFEST:
			return cli_usage_error(argv[0],
					       "'%s' is a manifest: give the "
					       "key of its backup",
					       target);
		case RETENTION_ENOMEM:
			log_event(LOG_ERROR, "out of memory", NULL);
			return EXIT_FAILED;
		default:
			return cli_usage_error(argv[0],
					       "'%s' is not a backup key under "
					       "prefix '%s'",
					       target, c->storage.prefix);
		}
		if (type)
			log_event(LOG_WARN, "--type applies to latest only",
				  NULL);
	}

	if (storage_open(&s3, c, &err) != S3_OK) {
		log_event(LOG_ERROR, "cannot reach storage", "error", err.msg,
			  NULL);
		goto out;
	}
	if (latest && find_latest(&key, s3, c, type) != EXIT_OK)
		goto out;
	if (asprintf(&manifest, "%s%s", key, RETENTION_MANIFEST_SUFFIX) < 0) {
		manifest = NULL;
		goto out;
	}
	if (exists(&has_object, s3, key) || exists(&has_manifest, s3, manifest))
		goto out;
	/* The manifest first: without it, what is left is incomplete. */
	if (has_manifest && remove_key(s3, manifest))
		goto out;
	if (!has_object) {
		if (has_manifest)
			audit("orphan manifest deleted", manifest, true);
		log_event(LOG_ERROR, "no such backup", "key", key, "bucket",
			  c->storage.bucket, NULL);
		goto out;
	}
	if (remove_key(s3, key))
		goto out;
	audit("backup deleted", key, has_manifest);
	if (cli_outf("deleted %s\n", key) < 0)
		goto out;
	rc = EXIT_OK;
out:
	free(manifest);
	free(key);
	s3_client_free(s3);
	return rc;
}
