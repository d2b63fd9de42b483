/*
 * The read-back pipeline: find a backup, read its manifest, stream it
 * back through the stages and check it against the manifest.
 */
#include "agent/pipe/fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/ops/log.h"
#include "agent/proc/source.h"
#include "agent/pipe/stages.h"
#include "agent/repo/storage.h"
#include "common/clock.h"
#include "retention/retention.h"

/* ---- finding the backup ---- */

int fetch_resolve(char **key, s3_client *s3, const char *prefix,
		  const char *target, const char *type, const char *database,
		  struct trust *t, struct agent_error *err)
{
	struct retention_error rerr;
	int rc;

	rc = trust_resolve(key, s3, t, prefix, target, type, database, &rerr);
	if (rc == RETENTION_OK)
		return AGENT_OK;
	return agent_fail(err,
			  rc == RETENTION_ENOMEM ? AGENT_ENOMEM : AGENT_EIO,
			  "%s", rerr.msg);
}

/* ---- the manifest ---- */

void fetch_backup_dispose(struct fetch_backup *b)
{
	free(b->key);
	free(b->etag);
	manifest_store_free(b->store);
	memset(b, 0, sizeof(*b));
}

/* The manifest is missing: is the backup? */
static int no_manifest(s3_client *s3, const char *key, struct agent_error *err)
{
	struct s3_object_info info;
	s3_error serr;
	int rc = s3_head_object(&info, s3, key, &serr);

	s3_object_info_dispose(&info);
	if (rc == S3_ENOTFOUND)
		return agent_fail(err, AGENT_EIO, "no such backup");
	if (rc != S3_OK)
		return storage_error(err, &serr, "cannot read the backup");
	return agent_fail(err, AGENT_ECORRUPT,
			  "no manifest: not a complete backup (its upload "
			  "did not finish, or the manifest was deleted)");
}

struct header_ctx {
	uint8_t buf[CRYPTO_HEADER_LEN];
	size_t len;
};

static int on_header(void *ctx, const void *data, size_t len)
{
	struct header_ctx *h = ctx;
	size_t n =
		len < sizeof(h->buf) - h->len ? len : sizeof(h->buf) - h->len;

	memcpy(h->buf + h->len, data, n);
	h->len += n;
	return 0;
}

/* The object's header is the one its authenticated manifest covers. */
static int check_header(struct fetch_backup *b, s3_client *s3,
			struct agent_error *err)
{
	struct s3_object_info info = {0};
	struct header_ctx h = {0};
	s3_error serr;
	int src, rc;

	src = s3_get_object(&info, s3, b->key, 0, CRYPTO_HEADER_LEN, on_header,
			    &h, &serr);
	if (src == S3_ENOTFOUND)
		rc = agent_fail(err, AGENT_ECORRUPT,
				"the backup object is gone (its manifest is "
				"there)");
	else if ((src == S3_EHTTP && serr.http_status == 416) ||
		 (src == S3_OK && h.len == 0))
		rc = agent_fail(err, AGENT_ETRUNC,
				"the backup object is empty (its manifest "
				"covers a header)");
	else if (src != S3_OK)
		rc = storage_error(err, &serr,
				   "cannot read the backup's header");
	else if (h.len != CRYPTO_HEADER_LEN ||
		 memcmp(h.buf, b->m.header, CRYPTO_HEADER_LEN) != 0)
		rc = agent_fail(err, AGENT_EAUTH,
				"the object's header is not the one its "
				"manifest covers: another file was put in "
				"its place");
	else if (info.etag && info.etag[0] != '\0' &&
		 !(b->etag = strdup(info.etag)))
		rc = agent_fail(err, AGENT_ENOMEM, "out of memory");
	else
		rc = AGENT_OK;
	s3_object_info_dispose(&info);
	return rc;
}

