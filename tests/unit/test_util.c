/* lib/buf, lib/util, lib/err, lib/log: the small things used everywhere. */
#include "t.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "buf.h"
#include "err.h"
#include "log.h"
#include "util.h"

static void buf(void)
{
	at_buf b = AT_BUF_INIT;
	char *p;
	size_t n;

	at_buf_puts(&b, "abc");
	at_buf_putc(&b, '-');
	at_buf_printf(&b, "%d:%s", 42, "x");
	T_EQ_STR(b.data, "abc-42:x", "puts, putc, printf");
	T_EQ_INT(b.len, 8, "length tracked");
	for (int i = 0; i < 1000; i++)
		at_buf_printf(&b, "%0300d", i);
	T_EQ_INT(b.len, 8 + 300000, "long printf output grows the buffer");
	T_OK(b.data[b.len] == '\0', "always NUL-terminated");
	at_buf_reset(&b);
	T_EQ_STR(b.data, "", "reset empties");
	at_buf_add(&b, "a\0b", 3);
	T_EQ_INT(b.len, 3, "binary add keeps NULs");
	p = at_buf_detach(&b, &n);
	T_OK(n == 3 && memcmp(p, "a\0b", 3) == 0 && b.data == NULL,
	     "detach hands over the storage");
	free(p);
	p = at_buf_detach(&b, &n);
	T_OK(p != NULL && n == 0 && *p == '\0', "detach of empty is \"\"");
	free(p);
	at_buf_puts(&b, "secret");
	at_buf_wipe_release(&b);
	T_OK(b.data == NULL && b.len == 0, "wipe release resets");
}

static void util(void)
{
	char u1[37], u2[37], h[65];
	int64_t v;
	at_err e = {0, ""};

	at_util_uuid4(u1);
	at_util_uuid4(u2);
	T_OK(at_util_is_uuid(u1) && strcmp(u1, u2) != 0, "uuid4: %s", u1);
	T_OK(u1[14] == '4' && strchr("89ab", u1[19]) != NULL,
	     "uuid4 version and variant bits");
	T_OK(!at_util_is_uuid("aaaaaaaa-0000-4000-8000-00000000000"),
	     "short uuid rejected");
	T_OK(!at_util_is_uuid("aaaaaaaa-0000-4000-8000-00000000000g"),
	     "non-hex uuid rejected");
	T_OK(!at_util_is_uuid("aaaaaaaa00000-4000-8000-00000000000a"),
	     "misplaced dash rejected");
	T_OK(!at_util_is_uuid(NULL), "NULL is not a uuid");
	at_util_sha256_hex("abc", 3, h);
	T_EQ_STR(h,
		 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20"
		 "015ad",
		 "sha256(\"abc\") (FIPS 180-2 example)");
	T_OK(at_util_parse_i64("-9223372036854775808", &v) == 0 &&
		 v == INT64_MIN,
	     "parse int64 min");
	T_OK(at_util_parse_i64("9223372036854775808", &v) != 0,
	     "overflow rejected");
	T_OK(at_util_parse_i64("12x", &v) != 0, "trailing junk rejected");
	T_OK(at_util_parse_i64("", &v) != 0, "empty rejected");
	T_OK(at_util_now_ms() > 1700000000000LL, "wall clock in ms");

	char path[256];
	size_t n;
	char *d;
	int fd;
	snprintf(path, sizeof(path), "%s/util-%d.txt",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
	fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	T_OK(fd >= 0 && write(fd, "hello\n", 6) == 6, "write a file");
	close(fd);
	d = at_util_read_file(path, 0, &n, &e);
	T_OK(d && n == 6 && strcmp(d, "hello\n") == 0, "read it back");
	free(d);
	d = at_util_read_file(path, 3, &n, &e);
	T_OK(d == NULL && e.code == EX_DATAERR, "size limit: %s", e.msg);
	unlink(path);
	d = at_util_read_file(path, 0, &n, &e);
	T_OK(d == NULL && e.code == EX_NOINPUT, "missing file: %s", e.msg);
}

static void ist(void)
{
	char d[11];

	/* 2025-11-25 03:24:00 UTC = 08:54 IST */
	at_util_ist_date(1764041040000LL, d);
	T_EQ_STR(d, "2025-11-25", "IST date in the morning");
	/* 2025-11-25 19:00 UTC = 2025-11-26 00:30 IST */
	at_util_ist_date(1764097200000LL, d);
	T_EQ_STR(d, "2025-11-26", "IST date rolls over at 18:30 UTC");
	T_EQ_INT(at_util_ist_time_ms(1764041040000LL, 9 * 60 + 10),
		 1764042000000LL, "09:10 IST that day");
	T_EQ_INT(at_util_ist_time_ms(1764097200000LL, 7 * 60 + 30),
		 1764122400000LL, "07:30 IST of the IST day after 18:30 UTC");
	T_EQ_INT(at_util_parse_hhmm("08:55"), 535, "parse 08:55");
	T_EQ_INT(at_util_parse_hhmm("24:00"), -1, "24:00 rejected");
	T_EQ_INT(at_util_parse_hhmm("9:10"), -1, "9:10 rejected");
	T_EQ_INT(at_util_parse_hhmm("09:60"), -1, "09:60 rejected");
}

static void err(void)
{
	at_err e = {0, ""};
	char longs[600];

	T_EQ_INT(at_err_set(&e, EX_DATAERR, "field \"%s\"", "lots"), -1,
		 "set returns -1");
	at_err_prefix(&e, "%s:%d", "<stdin>", 3);
	T_EQ_STR(e.msg, "<stdin>:3: field \"lots\"", "prefix");
	T_EQ_INT(e.code, EX_DATAERR, "code kept");
	memset(longs, 'x', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	at_err_set(&e, 1, "%s", longs);
	at_err_prefix(&e, "pre");
	T_OK(strncmp(e.msg, "pre: xxx", 8) == 0 &&
		 strlen(e.msg) == AT_ERR_MSG - 1,
	     "prefix of a long message truncates safely");
	at_err_clear(&e);
	T_OK(e.code == 0 && e.msg[0] == '\0', "clear");
}

static void logfmt(void)
{
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);

	at_log_init("at-test");
	at_log_set_level(AT_LOG_INFO);
	at_log_set_stream(f);
	at_log(AT_LOG_DEBUG, "hidden", NULL);
	at_log(AT_LOG_INFO, "user added", "user", "a b", "n", "3", "q",
	       "say \"hi\"", "empty", "", NULL);
	fflush(f);
	T_OK(strncmp(out, "ts=", 3) == 0, "line starts with ts=");
	T_OK(strstr(out,
		    " level=info tool=at-test msg=\"user added\" "
		    "user=\"a b\" n=3 q=\"say \\\"hi\\\"\" empty=\"\"\n") !=
		 NULL,
	     "logfmt quoting: %s", out);
	T_OK(strstr(out, "hidden") == NULL, "below threshold not written");
	at_log_set_stream(NULL);
	fclose(f);
	free(out);
	setenv("AT_LOG_LEVEL", "error", 1);
	at_log_init("at-test");
	T_OK(!at_log_enabled(AT_LOG_WARN) && at_log_enabled(AT_LOG_ERROR),
	     "AT_LOG_LEVEL=error");
	setenv("AT_LOG_LEVEL", "off", 1);
	at_log_init("at-test");
	T_OK(!at_log_enabled(AT_LOG_ERROR), "AT_LOG_LEVEL=off");
}

int main(void)
{
	buf();
	util();
	ist();
	err();
	logfmt();
	return t_done();
}
