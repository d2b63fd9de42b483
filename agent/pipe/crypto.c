/*
 * crypto: key files, passphrases, keygen, and the primitives of the
 * encrypted format (docs/FORMAT.md): header, key derivation, segments.
 * All of the encryption's OpenSSL calls are here.
 */
#include "agent/pipe/crypto.h"

#include "common/codec.h"
#include "common/wipe.h"
#include "conf/conf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

/* FORMAT.md, "Keys" and "The manifest MAC": the domain strings of the
 * key id and of HKDF. */
static const char key_id_domain[] = "offsite v1 key id";
static char hkdf_info[] = "offsite v1 segment key";
static char mac_info[] = CRYPTO_MAC_DOMAIN;
static char hkdf_digest[] = "SHA256";

#define NONCE_LEN 12
/* The nonce's last byte: what the GCM invocation is for. */
enum { FLAG_SEGMENT = 0x00, FLAG_LAST = 0x01, FLAG_HEADER = 0x02 };

/* What OpenSSL's scrypt allocates beyond 128 * r * N: 128 * r * p for B
 * and two more blocks of V; r and p fit in a byte, so 16 MiB is ample. */
#define SCRYPT_MAXMEM (CRYPTO_SCRYPT_MAX_MEM + 16 * 1024 * 1024)

struct crypto_file {
	EVP_CIPHER_CTX *ctx; /* AES-256-GCM, keyed with the segment key */
	bool encrypt;
	uint32_t segment_size;
	/* Encrypting: the key of the manifest's MAC, derived with the
	 * segment key so that a passphrase runs through scrypt once. */
	uint8_t mac_key[CRYPTO_KEY_LEN];
};

/* ---- errors ---- */

/*
 * The one place OpenSSL's errors become ours: "WHAT failed: REASON", the
 * reason being the first error on OpenSSL's queue, which is then cleared.
 * Returns AGENT_EIO: a library failure is not an integrity failure, and
 * not the key's fault.
 */
static int openssl_fail(struct agent_error *err, const char *what)
{
	unsigned long e = ERR_get_error();
	char reason[256];

	ERR_clear_error();
	if (e == 0) {
		agent_fail(err, AGENT_EIO, "%s failed (OpenSSL gave no reason)",
			   what);
	} else {
		ERR_error_string_n(e, reason, sizeof(reason));
		agent_fail(err, AGENT_EIO, "%s failed: %s", what, reason);
	}
	return AGENT_EIO;
}

/* ---- small helpers ---- */

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static bool all_zero(const uint8_t *p, size_t len)
{
	uint8_t acc = 0;
	size_t i;

	for (i = 0; i < len; i++)
		acc |= p[i];
	return acc == 0;
}

void crypto_key_id_hex(char out[CRYPTO_KEY_ID_HEX_SIZE],
		       const uint8_t id[CRYPTO_KEY_ID_LEN])
{
	hex_encode(out, id, CRYPTO_KEY_ID_LEN);
}

/* ---- key derivation (FORMAT.md, "Keys") ---- */

/* id = SHA-256("offsite v1 key id" || master)[0..8). -1: OpenSSL failed. */
static int key_id_of(uint8_t id[CRYPTO_KEY_ID_LEN],
		     const uint8_t master[CRYPTO_KEY_LEN])
{
	uint8_t buf[sizeof(key_id_domain) - 1 + CRYPTO_KEY_LEN];
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int rc = -1;

	memcpy(buf, key_id_domain, sizeof(key_id_domain) - 1);
	memcpy(buf + sizeof(key_id_domain) - 1, master, CRYPTO_KEY_LEN);
	if (EVP_Digest(buf, sizeof(buf), md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != 32)
		goto out;
	memcpy(id, md, CRYPTO_KEY_ID_LEN);
	rc = 0;
out:
	wipe(buf, sizeof(buf));
	wipe(md, sizeof(md));
	return rc;
}

/* master = scrypt(passphrase, salt, N, r, p, 32). -1: OpenSSL failed. */
static int scrypt_derive(uint8_t master[CRYPTO_KEY_LEN],
			 const struct crypto_key *k,
			 const struct crypto_scrypt *s,
			 const uint8_t salt[CRYPTO_SCRYPT_SALT_LEN])
{
	if (EVP_PBE_scrypt((const char *)k->passphrase, k->passphrase_len, salt,
			   CRYPTO_SCRYPT_SALT_LEN, (uint64_t)1 << s->log2_n,
			   s->r, s->p, SCRYPT_MAXMEM, master,
			   CRYPTO_KEY_LEN) != 1)
		return -1;
	return 0;
}

/* OUT = HKDF-SHA256(IKM master, salt file_salt, info INFO, 32 bytes):
 * the segment key (hkdf_info) or the manifest MAC key (mac_info). -1:
 * OpenSSL failed. */
static int hkdf_derive(uint8_t out[CRYPTO_KEY_LEN],
		       const uint8_t master[CRYPTO_KEY_LEN],
		       const uint8_t file_salt[CRYPTO_FILE_SALT_LEN],
		       char *info, size_t info_len)
{
	uint8_t ikm[CRYPTO_KEY_LEN], salt[CRYPTO_FILE_SALT_LEN];
	OSSL_PARAM params[5];
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *ctx = NULL;
	int rc = -1;

	memcpy(ikm, master, sizeof(ikm));
	memcpy(salt, file_salt, sizeof(salt));
	kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (kdf == NULL)
		goto out;
	ctx = EVP_KDF_CTX_new(kdf);
	if (ctx == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						     hkdf_digest, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm,
						      sizeof(ikm));
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt,
						      sizeof(salt));
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info,
						      info_len);
	params[4] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, CRYPTO_KEY_LEN, params) != 1)
		goto out;
	rc = 0;
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	wipe(ikm, sizeof(ikm));
	return rc;
}

