/*
 * simclient: a tiny blocking HTTP/1.1 and WebSocket client over raw
 * loopback sockets, for the at-sim tests and benchmark (not a library:
 * static functions only, included by test_sim.c and bench/bench_sim.c).
 */
#ifndef AT_TESTS_SIMCLIENT_H
#define AT_TESTS_SIMCLIENT_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"

#define SC_FN __attribute__((unused)) static

SC_FN int sc_connect(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

SC_FN int sc_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read exactly n bytes within timeout_ms per wait; 0, -1 error/EOF, -2
 * timeout. */
SC_FN int sc_read_n(int fd, void *p, size_t n, int timeout_ms)
{
	char *c = p;
	while (n) {
		struct pollfd pf = {fd, POLLIN, 0};
		int r = poll(&pf, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			return -2;
		ssize_t g = read(fd, c, n);
		if (g < 0 && errno == EINTR)
			continue;
		if (g <= 0)
			return -1;
		c += g;
		n -= (size_t)g;
	}
	return 0;
}

/* Read the response head (through \r\n\r\n) into h; returns the status. */
SC_FN int sc_read_head(int fd, at_buf *h, int timeout_ms)
{
	char c;
	at_buf_reset(h);
	while (h->len < 4 || memcmp(h->data + h->len - 4, "\r\n\r\n", 4)) {
		if (sc_read_n(fd, &c, 1, timeout_ms) < 0 || h->len > 65536)
			return -1;
		at_buf_putc(h, c);
	}
	int st = 0;
	if (sscanf(h->data, "HTTP/1.%*d %d", &st) != 1)
		return -1;
	return st;
}

/* Header value (case-insensitive name) from a head, copied to out. */
SC_FN int sc_header(const at_buf *h, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);
	for (const char *p = h->data; p && *p; p = strstr(p, "\r\n")) {
		if (p[0] == '\r')
			p += 2;
		if (!strncasecmp(p, name, nl) && p[nl] == ':') {
			const char *v = p + nl + 1, *e = strstr(v, "\r\n");
			while (*v == ' ')
				v++;
			size_t l = e ? (size_t)(e - v) : strlen(v);
			if (l >= cap)
				return -1;
			memcpy(out, v, l);
			out[l] = '\0';
			return 0;
		}
	}
	return -1;
}

/*
 * One HTTP request (Connection: close).  body may be NULL.  Fills head
 * and resp body; returns the status or -1.
 */
SC_FN int sc_http(int port, const char *method, const char *path,
		  const char *extra_headers, const char *body, at_buf *head,
		  at_buf *resp)
{
	at_buf q = AT_BUF_INIT;
	char cl[32];
	int fd = sc_connect(port), st = -1;
	if (fd < 0)
		return -1;
	at_buf_printf(&q,
		      "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
		      "Connection: close\r\nX-Kite-Version: 3\r\n%s",
		      method, path, port, extra_headers ? extra_headers : "");
	if (body)
		at_buf_printf(&q,
			      "Content-Type: application/x-www-form-urlencoded"
			      "\r\nContent-Length: %zu\r\n\r\n%s",
			      strlen(body), body);
	else
		at_buf_puts(&q, "\r\n");
	if (sc_write_all(fd, q.data, q.len) == 0) {
		st = sc_read_head(fd, head, 10000);
		at_buf_reset(resp);
		if (st > 0 &&
		    sc_header(head, "content-length", cl, sizeof(cl)) == 0) {
			size_t n = (size_t)atol(cl);
			at_buf_grow(resp, n + 1);
			if (sc_read_n(fd, resp->data, n, 10000) < 0)
				st = -1;
			resp->len = n;
			resp->data[n] = '\0';
		}
	}
	at_buf_release(&q);
	close(fd);
	return st;
}

/*
 * Open a WebSocket to path.  Returns the fd (status 101) or -1 with
 * *status set to the HTTP status (or -1).
 */
SC_FN int sc_ws_open(int port, const char *path, int *status)
{
	at_buf q = AT_BUF_INIT, h = AT_BUF_INIT;
	int fd = sc_connect(port);
	*status = -1;
	if (fd < 0)
		return -1;
	at_buf_printf(&q,
		      "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
		      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		      "Sec-WebSocket-Version: 13\r\n\r\n",
		      path, port);
	if (sc_write_all(fd, q.data, q.len) == 0)
		*status = sc_read_head(fd, &h, 10000);
	at_buf_release(&q);
	at_buf_release(&h);
	if (*status != 101) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send a masked frame (opcode 1 text, 2 binary, 8 close). */
SC_FN int sc_ws_send(int fd, int opcode, const void *p, size_t n)
{
	unsigned char hd[14], mask[4] = {0x12, 0x34, 0x56, 0x78};
	size_t hl = 2;
	hd[0] = (unsigned char)(0x80 | opcode);
	if (n < 126)
		hd[1] = (unsigned char)(0x80 | n);
	else if (n < 65536) {
		hd[1] = 0x80 | 126;
		hd[2] = (unsigned char)(n >> 8);
		hd[3] = (unsigned char)n;
		hl = 4;
	} else {
		hd[1] = 0x80 | 127;
		for (int i = 0; i < 8; i++)
			hd[2 + i] =
			    (unsigned char)((uint64_t)n >> (56 - 8 * i));
		hl = 10;
	}
	memcpy(hd + hl, mask, 4);
	hl += 4;
	unsigned char *m = malloc(n + hl);
	if (!m)
		return -1;
	memcpy(m, hd, hl);
	for (size_t i = 0; i < n; i++)
		m[hl + i] = ((const unsigned char *)p)[i] ^ mask[i % 4];
	int rc = sc_write_all(fd, m, n + hl);
	free(m);
	return rc;
}

/*
 * Receive one whole message into msg (continuations joined).  Returns the
 * opcode (1 text, 2 binary, 8 close), -1 on error/EOF, -2 on timeout.
 * Pings are answered.
 */
SC_FN int sc_ws_recv(int fd, at_buf *msg, int timeout_ms)
{
	int op = -1;
	at_buf_reset(msg);
	for (;;) {
		unsigned char h[2], ext[8];
		uint64_t n;
		int r = sc_read_n(fd, h, 2, timeout_ms);
		if (r < 0)
			return r;
		n = h[1] & 0x7f;
		if (n == 126) {
			if (sc_read_n(fd, ext, 2, timeout_ms) < 0)
				return -1;
			n = (uint64_t)ext[0] << 8 | ext[1];
		} else if (n == 127) {
			if (sc_read_n(fd, ext, 8, timeout_ms) < 0)
				return -1;
			n = 0;
			for (int i = 0; i < 8; i++)
				n = n << 8 | ext[i];
		}
		if (n > (64u << 20))
			return -1;
		size_t at = msg->len;
		at_buf_grow(msg, (size_t)n + 1);
		if (n &&
		    sc_read_n(fd, msg->data + at, (size_t)n, timeout_ms) < 0)
			return -1;
		int opcode = h[0] & 0x0f;
		if (opcode == 9) { /* ping */
			sc_ws_send(fd, 10, msg->data + at, (size_t)n);
			continue;
		}
		if (opcode == 10)
			continue;
		msg->len = at + (size_t)n;
		msg->data[msg->len] = '\0';
		if (opcode != 0)
			op = opcode;
		if (h[0] & 0x80)
			return op;
	}
}

#endif
