#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(void)
{
	fputs("at: out of memory\n", stderr);
	abort();
}

void *at_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

void *at_xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (p == NULL)
		oom();
	return p;
}

void *at_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL)
		oom();
	return q;
}

char *at_xstrdup(const char *s)
{
	return at_xstrndup(s, strlen(s));
}

char *at_xstrndup(const char *s, size_t n)
{
	char *p = at_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void at_buf_grow(at_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	size_t cap;

	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	b->data = at_xrealloc(b->data, cap);
	b->cap = cap;
}

void at_buf_add(at_buf *b, const void *p, size_t n)
{
	at_buf_grow(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void at_buf_puts(at_buf *b, const char *s)
{
	at_buf_add(b, s, strlen(s));
}

void at_buf_putc(at_buf *b, char c)
{
	at_buf_grow(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void at_buf_printf(at_buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(tmp)) {
		at_buf_add(b, tmp, (size_t)n);
		return;
	}
	at_buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void at_buf_reset(at_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void at_buf_release(at_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void at_buf_wipe_release(at_buf *b)
{
	if (b->data)
		explicit_bzero(b->data, b->cap);
	at_buf_release(b);
}

char *at_buf_detach(at_buf *b, size_t *len)
{
	char *p;

	if (b->data == NULL)
		at_buf_grow(b, 0), b->data[0] = '\0';
	p = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
