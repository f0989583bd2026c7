/*
 * err: the error value every library function fills in.
 *
 * Library code never exits.  A fallible function returns -1 (or NULL) and
 * fills an at_err with a sysexits(3) code and a one-line, lowercase message
 * that names the input and position.  The tool prints the message and exits
 * with the code.  Messages never contain secrets.
 */
#ifndef AT_ERR_H
#define AT_ERR_H

#include <stddef.h>
#include <sysexits.h>

#define AT_ERR_MSG 512

typedef struct at_err {
	int code; /* sysexits(3) value; 0 when no error */
	char msg[AT_ERR_MSG];
} at_err;

/* Set code and message (printf-style).  Always returns -1. */
int at_err_set(at_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix the existing message with "fmt: ".  Returns -1. */
int at_err_prefix(at_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void at_err_clear(at_err *e);

#endif
