/*
 * The stream interface: the small amount of logic every stage shares.
 */
#include "agent/pipe/stream.h"

#include <stdio.h>

int stream_write(struct stream *s, const void *data, size_t len)
{
	int rc;

	if (s->finished)
		return agent_fail(s->err, AGENT_EIO, "%s: write after finish",
				  s->ops->name);
	if (len == 0)
		return AGENT_OK;
	rc = s->ops->write(s, data, len);
	if (rc == AGENT_OK)
		s->bytes_in += len;
	return rc;
}

int stream_finish(struct stream *s)
{
	if (s->finished)
		return agent_fail(s->err, AGENT_EIO, "%s: finished twice",
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
