/*
 * fanout: non-blocking writes of one stream to every FIFO in a directory,
 * each with a bounded backlog.
 */
#include "fanout.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "util.h"

#define COOLDOWN_MS 5000

struct consumer {
	char *name;
	dev_t dev;
	ino_t ino;
	int fd;		  /* -1 when not open */
	int64_t cool_til; /* after a drop: no reopen before this */
	at_buf pend;
	size_t off; /* written prefix of pend */
	int seen;   /* during a scan */
};

struct at_fanout {
	char *dir;
	size_t cap;
	struct consumer *c;
	size_t n, alloc;
	uint64_t dropped;
};

at_fanout *at_fanout_new(const char *dir, size_t cap, at_err *e)
{
	struct stat st;
	at_fanout *f;

	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		at_err_set(e, EX_NOINPUT, "%s: not a directory", dir);
		return NULL;
	}
	f = at_xcalloc(1, sizeof(*f));
	f->dir = at_xstrdup(dir);
	f->cap = cap ? cap : (4u << 20);
	return f;
}

static void close_consumer(struct consumer *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	at_buf_release(&c->pend);
	c->off = 0;
}

void at_fanout_free(at_fanout *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->n; i++) {
		close_consumer(&f->c[i]);
		free(f->c[i].name);
	}
	free(f->c);
	free(f->dir);
	free(f);
}

static struct consumer *find(at_fanout *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->c[i].name, name) == 0)
			return &f->c[i];
	return NULL;
}

size_t at_fanout_scan(at_fanout *f)
{
	DIR *d = opendir(f->dir);
	struct dirent *de;
	int64_t now = at_util_now_ms();
	at_buf path = AT_BUF_INIT;
	size_t open_n = 0, k = 0;

	for (size_t i = 0; i < f->n; i++)
		f->c[i].seen = 0;
	while (d != NULL && (de = readdir(d)) != NULL) {
		struct stat st;
		struct consumer *c;

		if (de->d_name[0] == '.')
			continue;
		at_buf_reset(&path);
		at_buf_printf(&path, "%s/%s", f->dir, de->d_name);
		if (lstat(path.data, &st) != 0 || !S_ISFIFO(st.st_mode))
			continue;
		c = find(f, de->d_name);
		if (c != NULL && (c->dev != st.st_dev || c->ino != st.st_ino)) {
			/* replaced by a new FIFO of the same name */
			close_consumer(c);
			c->cool_til = 0;
		}
		if (c == NULL) {
			if (f->n == f->alloc) {
				f->alloc = f->alloc ? f->alloc * 2 : 8;
				f->c =
				    at_xrealloc(f->c, f->alloc * sizeof(*f->c));
			}
			c = &f->c[f->n++];
			memset(c, 0, sizeof(*c));
			c->name = at_xstrdup(de->d_name);
			c->fd = -1;
		}
		c->seen = 1;
		c->dev = st.st_dev;
		c->ino = st.st_ino;
		if (c->fd >= 0 || now < c->cool_til)
			continue;
		c->fd = open(path.data, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (c->fd < 0)
			continue; /* ENXIO: no reader yet */
#ifdef F_SETPIPE_SZ
		(void)fcntl(c->fd, F_SETPIPE_SZ, 1 << 20);
#endif
		at_log(AT_LOG_INFO, "fanout: consumer added", "fifo", path.data,
		       NULL);
	}
	if (d != NULL)
		closedir(d);
	/* forget FIFOs that left the directory */
	for (size_t i = 0; i < f->n; i++) {
		if (!f->c[i].seen) {
			close_consumer(&f->c[i]);
			free(f->c[i].name);
			continue;
		}
		f->c[k++] = f->c[i];
		if (f->c[k - 1].fd >= 0)
			open_n++;
	}
	f->n = k;
	at_buf_release(&path);
	return open_n;
}

static void drop(at_fanout *f, struct consumer *c, const char *why)
{
	char pend[24];

	snprintf(pend, sizeof(pend), "%zu", c->pend.len - c->off);
	at_log(AT_LOG_WARN, "fanout: consumer dropped", "fifo", c->name,
	       "reason", why, "pending_bytes", pend, NULL);
	close_consumer(c);
	c->cool_til = at_util_now_ms() + COOLDOWN_MS;
	f->dropped++;
}

/* Write the backlog, then (when it is empty) p directly.  Returns -1 when
 * the consumer is gone. */
static int push(at_fanout *f, struct consumer *c, const char *p, size_t n)
{
	while (c->off < c->pend.len) {
		ssize_t w =
		    write(c->fd, c->pend.data + c->off, c->pend.len - c->off);
		if (w > 0) {
			c->off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		at_log(AT_LOG_INFO, "fanout: consumer gone", "fifo", c->name,
		       NULL);
		close_consumer(c);
		return -1;
	}
	if (c->off == c->pend.len) {
		c->off = 0;
		c->pend.len = 0;
		while (n > 0) {
			ssize_t w = write(c->fd, p, n);
			if (w > 0) {
				p += w;
				n -= (size_t)w;
				continue;
			}
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && errno == EAGAIN)
				break;
			at_log(AT_LOG_INFO, "fanout: consumer gone", "fifo",
			       c->name, NULL);
			close_consumer(c);
			return -1;
		}
	}
	if (n == 0)
		return 0;
	if (c->pend.len - c->off + n > f->cap) {
		drop(f, c, "backlog over its bound");
		return -1;
	}
	if (c->off > 0 && c->off >= c->pend.len / 2) {
		memmove(c->pend.data, c->pend.data + c->off,
			c->pend.len - c->off);
		c->pend.len -= c->off;
		c->off = 0;
	}
	at_buf_add(&c->pend, p, n);
	return 0;
}

void at_fanout_write(at_fanout *f, const char *p, size_t n)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->c[i].fd >= 0)
			(void)push(f, &f->c[i], p, n);
}

size_t at_fanout_flush(at_fanout *f)
{
	size_t left = 0;

	for (size_t i = 0; i < f->n; i++) {
		struct consumer *c = &f->c[i];
		if (c->fd < 0 || c->off == c->pend.len)
			continue;
		if (push(f, c, NULL, 0) == 0)
			left += c->pend.len - c->off;
	}
	return left;
}

size_t at_fanout_consumers(const at_fanout *f)
{
	size_t n = 0;

	for (size_t i = 0; i < f->n; i++)
		n += f->c[i].fd >= 0;
	return n;
}

uint64_t at_fanout_dropped(const at_fanout *f)
{
	return f->dropped;
}

long at_fanout_pending(const at_fanout *f, const char *name)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->c[i].fd >= 0 && strcmp(f->c[i].name, name) == 0)
			return (long)(f->c[i].pend.len - f->c[i].off);
	return -1;
}