int fetch_open(struct fetch_backup *b, s3_client *s3, const char *key,
	       const struct trust *t, struct agent_error *err)
{
	char *mkey = NULL, *text = NULL, why[256];
	size_t len = 0;
	s3_error serr;
	int rc, src;

	memset(b, 0, sizeof(*b));
	b->key = strdup(key);
	if (b->key == NULL ||
	    asprintf(&mkey, "%s%s", key, RETENTION_MANIFEST_SUFFIX) < 0) {
		mkey = NULL;
		rc = agent_fail(err, AGENT_ENOMEM, "out of memory");
		goto out;
	}
	src = s3_get_object_buf(&text, &len, s3, mkey, MANIFEST_MAX, &serr);
	if (src == S3_ENOTFOUND) {
		rc = no_manifest(s3, key, err);
		goto out;
	}
	if (src == S3_EPROTO) {
		rc = agent_fail(err, AGENT_ECORRUPT,
				"cannot read the manifest: %s", serr.msg);
		goto out;
	}
	if (src != S3_OK) {
		rc = storage_error(err, &serr, "cannot read the manifest");
		goto out;
	}
	if (manifest_parse(&b->m, &b->store, text, len, why, sizeof(why))) {
		rc = agent_fail(err, AGENT_ECORRUPT, "%s", why);
		goto out;
	}
	/* Its name, its encryption and, with the key, its MAC. */
	rc = trust_check(t, &b->m, key, &b->authentic, err);
	if (rc != AGENT_OK)
		goto out;
	b->encrypted = b->m.encrypted;
	if (b->authentic)
		rc = check_header(b, s3, err);
out:
	free(text);
	free(mkey);
	if (rc != AGENT_OK)
		fetch_backup_dispose(b);
	return rc;
}

/* ---- the plain tail: what the end-of-dump check reads ---- */

/* It also bounds the plain bytes: none past the manifest's size reach the
 * sink, however far a small object inflates. */
struct plain_tail {
	struct stream base;
	uint64_t seen, limit;
	unsigned char head[4];
	size_t head_len;
	char tail[SOURCE_TAIL];
	size_t tail_len;
};

static int tail_write(struct stream *s, const void *data, size_t len)
{
	struct plain_tail *t = (struct plain_tail *)s;
	const char *p = data;

	if (len > t->limit - t->seen)
		return agent_fail(s->err, AGENT_ECORRUPT,
				  "the plain dump is larger than its manifest "
				  "says (%llu bytes)",
				  (unsigned long long)t->limit);
	t->seen += len;
	/* Until the head is full, every byte so far went into it. */
	for (size_t i = 0; i < len && t->head_len < sizeof(t->head); i++)
		t->head[t->head_len++] = (unsigned char)p[i];
	if (len >= SOURCE_TAIL) {
		memcpy(t->tail, p + len - SOURCE_TAIL, SOURCE_TAIL);
		t->tail_len = SOURCE_TAIL;
	} else {
		if (t->tail_len + len > SOURCE_TAIL) {
			size_t keep = SOURCE_TAIL - len;
			memmove(t->tail, t->tail + t->tail_len - keep, keep);
			t->tail_len = keep;
		}
		memcpy(t->tail + t->tail_len, p, len);
		t->tail_len += len;
	}
	return stream_emit(s, data, len);
}

static int tail_finish(struct stream *s)
{
	return stream_finish(s->next);
}

static void tail_free(struct stream *s)
{
	free(s);
}

static const struct stream_ops tail_ops = {
	.name = "tail",
	.write = tail_write,
	.finish = tail_finish,
	.free = tail_free,
};

static int tail_new(struct stream **out, struct stream *next, uint64_t limit,
		    struct agent_error *err)
{
	struct plain_tail *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (t == NULL)
		return agent_fail(err, AGENT_ENOMEM, "out of memory");
	t->base.ops = &tail_ops;
	t->base.next = next;
	t->base.err = err;
	t->limit = limit;
	*out = &t->base;
	return AGENT_OK;
}

/* A plain dump that pg_dump compressed itself (-Z) has no marker to see:
 * gzip, lz4 and zstd output start with their magic, SQL never does. */
static bool compressed(const struct plain_tail *t)
{
	static const unsigned char magic[][4] = {
		{0x1f, 0x8b, 0, 0},
		{0x04, 0x22, 0x4d, 0x18},
		{0x28, 0xb5, 0x2f, 0xfd},
	};
	static const size_t mlen[] = {2, 4, 4};

	for (size_t i = 0; i < sizeof(mlen) / sizeof(*mlen); i++) {
		if (t->head_len >= mlen[i] &&
		    memcmp(t->head, magic[i], mlen[i]) == 0)
			return true;
	}
	return false;
}

/* ---- the run ---- */