/* ---- scrypt limits ---- */

bool crypto_scrypt_check(const struct crypto_scrypt *s, char *why, size_t size)
{
	uint64_t mem;

	if (s->log2_n < 1 || s->r < 1 || s->p < 1) {
		snprintf(why, size,
			 "scrypt cost log2(N)=%u, r=%u, p=%u: each must be at "
			 "least 1",
			 s->log2_n, s->r, s->p);
		return false;
	}
	/* RFC 7914, 2: N < 2^(128 * r / 8). */
	if (16u * s->r < 64 && s->log2_n >= 16u * s->r) {
		snprintf(why, size,
			 "scrypt cost N=2^%u is too large for r=%u (RFC 7914 "
			 "needs N < 2^%u)",
			 s->log2_n, s->r, 16u * s->r);
		return false;
	}
	if (s->log2_n >= 32) {
		snprintf(why, size,
			 "scrypt cost N=2^%u needs more than %llu MiB of "
			 "memory",
			 s->log2_n, CRYPTO_SCRYPT_MAX_MEM >> 20);
		return false;
	}
	mem = (128ULL * s->r) << s->log2_n;
	if (mem > CRYPTO_SCRYPT_MAX_MEM) {
		snprintf(why, size,
			 "scrypt cost N=2^%u, r=%u needs %llu MiB of memory; "
			 "at most %llu MiB",
			 s->log2_n, s->r, (unsigned long long)(mem >> 20),
			 CRYPTO_SCRYPT_MAX_MEM >> 20);
		return false;
	}
	if (mem * s->p > CRYPTO_SCRYPT_MAX_WORK) {
		snprintf(why, size,
			 "scrypt cost N=2^%u, r=%u, p=%u is more work than "
			 "the limit (128 * r * N * p at most %llu MiB)",
			 s->log2_n, s->r, s->p, CRYPTO_SCRYPT_MAX_WORK >> 20);
		return false;
	}
	return true;
}

/* ---- keys ---- */

void crypto_key_dispose(struct crypto_key *k)
{
	if (k != NULL)
		wipe(k, sizeof(*k));
}

int crypto_key_from_bytes(struct crypto_key *out,
			  const uint8_t key[CRYPTO_KEY_LEN],
			  struct agent_error *err)
{
	crypto_key_dispose(out);
	out->source = CRYPTO_SOURCE_KEY;
	memcpy(out->key, key, CRYPTO_KEY_LEN);
	if (key_id_of(out->id, out->key) != 0) {
		crypto_key_dispose(out);
		return openssl_fail(err, "key id (SHA-256)");
	}
	return AGENT_OK;
}

int crypto_key_from_passphrase(struct crypto_key *out, const void *passphrase,
			       size_t len, const struct crypto_scrypt *scrypt,
			       struct agent_error *err)
{
	struct crypto_scrypt s = {CRYPTO_SCRYPT_DEFAULT_LOG2_N,
				  CRYPTO_SCRYPT_DEFAULT_R,
				  CRYPTO_SCRYPT_DEFAULT_P};
	char why[256];

