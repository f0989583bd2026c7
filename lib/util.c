#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "buf.h"

int64_t at_util_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t at_util_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void at_util_hex(const unsigned char *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
}

void at_util_uuid4(char out[37])
{
	unsigned char b[16];
	char h[33];

	if (RAND_bytes(b, sizeof(b)) != 1) {
		/* getrandom never fails for 16 bytes once seeded */
		if (getentropy(b, sizeof(b)) != 0)
			abort();
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	at_util_hex(b, 16, h);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16,
		 h + 20);
}

int at_util_is_uuid(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (s == NULL || strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		char c = s[i];
		if (shape[i] == '-') {
			if (c != '-')
				return 0;
		} else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			     (c >= 'A' && c <= 'F'))) {
			return 0;
		}
	}
	return 1;
}

void at_util_sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
	at_util_hex(md, 32, out);
}

char *at_util_read_file(const char *path, size_t max, size_t *len, at_err *e)
{
	at_buf b = AT_BUF_INIT;
	int fd, is_stdin = strcmp(path, "-") == 0;
	char chunk[65536];

	fd = is_stdin ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		at_err_set(e, errno == ENOENT ? EX_NOINPUT : EX_IOERR, "%s: %s",
			   path, strerror(errno));
		return NULL;
	}
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			at_err_set(e, EX_IOERR, "%s: %s", path,
				   strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		if (max && b.len + (size_t)r > max) {
			at_err_set(e, EX_DATAERR, "%s: larger than %zu bytes",
				   path, max);
			goto fail;
		}
		at_buf_add(&b, chunk, (size_t)r);
	}
	explicit_bzero(chunk, sizeof(chunk));
	if (!is_stdin)
		close(fd);
	return at_buf_detach(&b, len);
fail:
	explicit_bzero(chunk, sizeof(chunk));
	at_buf_wipe_release(&b);
	if (!is_stdin)
		close(fd);
	return NULL;
}

int at_util_mkdirs(const char *path, unsigned mode, at_err *e)
{
	char tmp[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp))
		return at_err_set(e, EX_USAGE, "bad directory path");
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, (mode_t)mode) != 0 && errno != EEXIST)
			return at_err_set(e, EX_CANTCREAT, "%s: %s", tmp,
					  strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, (mode_t)mode) != 0 && errno != EEXIST)
		return at_err_set(e, EX_CANTCREAT, "%s: %s", tmp,
				  strerror(errno));
	return 0;
}

int at_util_parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

#define IST_OFFSET_MS (5LL * 3600000 + 30LL * 60000)

void at_util_ist_date(int64_t ms, char out[11])
{
	time_t t = (time_t)((ms + IST_OFFSET_MS) / 1000);
	struct tm tm;
	char tmp[64];

	gmtime_r(&t, &tm);
	snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday);
	memcpy(out, tmp, 10);
	out[10] = '\0';
}

int64_t at_util_ist_time_ms(int64_t ms, int minutes_after_midnight)
{
	int64_t local = ms + IST_OFFSET_MS;
	int64_t day = local - (((local % 86400000) + 86400000) % 86400000);

	return day - IST_OFFSET_MS + (int64_t)minutes_after_midnight * 60000;
}

int at_util_parse_hhmm(const char *s)
{
	int h, m;

	if (s == NULL || strlen(s) != 5 || s[2] != ':' ||
	    !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
		return -1;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (h > 23 || m > 59)
		return -1;
	return h * 60 + m;
}