struct get_ctx {
	struct stream *head;
	uint64_t received, expected;
	struct agent_error *err;
	struct fetch_pin *record;      /* a check pass: fills it */
	const struct fetch_pin *match; /* a load pass: must see it again */
	/* The bytes the object must begin with: the load pass's, or the
	 * header an authenticated manifest covers. */
	const unsigned char *want;
	size_t want_len;
	const char *want_why;
};

static int write_copy(int fd, const void *data, size_t len,
		      struct agent_error *err)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return agent_fail(err, AGENT_EIO,
					  "cannot keep a copy of the backup: "
					  "%s",
					  strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return AGENT_OK;
}

static int on_data(void *ctx, const void *data, size_t len)
{
	struct get_ctx *g = ctx;

	/* Appended bytes need not reach the sink to be refused. */
	if (len > g->expected - g->received) {
		agent_fail(g->err, AGENT_ECORRUPT,
			   "the object is larger than its manifest says "
			   "(%llu bytes)",
			   (unsigned long long)g->expected);
		return 1;
	}
	if (g->received < g->want_len) {
		size_t off = (size_t)g->received,
		       n = g->want_len - off < len ? g->want_len - off : len;

		if (memcmp(data, g->want + off, n) != 0) {
			agent_fail(g->err, AGENT_ECORRUPT, "%s", g->want_why);
			return 1;
		}
	}
	if (g->record != NULL) {
		struct fetch_pin *p = g->record;

		if (g->received < FETCH_PIN_HEAD) {
			size_t off = (size_t)g->received,
			       n = FETCH_PIN_HEAD - off < len
					   ? FETCH_PIN_HEAD - off
					   : len;

			memcpy(p->head + off, data, n);
			p->head_len = off + n;
		}
		if (p->copy_fd >= 0 &&
		    write_copy(p->copy_fd, data, len, g->err) != AGENT_OK)
			return 1;
	}
	g->received += len;
	return stream_write(g->head, data, len) != AGENT_OK;
}

/* The load pass from the private copy: the same bytes, from the disk. */
static int read_copy(struct get_ctx *g, int fd)
{
	unsigned char buf[64 * 1024];
	off_t off = 0;

	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf), off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return agent_fail(g->err, AGENT_EIO,
					  "cannot read the copy of the "
					  "backup: %s",
					  strerror(errno));
		if (n == 0)
			return AGENT_OK;
		if (on_data(g, buf, (size_t)n) != 0)
			return g->err->code != AGENT_OK
				       ? g->err->code
				       : agent_fail(g->err, AGENT_EIO,
						    "the restore stopped");
		off += n;
	}
}

struct chain {
	struct stream *hash_stored, *decrypt, *gunzip, *hash_plain, *tail;
};

static void chain_free(struct chain *ch)
{
	stream_free(ch->hash_stored);
	stream_free(ch->decrypt);
	stream_free(ch->gunzip);
	stream_free(ch->hash_plain);
	stream_free(ch->tail);
}

static int chain_build(struct chain *ch, const struct crypto_key *key,
		       uint64_t plain_limit, struct stream *sink,
		       struct agent_error *err)
{
	int rc = tail_new(&ch->tail, sink, plain_limit, err);

	if (rc == AGENT_OK)
		rc = stage_hash_new(&ch->hash_plain, ch->tail, err);
	if (rc == AGENT_OK)
		rc = stage_gunzip_new(&ch->gunzip, ch->hash_plain, err);
	if (rc == AGENT_OK && key != NULL)
		rc = stage_decrypt_new(&ch->decrypt, ch->gunzip, err, key);
	if (rc == AGENT_OK)
		rc = stage_hash_new(&ch->hash_stored,
				    ch->decrypt ? ch->decrypt : ch->gunzip,
				    err);
	return rc;
}

