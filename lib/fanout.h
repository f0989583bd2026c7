/*
 * fanout: one stream of lines to every FIFO in a directory, without ever
 * letting one consumer stall the others (FIFOs instead of a broker).
 *
 *   at_fanout *f = at_fanout_new("/run/at/ticks", 4 << 20, &e);
 *   at_fanout_scan(f);                  // now and then (e.g. every second)
 *   at_fanout_write(f, lines, len);     // whole lines, in order
 *   at_fanout_flush(f);                 // retry what the pipes refused
 *
 * Every FIFO (S_ISFIFO) in the directory is a consumer.  It is opened for
 * writing with O_NONBLOCK: a FIFO nobody reads fails with ENXIO and is
 * skipped until a reader opens it (the next scan finds it).  Writes never
 * block; what a pipe does not take waits in the consumer's own buffer of
 * at most cap bytes.  A consumer whose backlog would exceed cap is
 * dropped: its descriptor closed (the reader sees end of file, possibly
 * after a partial last line), one warning logged, and its FIFO left alone
 * for a cool-down of 5 s before a scan may open it again.  A reader that
 * goes away (EPIPE) or a FIFO removed from the directory is forgotten
 * quietly.  Single-threaded.
 */
#ifndef AT_FANOUT_H
#define AT_FANOUT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct at_fanout at_fanout;

/* dir must exist and be a directory (EX_NOINPUT otherwise). */
at_fanout *at_fanout_new(const char *dir, size_t cap, at_err *e)
    __attribute__((warn_unused_result));
void at_fanout_free(at_fanout *f);

/* Rescan the directory: open new FIFOs that have a reader, forget removed
 * ones.  Returns the number of open consumers. */
size_t at_fanout_scan(at_fanout *f);

/* Queue p[0..n) for every open consumer and write as much as each pipe
 * takes. */
void at_fanout_write(at_fanout *f, const char *p, size_t n);

/* Write pending backlogs.  Returns the total bytes still pending. */
size_t at_fanout_flush(at_fanout *f);

/* Open consumers; consumers dropped so far (for the counters). */
size_t at_fanout_consumers(const at_fanout *f);
uint64_t at_fanout_dropped(const at_fanout *f);

/* Bytes pending for the consumer on FIFO name (a file name in dir), or
 * -1 when that FIFO is not an open consumer. */
long at_fanout_pending(const at_fanout *f, const char *name);

#endif
