/*
 * wipe: secrets are wiped before their memory is given back.
 */
#include "common/wipe.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

void wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		OPENSSL_cleanse(p, len);
}

void wipe_free(void *p, size_t size)
{
	if (p == NULL)
		return;
	wipe(p, size);
	free(p);
}

void wipe_free_str(char *s)
{
	if (s == NULL)
		return;
	wipe_free(s, strlen(s));
}