	crypto_key_dispose(out);
	if (scrypt != NULL)
		s = *scrypt;
	if (!crypto_scrypt_check(&s, why, sizeof(why))) {
		return agent_fail(err, AGENT_EKEY, "%s", why);
	}
	if (len == 0 || len > CRYPTO_PASSPHRASE_MAX) {
		return agent_fail(err, AGENT_EKEY,
				  "a passphrase must be 1 to %d bytes long",
				  CRYPTO_PASSPHRASE_MAX);
	}
	out->source = CRYPTO_SOURCE_PASSPHRASE;
	memcpy(out->passphrase, passphrase, len);
	out->passphrase_len = len;
	out->scrypt = s;
	return AGENT_OK;
}

/* Read up to SIZE bytes of the private file PATH (WHAT: "key file", ...)
 * into BUF; *LEN == SIZE means the file may be longer. */
static int read_private(uint8_t *buf, size_t size, size_t *len,
			const char *path, const char *what,
			struct agent_error *err)
{
	struct stat st;
	size_t got = 0;
	int fd, rc;

	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) != 0) {
		rc = agent_fail(err, AGENT_EKEY, "cannot read %s '%s': %s",
				what, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = agent_fail(err, AGENT_EKEY,
				"%s '%s' is not a regular file", what, path);
		goto out;
	}
	/* Mode bits, not access(): the agent often runs as root. */
	if ((st.st_mode & 077) != 0) {
		agent_fail(err, AGENT_EKEY,
			   "%s '%s': permissions %04o are too open; it must "
			   "be readable by its owner only (chmod 600 %s)",
			   what, path, (unsigned)(st.st_mode & 07777), path);
		rc = AGENT_EKEY;
		goto out;
	}
	/* Another user's key would be a key that user knows. */
	{
		conf_error cerr;

		if (conf_check_owner(&st, CONF_TRUST_SECRET, what, path,
				     &cerr) != CONF_OK) {
			rc = agent_fail(err, AGENT_EKEY, "%s", cerr.msg);
			goto out;
		}
	}
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = agent_fail(err, AGENT_EKEY,
					"cannot read %s '%s': %s", what, path,
					strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	*len = got;
	rc = AGENT_OK;
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Cut one "\n" or "\r\n" from the end of BUF. */
static size_t cut_newline(const uint8_t *buf, size_t len)
{
	if (len > 0 && buf[len - 1] == '\n') {
		len--;
		if (len > 0 && buf[len - 1] == '\r')
			len--;
	}
	return len;
}

int crypto_key_load_file(struct crypto_key *out, const char *path,
			 struct agent_error *err)
{
	uint8_t buf[2 * CRYPTO_KEY_LEN + 3], key[CRYPTO_KEY_LEN];
	size_t len;
	int rc;

	crypto_key_dispose(out);
	rc = read_private(buf, sizeof(buf), &len, path, "key file", err);
	if (rc != AGENT_OK)
		goto out;
	len = cut_newline(buf, len);
	rc = AGENT_EKEY;
	if (hex_decode(key, CRYPTO_KEY_LEN, (const char *)buf, len, HEX_ANY) !=
	    0)
		goto bad;
	rc = crypto_key_from_bytes(out, key, err);
	goto out;
bad:
	agent_fail(err, AGENT_EKEY,
		   "key file '%s' must hold 64 hex digits (a 256-bit key, as "
		   "offsite keygen writes it)",
		   path);
out:
	wipe(buf, sizeof(buf));
	wipe(key, sizeof(key));
	return rc;
}

int crypto_key_load_passphrase(struct crypto_key *out, const char *path,
			       const struct crypto_scrypt *scrypt,
			       struct agent_error *err)
{
	/* Room for the longest passphrase, its "\r\n", and one byte more. */
	uint8_t buf[CRYPTO_PASSPHRASE_MAX + 3];
	size_t len;
	int rc;

	crypto_key_dispose(out);
	rc = read_private(buf, sizeof(buf), &len, path, "passphrase file", err);
	if (rc != AGENT_OK)
		goto out;
	len = cut_newline(buf, len);
	rc = AGENT_EKEY;
	if (len == 0) {
		agent_fail(err, AGENT_EKEY, "passphrase file '%s' is empty",
			   path);
		goto out;
	}
	if (len > CRYPTO_PASSPHRASE_MAX) {
		agent_fail(err, AGENT_EKEY,
			   "passphrase file '%s' is longer than %d bytes", path,
			   CRYPTO_PASSPHRASE_MAX);
		goto out;
	}
	rc = crypto_key_from_passphrase(out, buf, len, scrypt, err);
out:
	wipe(buf, sizeof(buf));
	return rc;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int crypto_keygen(uint8_t id[CRYPTO_KEY_ID_LEN], const char *path,
		  struct agent_error *err)
{
	uint8_t key[CRYPTO_KEY_LEN];
	char text[2 * CRYPTO_KEY_LEN + 2];
	bool created = false;
	int fd = -1, rc;

	/* The key first: if there is no randomness, there is no file. */
	if (RAND_bytes(key, sizeof(key)) != 1) {
		rc = openssl_fail(err, "random key (RAND_bytes)");
		goto out;
	}
	if (key_id_of(id, key) != 0) {
		rc = openssl_fail(err, "key id (SHA-256)");
		goto out;
	}
	hex_encode(text, key, sizeof(key));
	text[2 * CRYPTO_KEY_LEN] = '\n';
	text[2 * CRYPTO_KEY_LEN + 1] = '\0';

	/* O_EXCL | O_NOFOLLOW: never overwrite, never follow a link. */
	fd = open(path,
		  O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC |
			  O_NOCTTY,
		  0600);
	if (fd < 0) {
		if (errno == EEXIST) {
			agent_fail(err, AGENT_EEXIST,
				   "key file '%s' already exists; not "
				   "overwriting it",
				   path);
			rc = AGENT_EEXIST;
		} else {
			rc = agent_fail(err, AGENT_EIO,
					"cannot create key file '%s': %s", path,
					strerror(errno));
		}
		goto out;
	}
	created = true;
	/* Exactly 0600, whatever the umask took away. */
	if (fchmod(fd, 0600) != 0 ||
	    write_all(fd, text, 2 * CRYPTO_KEY_LEN + 1) != 0 ||
	    fsync(fd) != 0) {
		rc = agent_fail(err, AGENT_EIO,
				"cannot write key file '%s': %s", path,
				strerror(errno));
		goto out;
	}
	rc = close(fd);
	fd = -1;
	if (rc != 0) {
		rc = agent_fail(err, AGENT_EIO,
				"cannot write key file '%s': %s", path,
				strerror(errno));
		goto out;
	}
	rc = AGENT_OK;
out:
	if (fd >= 0)
		close(fd);
	if (rc != AGENT_OK && created)
		unlink(path);
	wipe(key, sizeof(key));
	wipe(text, sizeof(text));
	return rc;
}

/* ---- the header ---- */

/* Offsets of the header's fields (FORMAT.md, "Header"). */
enum {
	H_MAGIC = 0,
	H_VERSION = 8,
	H_SOURCE = 9,
	H_LOG2_N = 10,
	H_R = 11,
	H_P = 12,
	H_SEGMENT_SIZE = 13,
	H_SCRYPT_SALT = 17,
	H_KEY_ID = 33,
	H_FILE_SALT = 41,
	H_TAG = 73,
};

void crypto_header_encode(uint8_t out[CRYPTO_HEADER_LEN],
			  const struct crypto_header *h)
{
	memcpy(out + H_MAGIC, CRYPTO_MAGIC, CRYPTO_MAGIC_LEN);
	out[H_VERSION] = h->version;
	out[H_SOURCE] = (uint8_t)h->source;
	out[H_LOG2_N] = h->scrypt.log2_n;
	out[H_R] = h->scrypt.r;
	out[H_P] = h->scrypt.p;
	put_u32(out + H_SEGMENT_SIZE, h->segment_size);
	memcpy(out + H_SCRYPT_SALT, h->scrypt_salt, CRYPTO_SCRYPT_SALT_LEN);
	memcpy(out + H_KEY_ID, h->key_id, CRYPTO_KEY_ID_LEN);
	memcpy(out + H_FILE_SALT, h->file_salt, CRYPTO_FILE_SALT_LEN);
	memcpy(out + H_TAG, h->tag, CRYPTO_TAG_LEN);
}

int crypto_header_parse(struct crypto_header *out, const uint8_t *buf,
			size_t len, struct agent_error *err)
{
	size_t magic_len = len < CRYPTO_MAGIC_LEN ? len : CRYPTO_MAGIC_LEN;
	char why[256];

	memset(out, 0, sizeof(*out));
	if (memcmp(buf, CRYPTO_MAGIC, magic_len) != 0)
		return agent_fail(err, AGENT_EFORMAT,
				  "not an offsite encrypted file");
	/* A newer version may have another layout: say so before asking
	 * for the rest of it. */
	if (len > H_VERSION && buf[H_VERSION] != CRYPTO_VERSION)
		return agent_fail(err, AGENT_EFORMAT,
				  "unsupported format version %u",
				  buf[H_VERSION]);
	if (len == 0)
		return agent_fail(err, AGENT_ETRUNC,
				  "no encrypted data: the input is empty");
	if (len < CRYPTO_HEADER_LEN)
		return agent_fail(err, AGENT_ETRUNC,
				  "encrypted data ends inside its header");

	out->version = buf[H_VERSION];
	out->scrypt.log2_n = buf[H_LOG2_N];
	out->scrypt.r = buf[H_R];
	out->scrypt.p = buf[H_P];
	out->segment_size = get_u32(buf + H_SEGMENT_SIZE);
	memcpy(out->scrypt_salt, buf + H_SCRYPT_SALT, CRYPTO_SCRYPT_SALT_LEN);
	memcpy(out->key_id, buf + H_KEY_ID, CRYPTO_KEY_ID_LEN);
	memcpy(out->file_salt, buf + H_FILE_SALT, CRYPTO_FILE_SALT_LEN);
	memcpy(out->tag, buf + H_TAG, CRYPTO_TAG_LEN);

	switch (buf[H_SOURCE]) {
	case CRYPTO_SOURCE_KEY:
		out->source = CRYPTO_SOURCE_KEY;
		if (!all_zero(buf + H_LOG2_N, 3) ||
		    !all_zero(out->scrypt_salt, CRYPTO_SCRYPT_SALT_LEN))
			return agent_fail(err, AGENT_EFORMAT,
					  "corrupt header: scrypt fields set "
					  "for a key-file key");
		break;
	case CRYPTO_SOURCE_PASSPHRASE:
		out->source = CRYPTO_SOURCE_PASSPHRASE;
		if (!crypto_scrypt_check(&out->scrypt, why, sizeof(why)))
			return agent_fail(err, AGENT_EFORMAT,
					  "corrupt header: %s", why);
		break;
	default:
		return agent_fail(err, AGENT_EFORMAT,
				  "corrupt header: unknown key source %u",
				  buf[H_SOURCE]);
	}
	if (out->segment_size < 1 || out->segment_size > CRYPTO_SEGMENT_MAX)
		return agent_fail(err, AGENT_EFORMAT,
				  "corrupt header: segment size %lu is not "
				  "within 1..%d",
				  (unsigned long)out->segment_size,
				  CRYPTO_SEGMENT_MAX);
	return AGENT_OK;
}

/* ---- segments ---- */

/* FORMAT.md, "Nonces": 11-byte big-endian counter, then the flag. */
static void nonce_for(uint8_t nonce[NONCE_LEN], uint64_t index, uint8_t flag)
{
	int i;

	nonce[0] = nonce[1] = nonce[2] = 0;
	for (i = 0; i < 8; i++)
		nonce[3 + i] = (uint8_t)(index >> (56 - 8 * i));
	nonce[11] = flag;
}

/*
 * One AES-256-GCM invocation on F's key: AAD (may be empty), then LEN
 * bytes of BUF in place. Encrypting writes TAG; decrypting checks it.
 * Returns 0; 1 when decryption's tag does not match; -1 when OpenSSL
 * failed (its queue holds why).
 */
static int gcm(struct crypto_file *f, const uint8_t nonce[NONCE_LEN],
	       const uint8_t *aad, size_t aad_len, uint8_t *buf, size_t len,
	       uint8_t tag[CRYPTO_TAG_LEN])
{
	uint8_t final[CRYPTO_TAG_LEN]; /* GCM's final writes nothing */
	int n = 0, fin = 0;

	if (len > CRYPTO_SEGMENT_MAX || aad_len > CRYPTO_HEADER_LEN)
		return -1;
	if (EVP_CipherInit_ex(f->ctx, NULL, NULL, NULL, nonce,
			      f->encrypt ? 1 : 0) != 1)
		return -1;
	if (aad_len > 0 &&
	    EVP_CipherUpdate(f->ctx, NULL, &n, aad, (int)aad_len) != 1)
		return -1;
	if (len > 0 && (EVP_CipherUpdate(f->ctx, buf, &n, buf, (int)len) != 1 ||
			(size_t)n != len))
		return -1;
	if (f->encrypt) {
		if (EVP_CipherFinal_ex(f->ctx, final, &fin) != 1 || fin != 0 ||
		    EVP_CIPHER_CTX_ctrl(f->ctx, EVP_CTRL_GCM_GET_TAG,
					CRYPTO_TAG_LEN, tag) != 1)
			return -1;
		return 0;
	}
	if (EVP_CIPHER_CTX_ctrl(f->ctx, EVP_CTRL_GCM_SET_TAG, CRYPTO_TAG_LEN,
				tag) != 1)
		return -1;
	if (EVP_CipherFinal_ex(f->ctx, final, &fin) != 1) {
		/* A tag mismatch; OpenSSL queues nothing, but be sure. */
		ERR_clear_error();
		return 1;
	}
	return 0;
}

void crypto_file_free(struct crypto_file *f)
{
	if (f == NULL)
		return;
	EVP_CIPHER_CTX_free(f->ctx); /* cleanses the key schedule */
	wipe(f, sizeof(*f));
	free(f);
}

/* A file keyed with HKDF(MASTER, FILE_SALT), for ENCRYPT or not; one
 * that encrypts keeps the manifest MAC key as well. */
static int file_new(struct crypto_file **out, const uint8_t *master,
		    const uint8_t *file_salt, uint32_t segment_size,
		    bool encrypt, struct agent_error *err)
{
	uint8_t key[CRYPTO_KEY_LEN];
	struct crypto_file *f = NULL;
	int rc;

	*out = NULL;
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		rc = AGENT_ENOMEM;
		agent_fail(err, rc, "out of memory");
		goto out;
	}
	f->encrypt = encrypt;
	f->segment_size = segment_size;
	if (hkdf_derive(key, master, file_salt, hkdf_info,
			sizeof(hkdf_info) - 1) != 0) {
		rc = openssl_fail(err, "segment key (HKDF-SHA256)");
		goto out;
	}
	if (encrypt && hkdf_derive(f->mac_key, master, file_salt, mac_info,
				   sizeof(mac_info) - 1) != 0) {
		rc = openssl_fail(err, "manifest MAC key (HKDF-SHA256)");
		goto out;
	}
	f->ctx = EVP_CIPHER_CTX_new();
	if (f->ctx == NULL ||
	    EVP_CipherInit_ex(f->ctx, EVP_aes_256_gcm(), NULL, key, NULL,
			      encrypt ? 1 : 0) != 1) {
		rc = openssl_fail(err, "AES-256-GCM setup");
		goto out;
	}
	*out = f;
	f = NULL;
	rc = AGENT_OK;
out:
	wipe(key, sizeof(key));
	crypto_file_free(f);
	return rc;
}

int crypto_file_new_encrypt(struct crypto_file **out,
			    uint8_t header[CRYPTO_HEADER_LEN],
			    const struct crypto_key *key, uint32_t segment_size,
			    const uint8_t *test_file_salt,
			    const uint8_t *test_scrypt_salt,
			    struct agent_error *err)
{
	struct crypto_header h = {0};
	uint8_t master[CRYPTO_KEY_LEN], nonce[NONCE_LEN];
	struct crypto_file *f = NULL;
	char why[256];
	int rc;

	*out = NULL;
	if (segment_size < 1 || segment_size > CRYPTO_SEGMENT_MAX) {
		rc = agent_fail(err, AGENT_EIO,
				"encrypt: segment size %lu is not within "
				"1..%d",
				(unsigned long)segment_size,
				CRYPTO_SEGMENT_MAX);
		goto out;
	}
	h.version = CRYPTO_VERSION;
	h.source = key->source;
	h.segment_size = segment_size;
	if (test_file_salt != NULL)
		memcpy(h.file_salt, test_file_salt, CRYPTO_FILE_SALT_LEN);
	else if (RAND_bytes(h.file_salt, CRYPTO_FILE_SALT_LEN) != 1) {
		rc = openssl_fail(err, "file salt (RAND_bytes)");
		goto out;
	}

	if (key->source == CRYPTO_SOURCE_KEY) {
		memcpy(master, key->key, CRYPTO_KEY_LEN);
		memcpy(h.key_id, key->id, CRYPTO_KEY_ID_LEN);
	} else {
		h.scrypt = key->scrypt;
		if (!crypto_scrypt_check(&h.scrypt, why, sizeof(why))) {
			rc = agent_fail(err, AGENT_EIO, "encrypt: %s", why);
			goto out;
		}
		if (test_scrypt_salt != NULL)
			memcpy(h.scrypt_salt, test_scrypt_salt,
			       CRYPTO_SCRYPT_SALT_LEN);
		else if (RAND_bytes(h.scrypt_salt, CRYPTO_SCRYPT_SALT_LEN) !=
			 1) {
			rc = openssl_fail(err, "scrypt salt (RAND_bytes)");
			goto out;
		}
		if (scrypt_derive(master, key, &h.scrypt, h.scrypt_salt) != 0) {
			rc = openssl_fail(err, "scrypt");
			goto out;
		}
		if (key_id_of(h.key_id, master) != 0) {
			rc = openssl_fail(err, "key id (SHA-256)");
			goto out;
		}
	}

	rc = file_new(&f, master, h.file_salt, segment_size, true, err);
	if (rc != AGENT_OK)
		goto out;
	crypto_header_encode(header, &h);
	nonce_for(nonce, 0, FLAG_HEADER);
	if (gcm(f, nonce, header, CRYPTO_HEADER_AUTH_LEN, NULL, 0,
		header + H_TAG) != 0) {
		rc = openssl_fail(err, "header tag (AES-256-GCM)");
		goto out;
	}
	*out = f;
	f = NULL;
	rc = AGENT_OK;
out:
	wipe(master, sizeof(master));
	crypto_file_free(f);
	return rc;
}

/*
 * The master key of the file whose header is H, from KEY: the key itself
 * for a key file, scrypt at the header's cost for a passphrase; its key id
 * must be the header's. Errors as crypto_file_new_decrypt's, but for the
 * header tag.
 */
static int master_for_header(uint8_t master[CRYPTO_KEY_LEN],
			     const struct crypto_header *h,
			     const struct crypto_key *key,
			     struct agent_error *err)
{
	uint8_t id[CRYPTO_KEY_ID_LEN];
	char have[CRYPTO_KEY_ID_HEX_SIZE], want[CRYPTO_KEY_ID_HEX_SIZE];
	char why[256];

	if (h->source != key->source)
		return agent_fail(
			err, AGENT_EAUTH,
			h->source == CRYPTO_SOURCE_PASSPHRASE
				? "wrong key: the file is encrypted "
				  "with a passphrase, not a key file"
				: "wrong key: the file is encrypted "
				  "with a key file, not a passphrase");
	if (key->source == CRYPTO_SOURCE_KEY) {
		memcpy(master, key->key, CRYPTO_KEY_LEN);
		memcpy(id, key->id, CRYPTO_KEY_ID_LEN);
	} else {
		/* The parser checked the costs; a header from elsewhere
		 * must not get past the limits either. */
		if (!crypto_scrypt_check(&h->scrypt, why, sizeof(why)))
			return agent_fail(err, AGENT_EFORMAT,
					  "corrupt header: %s", why);
		if (scrypt_derive(master, key, &h->scrypt, h->scrypt_salt) != 0)
			return openssl_fail(err, "scrypt");
		if (key_id_of(id, master) != 0) {
			wipe(master, CRYPTO_KEY_LEN);
			return openssl_fail(err, "key id (SHA-256)");
		}
	}
	if (memcmp(id, h->key_id, CRYPTO_KEY_ID_LEN) == 0)
		return AGENT_OK;
	wipe(master, CRYPTO_KEY_LEN);
	if (key->source == CRYPTO_SOURCE_PASSPHRASE)
		return agent_fail(err, AGENT_EAUTH, "wrong passphrase");
	crypto_key_id_hex(have, id);
	crypto_key_id_hex(want, h->key_id);
	return agent_fail(err, AGENT_EAUTH,
			  "wrong key (key id %s; the file was encrypted with "
			  "key id %s)",
			  have, want);
}

int crypto_file_new_decrypt(struct crypto_file **out,
			    const struct crypto_header *h,
			    const uint8_t raw[CRYPTO_HEADER_LEN],
			    const struct crypto_key *key,
			    struct agent_error *err)
{
	uint8_t master[CRYPTO_KEY_LEN];
	uint8_t nonce[NONCE_LEN], tag[CRYPTO_TAG_LEN];
	struct crypto_file *f = NULL;
	int rc, r;

	*out = NULL;
	rc = master_for_header(master, h, key, err);
	if (rc != AGENT_OK)
		goto out;
	rc = file_new(&f, master, h->file_salt, h->segment_size, false, err);
	if (rc != AGENT_OK)
		goto out;
	nonce_for(nonce, 0, FLAG_HEADER);
	memcpy(tag, h->tag, CRYPTO_TAG_LEN);
	r = gcm(f, nonce, raw, CRYPTO_HEADER_AUTH_LEN, NULL, 0, tag);
	if (r < 0) {
		rc = openssl_fail(err, "header tag (AES-256-GCM)");
		goto out;
	}
	if (r > 0) {
		rc = agent_fail(err, AGENT_EAUTH,
				"header failed authentication: tampered");
		goto out;
	}
	*out = f;
	f = NULL;
	rc = AGENT_OK;
out:
	wipe(master, sizeof(master));
	crypto_file_free(f);
	return rc;
}

int crypto_file_seal(struct crypto_file *f, uint64_t index, bool last,
		     uint8_t *buf, size_t len, uint8_t tag[CRYPTO_TAG_LEN],
		     struct agent_error *err)
{
	uint8_t nonce[NONCE_LEN];

	if (len > f->segment_size || (!last && len != f->segment_size))
		return agent_fail(err, AGENT_EIO,
				  "encrypt: segment %llu of %zu bytes (segment "
				  "size %lu)",
				  (unsigned long long)index, len,
				  (unsigned long)f->segment_size);
	nonce_for(nonce, index, last ? FLAG_LAST : FLAG_SEGMENT);
	if (gcm(f, nonce, NULL, 0, buf, len, tag) != 0)
		return openssl_fail(err, "encrypt (AES-256-GCM)");
	return AGENT_OK;
}

int crypto_file_open(struct crypto_file *f, uint64_t index, bool last,
		     uint8_t *buf, size_t len,
		     const uint8_t tag[CRYPTO_TAG_LEN], struct agent_error *err)
{
	uint8_t nonce[NONCE_LEN], t[CRYPTO_TAG_LEN];
	int r;

	if (len > f->segment_size)
		return agent_fail(err, AGENT_ECORRUPT,
				  "segment %llu: length %zu is larger than "
				  "the segment size %lu",
				  (unsigned long long)index, len,
				  (unsigned long)f->segment_size);
	nonce_for(nonce, index, last ? FLAG_LAST : FLAG_SEGMENT);
	memcpy(t, tag, CRYPTO_TAG_LEN);
	r = gcm(f, nonce, NULL, 0, buf, len, t);
	if (r < 0)
		return openssl_fail(err, "decrypt (AES-256-GCM)");
	if (r > 0)
		return agent_fail(err, AGENT_EAUTH,
				  "segment %llu failed authentication: %s",
				  (unsigned long long)index,
				  "tampered or reordered");
	return AGENT_OK;
}

/* ---- the manifest MAC (FORMAT.md, "The manifest MAC") ---- */

int crypto_manifest_key(uint8_t out[CRYPTO_KEY_LEN],
			const struct crypto_header *h,
			const struct crypto_key *key, struct agent_error *err)
{
	uint8_t master[CRYPTO_KEY_LEN];
	int rc;

	rc = master_for_header(master, h, key, err);
	if (rc == AGENT_OK && hkdf_derive(out, master, h->file_salt, mac_info,
					  sizeof(mac_info) - 1) != 0)
		rc = openssl_fail(err, "manifest MAC key (HKDF-SHA256)");
	wipe(master, sizeof(master));
	if (rc != AGENT_OK)
		wipe(out, CRYPTO_KEY_LEN);
	return rc;
}

int crypto_manifest_mac(uint8_t tag[CRYPTO_MAC_LEN],
			const uint8_t mac_key[CRYPTO_KEY_LEN], const void *msg,
			size_t len, struct agent_error *err)
{
	OSSL_PARAM params[2];
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *ctx = NULL;
	size_t n = 0;
	int rc = AGENT_OK;

	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     hkdf_digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	if (ctx == NULL ||
	    EVP_MAC_init(ctx, mac_key, CRYPTO_KEY_LEN, params) != 1 ||
	    EVP_MAC_update(ctx, msg, len) != 1 ||
	    EVP_MAC_final(ctx, tag, &n, CRYPTO_MAC_LEN) != 1 ||
	    n != CRYPTO_MAC_LEN)
		rc = openssl_fail(err, "manifest MAC (HMAC-SHA256)");
	EVP_MAC_CTX_free(ctx); /* cleanses the key */
	EVP_MAC_free(mac);
	return rc;
}

int crypto_file_manifest_mac(const struct crypto_file *f, const void *msg,
			     size_t len, uint8_t tag[CRYPTO_MAC_LEN],
			     struct agent_error *err)
{
	if (!f->encrypt)
		return agent_fail(err, AGENT_EIO,
				  "manifest MAC: not an encrypting file");
	return crypto_manifest_mac(tag, f->mac_key, msg, len, err);
}

bool crypto_mac_equal(const uint8_t a[CRYPTO_MAC_LEN],
		      const uint8_t b[CRYPTO_MAC_LEN])
{
	return CRYPTO_memcmp(a, b, CRYPTO_MAC_LEN) == 0;
}
