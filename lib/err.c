#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int at_err_set(at_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int at_err_prefix(at_err *e, const char *fmt, ...)
{
	char pre[AT_ERR_MSG];
	size_t n, m;
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	n = strlen(pre);
	if (n + 2 >= sizeof(e->msg))
		return -1;
	m = strnlen(e->msg, sizeof(e->msg) - 1);
	if (n + 2 + m >= sizeof(e->msg))
		m = sizeof(e->msg) - n - 3;
	memmove(e->msg + n + 2, e->msg, m);
	memcpy(e->msg, pre, n);
	e->msg[n] = ':';
	e->msg[n + 1] = ' ';
	e->msg[n + 2 + m] = '\0';
	return -1;
}

void at_err_clear(at_err *e)
{
	if (e == NULL)
		return;
	e->code = 0;
	e->msg[0] = '\0';
}
