/*
 * The AWS shared files, ~/.aws/credentials and ~/.aws/config, read the way
 * the AWS CLI reads them ("Configuration and credential file settings"):
 * [NAME] sections in the credentials file, [profile NAME] (or [default])
 * in the config file; keys aws_access_key_id, aws_secret_access_key,
 * aws_session_token, region. The credentials file wins.
 *
 * Not inih: its line limit (about 200 bytes here) is shorter than a
 * session token, so this small format gets its own line reader.
 */
#include "conf/conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "common/wipe.h"

#define AWS_LINE_MAX (64 * 1024)

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
			 e[-1] == '\n'))
		*--e = '\0';
	return s;
}

void conf_aws_profile_dispose(struct conf_aws_profile *p)
{
	free(p->access_key);
	wipe_free_str(p->secret_key);
	wipe_free_str(p->session_token);
	free(p->region);
	free(p->source);
	memset(p, 0, sizeof(*p));
}

/* Set *FIELD to VALUE unless the credentials file already did. */
static int take(char **field, const char *value)
{
	if (*field)
		return CONF_OK;
	*field = strdup(value);
	return *field ? CONF_OK : CONF_ENOMEM;
}

/*
 * Read PATH; take the keys of the section named WANT. A missing file is
 * not an error (*FOUND stays false).
 */
static int read_file(struct conf_aws_profile *p, bool *found, const char *path,
		     const char *want, conf_error *err)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL, *raw;
	size_t cap = 0;
	ssize_t n;
	unsigned lineno = 0;
	struct stat st;
	bool in = false;
	int rc = CONF_OK;

	if (!fp) {
		if (errno == ENOENT)
			return CONF_OK;
		snprintf(err->msg, sizeof(err->msg), "cannot read %.300s: %s",
			 path, strerror(errno));
		return CONF_EIO;
	}
	/* Credentials another user could have written send our backups to
	 * their account. */
	if (fstat(fileno(fp), &st) != 0) {
		snprintf(err->msg, sizeof(err->msg), "cannot read %.300s: %s",
			 path, strerror(errno));
		rc = CONF_EIO;
	} else if (conf_check_owner(&st, CONF_TRUST_SECRET, "AWS file", path,
				    err) != CONF_OK) {
		rc = CONF_EPERM;
	} else if ((st.st_mode & 022) != 0) {
		snprintf(err->msg, sizeof(err->msg),
			 "AWS file '%.300s': permissions %04o let others "
			 "change it (chmod go-w)",
			 path, (unsigned)(st.st_mode & 07777));
		rc = CONF_EPERM;
	}
	while (rc == CONF_OK && (n = getline(&line, &cap, fp)) >= 0) {
		char *s, *eq, *key, *value;

		lineno++;
		if ((size_t)n > AWS_LINE_MAX) {
			snprintf(err->msg, sizeof(err->msg),
				 "%.300s:%u: line is too long", path, lineno);
			rc = CONF_ESYNTAX;
			break;
		}
		raw = line;
		s = trim(raw);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');
			if (!end) {
				snprintf(err->msg, sizeof(err->msg),
					 "%.300s:%u: syntax error", path,
					 lineno);
				rc = CONF_ESYNTAX;
				break;
			}
			*end = '\0';
			in = strcmp(trim(s + 1), want) == 0;
			if (in)
				*found = true;
			continue;
		}
		if (!in)
			continue;
		eq = strchr(s, '=');
		if (!eq)
			continue; /* nested settings (s3 = ...) and the like */
		*eq = '\0';
		key = trim(s);
		value = trim(eq + 1);
		if (strcmp(key, "aws_access_key_id") == 0)
			rc = take(&p->access_key, value);
		else if (strcmp(key, "aws_secret_access_key") == 0)
			rc = take(&p->secret_key, value);
		else if (strcmp(key, "aws_session_token") == 0)
			rc = take(&p->session_token, value);
		else if (strcmp(key, "region") == 0)
			rc = take(&p->region, value);
		if (rc == CONF_ENOMEM)
			snprintf(err->msg, sizeof(err->msg), "out of memory");
	}
	if (line) {
		OPENSSL_cleanse(line, cap);
		free(line);
	}
	fclose(fp);
	return rc;
}

int conf_aws_profile_load(struct conf_aws_profile *out, const char *profile,
			  conf_error *err)
{
	const char *home = getenv("HOME");
	const char *cred = getenv("AWS_SHARED_CREDENTIALS_FILE");
	const char *config = getenv("AWS_CONFIG_FILE");
	char cred_path[4096], config_path[4096], section[512];
	bool explicit_profile = profile != NULL;
	bool found = false;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!profile || !*profile)
		profile = getenv("AWS_PROFILE");
	explicit_profile = explicit_profile || (profile && *profile);
	if (!profile || !*profile)
		profile = "default";
	if (!cred || !*cred) {
		if (!home || !*home)
			return CONF_OK;
		snprintf(cred_path, sizeof(cred_path), "%s/.aws/credentials",
			 home);
		cred = cred_path;
	}
	if (!config || !*config) {
		snprintf(config_path, sizeof(config_path), "%s/.aws/config",
			 home && *home ? home : "/nonexistent");
		config = config_path;
	}
	rc = read_file(out, &found, cred, profile, err);
	if (rc == CONF_OK) {
		if (strcmp(profile, "default") == 0)
			snprintf(section, sizeof(section), "default");
		else
			snprintf(section, sizeof(section), "profile %.400s",
				 profile);
		rc = read_file(out, &found, config, section, err);
	}
	if (rc == CONF_OK && !found && explicit_profile) {
		snprintf(err->msg, sizeof(err->msg),
			 "AWS profile '%.100s' is in neither %.150s nor %.150s",
			 profile, cred, config);
		rc = CONF_EMISSING;
	}
	if (rc == CONF_OK && out->access_key && !out->secret_key) {
		snprintf(err->msg, sizeof(err->msg),
			 "AWS profile '%.100s' has aws_access_key_id but no "
			 "aws_secret_access_key",
			 profile);
		rc = CONF_EMISSING;
	}
	if (rc == CONF_OK && found) {
		out->source = strdup(profile);
		if (!out->source)
			rc = CONF_ENOMEM;
	}
	if (rc != CONF_OK)
		conf_aws_profile_dispose(out);
	return rc;
}
