/*
 * offsite decrypt: the encrypted format (docs/FORMAT.md) from standard
 * input to standard output, with nothing but a key: no configuration is
 * needed given -k or -p, and there is no network. Each segment is written
 * only once it has been authenticated.
 */
#include "agent/cmd/cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/pipe/crypto.h"
#include "agent/pipe/stages.h"

const char cmd_decrypt_usage[] =
	"usage: offsite decrypt [-k KEYFILE | -p PASSFILE] < IN > OUT\n"
	"\n"
	"Decrypt a backup (a .sql.gz.enc object, downloaded by any means)\n"
	"from standard input to standard output, with nothing but the key:\n"
	"no configuration, no network. The output is the gzip stream;\n"
	"pipe it through gunzip. No byte is written before its segment is\n"
	"authenticated, and altered, reordered, truncated or extended\n"
	"input is an error.\n"
	"\n"
	"  -k KEYFILE    the key file written by offsite keygen\n"
	"  -p PASSFILE   a file holding the passphrase\n";

#define READ_SIZE (64 * 1024)

static const struct option decrypt_options[] = {
	{"key-file", required_argument, NULL, 'k'},
	{"passphrase-file", required_argument, NULL, 'p'},
	{NULL, 0, NULL, 0},
};

/* The key from -k or -p, else from the configuration's [encryption]. */
static int load_key(struct crypto_key *key, const struct cli_globals *g,
		    const char *key_file, const char *pass_file)
{
	struct agent_error err = {0};
	conf *c = NULL;
	int rc;

	if (key_file == NULL && pass_file == NULL) {
		rc = cli_load_config(&c, g);
		if (rc != EXIT_OK)
			goto out;
		key_file = c->encryption.key_file;
		pass_file = c->encryption.passphrase_file;
		if (key_file == NULL && pass_file == NULL) {
			rc = cli_usage_error("decrypt",
					     "no key: give -k KEYFILE or -p "
					     "PASSFILE, or set key_file in "
					     "[encryption] of %s",
					     g->config_path);
			goto out;
		}
	}
	/* The scrypt cost is the file's; the default only fills the key. */
	rc = key_file != NULL
		     ? crypto_key_load_file(key, key_file, &err)
		     : crypto_key_load_passphrase(key, pass_file, NULL, &err);
	if (rc != AGENT_OK) {
		cli_errorf("%s", err.msg);
		rc = cli_exit_for(rc);
		goto out;
	}
	rc = EXIT_OK;
out:
	conf_free(c);
	return rc;
}

/* Standard input through HEAD; a stream code, or -1 for a read error
 * (reported here). */
static int pump(struct stream *head)
{
	static unsigned char buf[READ_SIZE];
	int rc;

	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cli_errorf("cannot read standard input: %s",
				   strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		rc = stream_write(head, buf, (size_t)n);
		if (rc != AGENT_OK)
			return rc;
	}
	return stream_finish(head);
}

int cmd_decrypt(const struct cli_globals *g, const conf *unused, int argc,
		char **argv)
{
	struct fd_options fo = FD_OPTIONS_INIT;
	struct agent_error serr = {0};
	struct crypto_key key = {0};
	struct stream *sink = NULL, *head = NULL;
	const char *key_file = NULL, *pass_file = NULL;
	int ch, rc;

	(void)unused;
	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "+:k:p:", decrypt_options,
				 NULL)) != -1) {
		switch (ch) {
		case 'k':
			key_file = optarg;
			break;
		case 'p':
			pass_file = optarg;
			break;
		default:
			return cli_option_error(argv[0], ch, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error(argv[0], "unexpected argument '%s'",
				       argv[optind]);
	if (key_file != NULL && pass_file != NULL)
		return cli_usage_error(argv[0], "-k and -p exclude each other");
	if ((key_file != NULL && key_file[0] == '\0') ||
	    (pass_file != NULL && pass_file[0] == '\0'))
		return cli_usage_error(argv[0], "empty file name");
	if (isatty(STDOUT_FILENO))
		return cli_usage_error(argv[0],
				       "standard output is a terminal; "
				       "redirect it to a file or a pipe");

	rc = load_key(&key, g, key_file, pass_file);
	if (rc != EXIT_OK)
		goto out;

	fo.fd = STDOUT_FILENO;
	fo.name = "standard output";
	rc = stage_fd_new(&sink, &serr, &fo);
	if (rc == AGENT_OK)
		rc = stage_decrypt_new(&head, sink, &serr, &key);
	if (rc == AGENT_OK) {
		rc = pump(head);
		if (rc < 0) {
			rc = EXIT_FAILED;
			goto out;
		}
	}
	if (rc != AGENT_OK) {
		cli_errorf("%s", serr.msg[0] != '\0' ? serr.msg
						     : "decryption failed");
		rc = cli_exit_for(serr.code != AGENT_OK ? serr.code : rc);
		goto out;
	}
	rc = EXIT_OK;
out:
	if (head != NULL)
		stream_free_chain(head);
	else
		stream_free(sink);
	crypto_key_dispose(&key);
	return rc;
}
