/*
 * error: the agent's one error type, shared by every room of agent/.
 *
 * A function that can fail takes a struct agent_error *, sets it once
 * with agent_fail() (the first error wins: later ones are what the first
 * caused) and returns the code. The libraries below have their own
 * (conf_error, s3_error); each is translated at its edge, once, its
 * message carried over whole: s3's by storage_error() (agent/repo),
 * conf's where commands load the config (cli_config_try). Only the
 * commands turn a code into an exit status, with cli_exit_for().
 */
#ifndef OFFSITE_AGENT_ERROR_H
#define OFFSITE_AGENT_ERROR_H

#include <stdbool.h>

enum agent_code {
	AGENT_OK = 0,
	AGENT_EIO, /* the sink or the source failed (upload, file, pipe) */
	AGENT_ENOMEM,
	AGENT_EFORMAT,	/* input is not what the stage reads (bad header) */
	AGENT_ETRUNC,	/* input ended too early */
	AGENT_EAUTH,	/* authentication failed: tampered, or wrong key */
	AGENT_ECORRUPT, /* a checksum or length does not match */
	AGENT_ELIMIT,	/* a configured limit was passed (max_size) */
	AGENT_ECANCEL,	/* stopped on request (a signal) */
	AGENT_EKEY,	/* a key or passphrase file is unusable (exit 2) */
	AGENT_EEXIST,	/* a file we must not overwrite exists */
	AGENT_ELOCKED,	/* another run holds the lock (exit 3) */
	AGENT_ECONFIG,	/* the configuration does not load (exit 2) */
};

/* Room for an S3 error message (S3_ERROR_MSG_MAX) with the context the
 * agent puts before it: a key, a part number, what was being done. */
#define AGENT_ERROR_MAX 2048

struct agent_error {
	int code;
	char msg[AGENT_ERROR_MAX];
};

/* Set ERR once (the first error wins); returns CODE. printf-style. */
int agent_fail(struct agent_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* True for the codes that mean "this backup is not intact" (exit 4). */
bool agent_code_is_integrity(int code);

#endif
