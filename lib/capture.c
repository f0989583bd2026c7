/*
 * capture: length-prefixed raw frames with receive timestamps.
 */
#include "capture.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct at_capture_reader {
	FILE *f;
	char *where;
	uint64_t off;
	uint8_t *buf;
	size_t cap;
};

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

void at_capture_append(at_buf *b, int64_t recv_us, int kind, int conn,
		       const void *data, size_t len)
{
	uint8_t h[AT_CAPTURE_HDR];

	put_be(h, (uint64_t)len, 4);
	put_be(h + 4, (uint64_t)recv_us, 8);
	h[12] = (uint8_t)kind;
	h[13] = (uint8_t)conn;
	h[14] = h[15] = 0;
	at_buf_add(b, h, sizeof(h));
	at_buf_add(b, data, len);
}

int at_capture_is_capture(const void *p, size_t n)
{
	return n >= AT_CAPTURE_MAGIC_LEN &&
	       memcmp(p, AT_CAPTURE_MAGIC, AT_CAPTURE_MAGIC_LEN) == 0;
}

at_capture_reader *at_capture_open(FILE *f, const char *where, at_err *e)
{
	uint8_t m[AT_CAPTURE_MAGIC_LEN];
	at_capture_reader *r;

	if (fread(m, 1, sizeof(m), f) != sizeof(m) ||
	    !at_capture_is_capture(m, sizeof(m))) {
		at_err_set(e, EX_DATAERR, "%s: offset 0: not a capture file",
			   where);
		return NULL;
	}
	r = at_xcalloc(1, sizeof(*r));
	r->f = f;
	r->where = at_xstrdup(where);
	r->off = AT_CAPTURE_MAGIC_LEN;
	return r;
}

int at_capture_next(at_capture_reader *r, struct at_capture_rec *rec, at_err *e)
{
	uint8_t h[AT_CAPTURE_HDR];
	size_t got = fread(h, 1, sizeof(h), r->f);
	uint64_t len;

	if (got == 0) {
		if (ferror(r->f))
			return at_err_set(e, EX_IOERR, "%s: %s", r->where,
					  strerror(errno));
		return 0;
	}
	if (got != sizeof(h))
		return at_err_set(e, EX_DATAERR,
				  "%s: offset %llu: truncated record header "
				  "(%zu of %d bytes)",
				  r->where, (unsigned long long)r->off, got,
				  AT_CAPTURE_HDR);
	len = get_be(h, 4);
	if (len > AT_CAPTURE_MAX_FRAME)
		return at_err_set(e, EX_DATAERR,
				  "%s: offset %llu: impossible frame length "
				  "%llu",
				  r->where, (unsigned long long)r->off,
				  (unsigned long long)len);
	if (h[12] > AT_CAPTURE_TEXT || h[14] != 0 || h[15] != 0)
		return at_err_set(
		    e, EX_DATAERR,
		    "%s: offset %llu: bad record header (kind %u)", r->where,
		    (unsigned long long)r->off, h[12]);
	if (len + 1 > r->cap) {
		r->cap = (size_t)len + 1;
		free(r->buf);
		r->buf = at_xmalloc(r->cap);
	}
	got = len ? fread(r->buf, 1, (size_t)len, r->f) : 0;
	if (got != len)
		return at_err_set(e, EX_DATAERR,
				  "%s: offset %llu: truncated frame (%zu of "
				  "%llu bytes)",
				  r->where, (unsigned long long)r->off, got,
				  (unsigned long long)len);
	rec->recv_us = (int64_t)get_be(h + 4, 8);
	rec->kind = h[12];
	rec->conn = h[13];
	rec->data = r->buf;
	rec->len = (size_t)len;
	rec->offset = r->off;
	r->off += AT_CAPTURE_HDR + len;
	return 1;
}

void at_capture_close(at_capture_reader *r)
{
	if (r == NULL)
		return;
	free(r->buf);
	free(r->where);
	free(r);
}
