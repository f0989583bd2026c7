/*
 * capture: raw ticker frames on disk, for replay and debugging
 * (at-feed --capture FILE; the format is documented in at-streams(5)).
 *
 *   file    = magic record*
 *   magic   = the 8 bytes "ATCAP01\n"
 *   record  = length:u32 recv_us:i64 kind:u8 conn:u8 reserved:u16 payload
 *
 * Integers are big-endian.  length counts the payload only (at most
 * AT_CAPTURE_MAX_FRAME).  recv_us is the receive time in epoch
 * microseconds.  kind is 0 for a binary frame, 1 for a text frame.  conn
 * is the ticker connection (0..2) it came on.  reserved is 0.
 */
#ifndef AT_CAPTURE_H
#define AT_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "err.h"

#define AT_CAPTURE_MAGIC "ATCAP01\n"
#define AT_CAPTURE_MAGIC_LEN 8
#define AT_CAPTURE_HDR 16
#define AT_CAPTURE_MAX_FRAME (16u << 20)

enum at_capture_kind { AT_CAPTURE_BINARY = 0, AT_CAPTURE_TEXT = 1 };

struct at_capture_rec {
	int64_t recv_us;
	int kind; /* enum at_capture_kind */
	int conn;
	const uint8_t *data; /* valid until the next call */
	size_t len;
	uint64_t offset; /* of the record header in the file */
};

/* Append one record to b (a writer puts AT_CAPTURE_MAGIC first). */
void at_capture_append(at_buf *b, int64_t recv_us, int kind, int conn,
		       const void *data, size_t len);

/* Reading: from a FILE (not owned). */
typedef struct at_capture_reader at_capture_reader;

/* Reads and checks the magic: NULL with e (EX_DATAERR) when absent. */
at_capture_reader *at_capture_open(FILE *f, const char *where, at_err *e)
    __attribute__((warn_unused_result));
/*
 * Next record: 1 and *rec filled, 0 at end of file, -1 with e naming the
 * byte offset on a truncated record, an impossible length, an unknown kind
 * or nonzero reserved bits (the framing is lost: stop reading), or a read
 * error (EX_IOERR).
 */
int at_capture_next(at_capture_reader *r, struct at_capture_rec *rec, at_err *e)
    __attribute__((warn_unused_result));
void at_capture_close(at_capture_reader *r);

/* 1 when p starts with the capture magic. */
int at_capture_is_capture(const void *p, size_t n);

#endif
