/*
 * redact: scrub credentials from text before it is logged or shown.
 */
#ifndef OFFSITE_COMMON_REDACT_H
#define OFFSITE_COMMON_REDACT_H

#include <stddef.h>

/*
 * Scrub credentials from the NUL-terminated text in BUF, a buffer of SIZE
 * bytes, in place. Each scrubbed value becomes "REDACTED"; matching ignores
 * case. What counts as a credential:
 *
 *   - the value of an Authorization header or key: "Authorization: AWS4-..."
 *     up to the end of the line (or a quote or backslash, which end an
 *     enclosing quoted string in a log line);
 *   - the value after X-Amz-Signature, X-Amz-Security-Token, Signature (with
 *     '=' only), secret_access_key (and so aws_secret_access_key),
 *     secret_key, session_token (and so aws_session_token), passphrase and
 *     password, when followed by '=' or ':' with optional blanks and
 *     quotes ("key=v", "key: v", "key = 'v'", JSON's "key":"v"). An
 *     unquoted value ends at a blank, '&', a quote, a comma or the end; a
 *     quoted one at its closing quote (backslash escapes honoured);
 *   - the password in a URL's user information: "scheme://user:PASS@host".
 *
 * Names match anywhere in a word ("my_password=x" is scrubbed too), and a
 * word after "passphrase:" is taken for a value: messages should say
 * "wrong passphrase (...)" rather than "passphrase: wrong". The access
 * key id in X-Amz-Credential is not a secret and is kept. A
 * value that is already "REDACTED" is left alone, so redacting twice
 * changes nothing. "REDACTED" may be longer than the value it replaces:
 * the text then grows, and whatever no longer fits in SIZE - 1 bytes is
 * cut from the end (a cut never brings a secret back). A text with no NUL
 * within SIZE bytes is cut to SIZE - 1 bytes first.
 *
 * This is the one redaction function: every log line and error message
 * passes through it before it is written. Returns the number of values
 * scrubbed.
 */
size_t redact(char *buf, size_t size);

#endif
