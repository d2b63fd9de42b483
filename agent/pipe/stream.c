/*
 * The stream interface: the small amount of logic every stage shares.
 */
#include "agent/pipe/stream.h"

#include <stdarg.h>
#include <stdio.h>

int stream_fail(struct stream_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err && err->code == STREAM_OK) {
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

bool stream_code_is_integrity(int code)
{
	return code == STREAM_EFORMAT || code == STREAM_ETRUNC ||
	       code == STREAM_EAUTH || code == STREAM_ECORRUPT;
}

int stream_write(struct stream *s, const void *data, size_t len)
{
	int rc;

	if (s->finished)
		return stream_fail(s->err, STREAM_EIO, "%s: write after finish",
				   s->ops->name);
	if (len == 0)
		return STREAM_OK;
	rc = s->ops->write(s, data, len);
	if (rc == STREAM_OK)
		s->bytes_in += len;
	return rc;
}

int stream_finish(struct stream *s)
{
	if (s->finished)
		return stream_fail(s->err, STREAM_EIO, "%s: finished twice",
				   s->ops->name);
	s->finished = true;
	return s->ops->finish(s);
}

void stream_free(struct stream *s)
{
	if (s)
		s->ops->free(s);
}

void stream_free_chain(struct stream *head)
{
	while (head) {
		struct stream *next = head->next;
		stream_free(head);
		head = next;
	}
}
