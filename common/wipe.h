/*
 * wipe: secrets are wiped before their memory is given back.
 *
 * OPENSSL_cleanse underneath: a plain memset before free() may be
 * optimised away.
 */
#ifndef OFFSITE_COMMON_WIPE_H
#define OFFSITE_COMMON_WIPE_H

#include <stddef.h>

/* Overwrite LEN bytes at P with zeros. P may be NULL when LEN is 0. */
void wipe(void *p, size_t len);

/* Wipe SIZE bytes at P, then free it. P may be NULL. */
void wipe_free(void *p, size_t size);

/* Wipe the NUL-terminated string S (its length), then free it. S may be
 * NULL. */
void wipe_free_str(char *s);

#endif
