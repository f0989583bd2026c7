/*
 * buf: a growable byte buffer, always NUL-terminated (like git's strbuf).
 *
 * at_buf b = AT_BUF_INIT; at_buf_puts(&b, "x"); ... at_buf_release(&b);
 * Allocation failure aborts: a tool that cannot allocate a few bytes
 * cannot do anything useful, and every caller checking it would hide the
 * real error paths.
 */
#ifndef AT_BUF_H
#define AT_BUF_H

#include <stddef.h>

typedef struct at_buf {
	char *data;
	size_t len;
	size_t cap;
} at_buf;

#define AT_BUF_INIT                                                            \
	{                                                                      \
		NULL, 0, 0                                                     \
	}

void at_buf_grow(at_buf *b, size_t extra);
void at_buf_add(at_buf *b, const void *p, size_t n);
void at_buf_puts(at_buf *b, const char *s);
void at_buf_putc(at_buf *b, char c);
void at_buf_printf(at_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void at_buf_reset(at_buf *b);
/* Free the storage (wiping it first when wipe != 0). */
void at_buf_release(at_buf *b);
void at_buf_wipe_release(at_buf *b);
/* Hand the storage to the caller (who frees it); b is reset. */
char *at_buf_detach(at_buf *b, size_t *len);

/* Allocation helpers that abort on failure. */
void *at_xmalloc(size_t n);
void *at_xcalloc(size_t n, size_t m);
void *at_xrealloc(void *p, size_t n);
char *at_xstrdup(const char *s);
char *at_xstrndup(const char *s, size_t n);

#endif
