#include "log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *log_tool = "at";
static enum at_log_level log_level = AT_LOG_INFO;
static FILE *log_stream;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void at_log_init(const char *tool)
{
	const char *s = getenv("AT_LOG_LEVEL");

	if (tool != NULL)
		log_tool = tool;
	if (s == NULL || *s == '\0')
		return;
	for (int i = 0; i < 4; i++)
		if (strcasecmp(s, level_names[i]) == 0)
			log_level = (enum at_log_level)i;
	if (strcasecmp(s, "warning") == 0)
		log_level = AT_LOG_WARN;
	if (strcasecmp(s, "off") == 0 || strcasecmp(s, "none") == 0)
		log_level = AT_LOG_OFF;
}

void at_log_set_level(enum at_log_level lvl)
{
	log_level = lvl;
}

int at_log_enabled(enum at_log_level lvl)
{
	return lvl >= log_level && lvl < AT_LOG_OFF;
}

void at_log_set_stream(FILE *f)
{
	log_stream = f;
}

const char *at_log_tool(void)
{
	return log_tool;
}

void at_log_value(FILE *f, const char *v)
{
	int quote = (*v == '\0');

	for (const char *p = v; *p && !quote; p++)
		if (*p == ' ' || *p == '"' || *p == '=' || *p == '\\' ||
		    (unsigned char)*p < 0x20)
			quote = 1;
	if (!quote) {
		fputs(v, f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		if (*p == '"' || *p == '\\') {
			fputc('\\', f);
			fputc(*p, f);
		} else if (*p == '\n') {
			fputs("\\n", f);
		} else if (*p == '\t') {
			fputs("\\t", f);
		} else if (*p < 0x20) {
			fprintf(f, "\\x%02x", *p);
		} else {
			fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void log_head(FILE *f, enum at_log_level lvl, const char *msg)
{
	struct timespec ts;
	struct tm tm;
	char tbuf[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(f, "ts=%s.%03ldZ level=%s tool=", tbuf, ts.tv_nsec / 1000000,
		level_names[lvl]);
	at_log_value(f, log_tool);
	fputs(" msg=", f);
	at_log_value(f, msg ? msg : "");
}

void at_log_kv(enum at_log_level lvl, const char *msg, const char *const *kv,
	       size_t n)
{
	FILE *f = log_stream ? log_stream : stderr;

	if (!at_log_enabled(lvl))
		return;
	flockfile(f);
	log_head(f, lvl, msg);
	for (size_t i = 0; i + 1 < n; i += 2) {
		fputc(' ', f);
		fputs(kv[i], f);
		fputc('=', f);
		at_log_value(f, kv[i + 1] ? kv[i + 1] : "");
	}
	fputc('\n', f);
	fflush(f);
	funlockfile(f);
}

void at_log(enum at_log_level lvl, const char *msg, ...)
{
	FILE *f = log_stream ? log_stream : stderr;
	struct timespec ts;
	struct tm tm;
	char tbuf[32];
	va_list ap;
	const char *k;

	if (!at_log_enabled(lvl))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
	flockfile(f);
	fprintf(f, "ts=%s.%03ldZ level=%s tool=", tbuf, ts.tv_nsec / 1000000,
		level_names[lvl]);
	at_log_value(f, log_tool);
	fputs(" msg=", f);
	at_log_value(f, msg ? msg : "");
	va_start(ap, msg);
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);
		fputc(' ', f);
		fputs(k, f);
		fputc('=', f);
		at_log_value(f, v ? v : "");
	}
	va_end(ap);
	fputc('\n', f);
	fflush(f);
	funlockfile(f);
}