/* The digests and sizes against the manifest, then the marker. */
static int check(struct fetch_result *res, const struct chain *ch,
		 const struct manifest *m, struct agent_error *err)
{
	char hex[65];
	uint64_t n = 0;

	if (stage_hash_result(ch->hash_stored, hex, &n) != AGENT_OK)
		return err->code;
	res->stored_bytes = n;
	if (n != m->stored_bytes)
		return agent_fail(err, AGENT_ECORRUPT,
				  "stored size is %llu bytes, the manifest "
				  "says %llu",
				  (unsigned long long)n,
				  (unsigned long long)m->stored_bytes);
	if (strcmp(hex, m->stored_sha256) != 0)
		return agent_fail(err, AGENT_ECORRUPT,
				  "SHA-256 of the stored bytes is %s, the "
				  "manifest says %s",
				  hex, m->stored_sha256);
	if (stage_hash_result(ch->hash_plain, hex, &n) != AGENT_OK)
		return err->code;
	res->plain_bytes = n;
	if (n != m->plain_bytes)
		return agent_fail(err, AGENT_ECORRUPT,
				  "plain size is %llu bytes, the manifest "
				  "says %llu",
				  (unsigned long long)n,
				  (unsigned long long)m->plain_bytes);
	if (strcmp(hex, m->plain_sha256) != 0)
		return agent_fail(err, AGENT_ECORRUPT,
				  "SHA-256 of the plain dump is %s, the "
				  "manifest says %s",
				  hex, m->plain_sha256);
	if (m->format != NULL && strcmp(m->format, "plain") == 0) {
		const struct plain_tail *t =
			(const struct plain_tail *)ch->tail;

		if (!compressed(t) &&
		    !source_pg_marker_seen(t->tail, t->tail_len))
			return agent_fail(err, AGENT_ECORRUPT,
					  "the pg_dump output does not end "
					  "with its end-of-dump marker");
	}
	return AGENT_OK;
}

/* Why the GET failed, as the chain's error. */
static int get_failed(int src, const s3_error *serr, struct agent_error *err)
{
	if (err->code != AGENT_OK)
		return err->code; /* a stage or the sink said why */
	if (src == S3_EABORTED)
		return agent_fail(err, AGENT_ECANCEL, "download stopped: %s",
				  serr->msg);
	if (src == S3_ENOTFOUND)
		return agent_fail(err, AGENT_ECORRUPT,
				  "the backup object is gone (its manifest "
				  "is there)");
	if (src == S3_EHTTP && serr->http_status == 412)
		return agent_fail(err, AGENT_ECORRUPT,
				  "the backup changed after it was checked "
				  "(another object under its key): %s",
				  serr->msg);
	return storage_error(err, serr, "download failed");
}

/* One pass: RECORD for a check pass, MATCH for a load pass, or neither. */
static int run(struct fetch_result *res, s3_client *s3,
	       const struct fetch_backup *b, const struct crypto_key *key,
	       struct stream *sink, struct fetch_pin *record,
	       const struct fetch_pin *match, struct agent_error *err)
{
	struct chain ch = {0};
	struct get_ctx g = {0};
	struct timespec t0;
	/* Every pass reads the object fetch_open checked, when it did. */
	const char *etag = record  ? record->etag
			   : match ? match->etag
				   : b->etag;
	s3_error serr;
	int rc, src;

	memset(res, 0, sizeof(*res));
	mono_now(&t0);
	if (b->encrypted && key == NULL)
		return agent_fail(err, AGENT_EIO,
				  "the backup is encrypted and no key is "
				  "configured (key_file or passphrase_file "
				  "in [encryption])");
	rc = chain_build(&ch, b->encrypted ? key : NULL, b->m.plain_bytes, sink,
			 err);
	if (rc != AGENT_OK)
		goto out;
	g.head = ch.hash_stored;
	g.expected = b->m.stored_bytes;
	g.err = err;
	g.record = record;
	g.match = match;
	if (match != NULL) {
		g.want = match->head;
		g.want_len = match->head_len;
		g.want_why = "the backup changed after it was checked (its "
			     "first bytes differ)";
	} else if (b->authentic && b->m.has_header) {
		/* An answer from another object, whatever its ETag says. */
		g.want = b->m.header;
		g.want_len = CRYPTO_HEADER_LEN;
		g.want_why = "the object's header is not the one its manifest "
			     "covers: another file was put in its place";
	}
	if (match != NULL && match->copy_fd >= 0) {
		rc = read_copy(&g, match->copy_fd);
		if (rc != AGENT_OK)
			goto out;
	} else {
		if (etag != NULL)
			src = s3_get_object_if_match(NULL, s3, b->key, etag,
						     on_data, &g, &serr);
		else
			src = s3_get_object(NULL, s3, b->key, 0, 0, on_data, &g,
					    &serr);
		if (src != S3_OK) {
			rc = get_failed(src, &serr, err);
			goto out;
		}
	}
	rc = stream_finish(ch.hash_stored);
	if (rc == AGENT_OK)
		rc = check(res, &ch, &b->m, err);
	res->seconds = mono_elapsed_s(&t0);
out:
	chain_free(&ch);
	return rc;
}

