/*
 * cmd: the commands' entry points, one file each (agent/cmd/cmd_NAME.c), and
 * the table in agent/cli.c that names them.
 *
 * Each has the signature of cli_command.run: ARGV[0] is the command's name
 * and ARGC counts it; C is the loaded, validated config, or NULL for a
 * command that does not need one. `COMMAND --help` is handled before the
 * command runs. A command parses its own options with getopt_long (see
 * cli_option_error), reports bad usage with cli_usage_error, and returns
 * an EXIT_* code. Each file holds its command's usage text too
 * (cmd_NAME_usage, printed by --help): its synopsis first, a newline at
 * the end.
 */
#ifndef OFFSITE_AGENT_CMD_H
#define OFFSITE_AGENT_CMD_H

#include "agent/cli.h"

/* offsite config: print the effective configuration, or with --describe
 * the reference of every key. Loads the config itself (needs_config is
 * false), since --describe needs none. */
int cmd_config(const struct cli_globals *g, const conf *c, int argc,
	       char **argv);
extern const char cmd_config_usage[]; /* its --help */

/* offsite presign: a presigned GET URL for one backup or the latest. */
int cmd_presign(const struct cli_globals *g, const conf *c, int argc,
		char **argv);
extern const char cmd_presign_usage[]; /* its --help */

/* offsite backup: dump, compress, encrypt, upload; never a broken one. */
int cmd_backup(const struct cli_globals *g, const conf *c, int argc,
	       char **argv);
extern const char cmd_backup_usage[]; /* its --help */

/* offsite keygen: a new random key in a new file, mode 0600. */
int cmd_keygen(const struct cli_globals *g, const conf *c, int argc,
	       char **argv);
extern const char cmd_keygen_usage[]; /* its --help */

/* offsite decrypt: the encrypted format from stdin to stdout; needs no
 * config given -k or -p (else it takes the key from [encryption]). */
int cmd_decrypt(const struct cli_globals *g, const conf *c, int argc,
		char **argv);
extern const char cmd_decrypt_usage[]; /* its --help */

/* offsite restore: a backup streamed back, checked, into a database or a
 * file. */
int cmd_restore(const struct cli_globals *g, const conf *c, int argc,
		char **argv);
extern const char cmd_restore_usage[]; /* its --help */

/* offsite verify: download one backup or all and check them end to end. */
int cmd_verify(const struct cli_globals *g, const conf *c, int argc,
	       char **argv);
extern const char cmd_verify_usage[]; /* its --help */

/* offsite list: the backups in the bucket, newest first. */
int cmd_list(const struct cli_globals *g, const conf *c, int argc, char **argv);
extern const char cmd_list_usage[]; /* its --help */

/* offsite status: totals, the newest backup per type, and a health
 * check on its age. */
int cmd_status(const struct cli_globals *g, const conf *c, int argc,
	       char **argv);
extern const char cmd_status_usage[]; /* its --help */

/* offsite delete: one backup and its manifest. */
int cmd_delete(const struct cli_globals *g, const conf *c, int argc,
	       char **argv);
extern const char cmd_delete_usage[]; /* its --help */

/* offsite check: can a backup be taken and restored here? */
int cmd_check(const struct cli_globals *g, const conf *c, int argc,
	      char **argv);
extern const char cmd_check_usage[]; /* its --help */

/* offsite retention: lifecycle rules (show, apply, remove) and pruning. */
int cmd_retention(const struct cli_globals *g, const conf *c, int argc,
		  char **argv);
extern const char cmd_retention_usage[]; /* its --help */

#endif
