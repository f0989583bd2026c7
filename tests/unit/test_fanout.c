/*
 * test_fanout: real FIFOs in a temp dir: a reader that never reads is
 * dropped, a fast reader gets every line in order, a FIFO without a reader
 * is skipped until one opens it, removed FIFOs are forgotten.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fanout.h"
#include "log.h"
#include "t.h"

#define LINES 3000
#define CAP (1u << 20)

struct reader {
	int fd;
	at_buf got;
};

static void *read_all(void *arg)
{
	struct reader *r = arg;
	char buf[65536];
	ssize_t n;

	while ((n = read(r->fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		at_buf_add(&r->got, buf, (size_t)n);
	}
	return NULL;
}

static void make_line(at_buf *b, int i)
{
	at_buf_reset(b);
	at_buf_printf(b, "{\"seq\":%d,\"pad\":\"", i);
	for (int k = 0; k < 1000; k++)
		at_buf_putc(b, (char)('a' + (i + k) % 26));
	at_buf_puts(b, "\"}\n");
}

int main(void)
{
	char dir[] = "/tmp/at-fanout-XXXXXX";
	char fast[256], slow[256], none[256], path[256];
	struct reader fr = {-1, AT_BUF_INIT};
	at_buf line = AT_BUF_INIT, want = AT_BUF_INIT;
	pthread_t th;
	at_err e = {0, ""};
	at_fanout *f;
	int slow_fd, none_fd, fl;
	char tmp[4096];
	ssize_t n;
	size_t slow_got = 0;

	at_log_init("test_fanout");
	at_log_set_level(AT_LOG_ERROR);
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(fast, sizeof(fast), "%s/fast", dir);
	snprintf(slow, sizeof(slow), "%s/slow", dir);
	snprintf(none, sizeof(none), "%s/none", dir);
	T_OK(mkfifo(fast, 0600) == 0 && mkfifo(slow, 0600) == 0 &&
		 mkfifo(none, 0600) == 0,
	     "fifos made");
	snprintf(path, sizeof(path), "%s/plain", dir);
	{
		FILE *pf = fopen(path, "w");
		if (pf)
			fclose(pf);
	}

	T_OK(at_fanout_new("/nonexistent/dir", CAP, &e) == NULL &&
		 e.code == EX_NOINPUT,
	     "missing dir refused: %s", e.msg);
	f = at_fanout_new(dir, CAP, &e);
	T_OK(f != NULL, "fanout on %s", dir);
	if (f == NULL)
		return t_done();
	T_EQ_INT(at_fanout_scan(f), 0, "no readers: nothing opened");

	fr.fd = open(fast, O_RDONLY | O_NONBLOCK);
	slow_fd = open(slow, O_RDONLY | O_NONBLOCK);
	T_EQ_INT(at_fanout_scan(f), 2, "two readers: two consumers");
	T_EQ_INT(at_fanout_pending(f, "none"), -1, "reader-less fifo skipped");
	T_EQ_INT(at_fanout_pending(f, "plain"), -1, "plain file ignored");
	fl = fcntl(fr.fd, F_GETFL);
	fcntl(fr.fd, F_SETFL, fl & ~O_NONBLOCK);
	pthread_create(&th, NULL, read_all, &fr);

	for (int i = 0; i < LINES; i++) {
		make_line(&line, i);
		at_buf_add(&want, line.data, line.len);
		at_fanout_write(f, line.data, line.len);
		/* let the fast reader catch up: synchronisation, not timing */
		for (int w = 0;
		     w < 60000 && at_fanout_pending(f, "fast") > (long)CAP / 2;
		     w++) {
			usleep(500);
			at_fanout_flush(f);
		}
	}
	for (int w = 0; w < 60000 && at_fanout_pending(f, "fast") > 0; w++) {
		usleep(500);
		at_fanout_flush(f);
	}
	T_EQ_INT(at_fanout_pending(f, "fast"), 0, "fast consumer drained");
	T_EQ_INT(at_fanout_dropped(f), 1, "one consumer dropped");
	T_EQ_INT(at_fanout_pending(f, "slow"), -1, "the slow one");
	T_EQ_INT(at_fanout_consumers(f), 1, "the fast one remains");
	T_EQ_INT(at_fanout_scan(f), 1, "dropped one not reopened at once");

	/* the slow reader sees some data, then end of file */
	fl = fcntl(slow_fd, F_GETFL);
	fcntl(slow_fd, F_SETFL, fl & ~O_NONBLOCK);
	while ((n = read(slow_fd, tmp, sizeof(tmp))) > 0)
		slow_got += (size_t)n;
	T_OK(n == 0 && slow_got > 0 && slow_got < want.len,
	     "slow reader got a prefix (%zu of %zu bytes), then eof", slow_got,
	     want.len);

	none_fd = open(none, O_RDONLY | O_NONBLOCK);
	T_EQ_INT(at_fanout_scan(f), 2, "reader appeared: fifo opened");
	at_fanout_write(f, "x\n", 2);
	n = read(none_fd, tmp, sizeof(tmp));
	T_OK(n == 2 && memcmp(tmp, "x\n", 2) == 0, "late consumer gets lines");
	at_buf_add(&want, "x\n", 2);
	unlink(none);
	T_EQ_INT(at_fanout_scan(f), 1, "removed fifo forgotten");
	close(none_fd);

	at_fanout_free(f); /* closes the fast one: the reader sees eof */
	pthread_join(th, NULL);
	T_EQ_INT(fr.got.len, want.len, "fast reader byte count");
	T_OK(fr.got.len == want.len &&
		 memcmp(fr.got.data, want.data, want.len) == 0,
	     "fast reader got every line, in order");
	close(fr.fd);
	close(slow_fd);
	unlink(fast);
	unlink(slow);
	unlink(path);
	rmdir(dir);
	at_buf_release(&fr.got);
	at_buf_release(&want);
	at_buf_release(&line);
	return t_done();
}