int fetch_run(struct fetch_result *res, s3_client *s3,
	      const struct fetch_backup *b, const struct crypto_key *key,
	      struct stream *sink, struct agent_error *err)
{
	return run(res, s3, b, key, sink, NULL, NULL, err);
}

/* ---- check, then load the same ---- */

void fetch_pin_init(struct fetch_pin *pin)
{
	memset(pin, 0, sizeof(*pin));
	pin->copy_fd = -1;
}

void fetch_pin_dispose(struct fetch_pin *pin)
{
	free(pin->etag);
	if (pin->copy_fd >= 0)
		close(pin->copy_fd);
	fetch_pin_init(pin);
}

/* A file nobody else can open: unnamed (O_TMPFILE) where the file system
 * can, else created exclusively, mode 0600, and unlinked at once. */
static int private_copy(int *fd, struct agent_error *err)
{
	const char *dir = getenv("TMPDIR");
	char *path = NULL;

	if (dir == NULL || dir[0] != '/')
		dir = "/var/tmp";
	*fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
	if (*fd >= 0)
		return AGENT_OK;
	if (asprintf(&path, "%s/.offsite-copy-XXXXXX", dir) < 0)
		return agent_fail(err, AGENT_ENOMEM, "out of memory");
	*fd = mkostemp(path, O_CLOEXEC);
	if (*fd >= 0)
		(void)unlink(path);
	free(path);
	if (*fd < 0)
		return agent_fail(err, AGENT_EIO,
				  "cannot keep a copy of the backup in %s: %s",
				  dir, strerror(errno));
	return AGENT_OK;
}

int fetch_check(struct fetch_pin *pin, struct fetch_result *res, s3_client *s3,
		const struct fetch_backup *b, const struct crypto_key *key,
		struct agent_error *err)
{
	struct s3_object_info info;
	struct stream *null = NULL;
	s3_error serr;
	int rc, src;

	memset(res, 0, sizeof(*res));
	if (b->etag != NULL) {
		/* The object whose header fetch_open checked. */
		if ((pin->etag = strdup(b->etag)) == NULL)
			return agent_fail(err, AGENT_ENOMEM, "out of memory");
	} else {
		src = s3_head_object(&info, s3, b->key, &serr);
		if (src == S3_OK && info.etag != NULL && info.etag[0] != '\0') {
			pin->etag = info.etag;
			info.etag = NULL;
		}
		s3_object_info_dispose(&info);
		if (src != S3_OK)
			return get_failed(src, &serr, err);
	}
	if (pin->etag == NULL) {
		log_event(LOG_INFO,
			  "the server gives the backup no ETag: keeping a "
			  "private copy of it to load from",
			  "key", b->key, NULL);
		rc = private_copy(&pin->copy_fd, err);
		if (rc != AGENT_OK)
			return rc;
	}
	rc = stage_null_new(&null, err);
	if (rc == AGENT_OK)
		rc = run(res, s3, b, key, null, pin, NULL, err);
	stream_free(null);
	pin->checked = rc == AGENT_OK;
	return rc;
}

int fetch_load(struct fetch_result *res, s3_client *s3,
	       const struct fetch_backup *b, const struct crypto_key *key,
	       const struct fetch_pin *pin, struct stream *sink,
	       struct agent_error *err)
{
	if (!pin->checked)
		return agent_fail(err, AGENT_EIO,
				  "a load pass without its check pass");
	return run(res, s3, b, key, sink, NULL, pin, err);
}

int fetch_load_key(struct crypto_key *key, bool *have, const conf *c,
		   struct agent_error *err)
{
	int rc;

	*have = false;
	if (c->encryption.key_file != NULL)
		rc = crypto_key_load_file(key, c->encryption.key_file, err);
	else if (c->encryption.passphrase_file != NULL)
		/* The scrypt cost is each file's; the default fills the key. */
		rc = crypto_key_load_passphrase(
			key, c->encryption.passphrase_file, NULL, err);
	else
		return 0;
	if (rc != AGENT_OK)
		return -1;
	*have = true;
	return 0;
}
