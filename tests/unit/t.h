/*
 * t.h: a tiny TAP producer for the C unit tests.
 *
 *   T_OK(cond, "name %d", i);       one test point
 *   T_EQ_STR(got, want, "name");    compares strings, prints both on failure
 *   T_EQ_INT(got, want, "name");
 *   return t_done();                prints the plan; exit 1 if any failed
 *
 * Ledger tests call t_db_urls() for every backend under test: AT_TEST_DBS
 * holds a space-separated list of ledger URLs (tests/run sets one SQLite
 * file and, when a throwaway PostgreSQL cluster runs, its URL).
 */
#ifndef AT_T_H
#define AT_T_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int t_n, t_fail;

__attribute__((format(printf, 2, 3), unused)) static int
t_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	t_n++;
	printf("%s %d - ", cond ? "ok" : "not ok", t_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!cond)
		t_fail++;
	return cond;
}

#define T_OK(cond, ...) t_ok((cond) != 0, __VA_ARGS__)

#define T_EQ_STR(got, want, ...)                                               \
	do {                                                                   \
		const char *t_g_ = (got), *t_w_ = (want);                      \
		int t_c_ = (t_g_ == NULL && t_w_ == NULL) ||                   \
			   (t_g_ && t_w_ && strcmp(t_g_, t_w_) == 0);          \
		if (!t_ok(t_c_, __VA_ARGS__))                                  \
			printf("#   got:  \"%s\"\n#   want: \"%s\"\n",         \
			       t_g_ ? t_g_ : "(null)",                         \
			       t_w_ ? t_w_ : "(null)");                        \
	} while (0)

#define T_EQ_INT(got, want, ...)                                               \
	do {                                                                   \
		long long t_g_ = (long long)(got), t_w_ = (long long)(want);   \
		if (!t_ok(t_g_ == t_w_, __VA_ARGS__))                          \
			printf("#   got:  %lld\n#   want: %lld\n", t_g_,       \
			       t_w_);                                          \
	} while (0)

#define T_NEAR(got, want, tol, ...)                                            \
	do {                                                                   \
		double t_g_ = (got), t_w_ = (want);                            \
		double t_d_ = t_g_ > t_w_ ? t_g_ - t_w_ : t_w_ - t_g_;         \
		if (!t_ok(t_d_ <= (tol), __VA_ARGS__))                         \
			printf("#   got:  %.12g\n#   want: %.12g\n", t_g_,     \
			       t_w_);                                          \
	} while (0)

__attribute__((unused)) static void t_diag(const char *s)
{
	printf("# %s\n", s);
}

__attribute__((unused)) static int t_done(void)
{
	printf("1..%d\n", t_n);
	return t_fail ? 1 : 0;
}

/*
 * Split AT_TEST_DBS into at most max URLs (pointers into a static copy).
 * Returns the count.  With AT_TEST_DBS unset, a SQLite file under TMPDIR.
 */
__attribute__((unused)) static int t_db_urls(const char **urls, int max)
{
	static char copy[4096];
	const char *env = getenv("AT_TEST_DBS");
	int n = 0;

	if (env == NULL || *env == '\0') {
		snprintf(copy, sizeof(copy), "sqlite:%s/at-unit-%d.db",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
			 (int)getpid());
		urls[0] = copy;
		return 1;
	}
	snprintf(copy, sizeof(copy), "%s", env);
	for (char *p = strtok(copy, " "); p && n < max; p = strtok(NULL, " "))
		urls[n++] = p;
	return n;
}

#endif
