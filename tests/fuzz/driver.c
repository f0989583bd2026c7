/*
 * driver: a standalone main() for libFuzzer-style targets, so every fuzz
 * target runs in `make check` without clang's libFuzzer.
 *
 *   fuzz_x [-n ITER] [-s SEED] [CORPUS_DIR_OR_FILE...]
 *
 * Runs every corpus file once, then ITER (default 20000) mutations of the
 * corpus (bit flips, byte insert/delete, truncation, splices, interesting
 * bytes and tokens) from a fixed xorshift seed, so a failure reproduces
 * with the same arguments.  Each input is handed over in a buffer of
 * exactly its size, so the sanitizers catch reads past the end.  Prints a
 * TAP plan and "ok 1 - fuzz_x: N inputs"; a bug crashes with the
 * sanitizer's report instead.  Not linked into libFuzzer builds.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LEN 4096
#define MAX_FILE (1 << 20)

struct input {
	uint8_t *p;
	size_t n;
};

static struct input *corpus;
static size_t ncorpus, capcorpus;
static uint64_t rng_state;
static unsigned long nrun;

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL) {
		fputs("fuzz driver: out of memory\n", stderr);
		abort();
	}
	return q;
}

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static size_t below(size_t n)
{
	return n ? (size_t)(rnd() % n) : 0;
}

/* One run, from a heap copy of exactly n bytes. */
static void run(const uint8_t *p, size_t n)
{
	uint8_t *c = xrealloc(NULL, n);

	if (n)
		memcpy(c, p, n);
	LLVMFuzzerTestOneInput(c, n);
	free(c);
	nrun++;
}

static int load_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "fuzz driver: %s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = xrealloc(NULL, MAX_FILE);
	n = fread(buf, 1, MAX_FILE, f);
	fclose(f);
	if (ncorpus == capcorpus) {
		capcorpus = capcorpus ? 2 * capcorpus : 16;
		corpus = xrealloc(corpus, capcorpus * sizeof(*corpus));
	}
	corpus[ncorpus].p = xrealloc(buf, n);
	corpus[ncorpus].n = n;
	ncorpus++;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory's regular files, in name order (for reproducibility). */
static int load_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0;
	int rc = 0;

	if (d == NULL) {
		fprintf(stderr, "fuzz driver: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 32;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n] = xrealloc(NULL, strlen(de->d_name) + 1);
		strcpy(names[n++], de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    load_file(path) < 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

static const uint8_t interesting[] = {
    '"',  '\\', '{',  '}',  '[',  ']',	':',  ',',  '0',  '1',	'9',  '-',
    '+',  '.',	'e',  'E',  'u',  'n',	't',  'f',  ' ',  '\n', '\t', 0x00,
    0x01, 0x1f, 0x7f, 0x80, 0xbf, 0xc0, 0xc3, 0xe2, 0xed, 0xf0, 0xf4, 0xff,
};

static const char *const tokens[] = {
    "\\u",
    "\\u0000",
    "\\ud83d\\ude00",
    "\\ud800",
    "\\udc00",
    "\\\"",
    "1e999",
    "-0",
    "0.1",
    "1.",
    "true",
    "false",
    "null",
    "nan",
    "{}",
    "[]",
    "[[[[",
    "\"\":",
    ",\"a\":1",
    "\xf0\x9f\x98\x80",
    "9223372036854775808",
    "-9223372036854775809",
    "4.9e-324",
};

/* Apply one random mutation to buf[0..*n) (capacity MAX_LEN). */
static void mutate(uint8_t *buf, size_t *n)
{
	size_t pos = below(*n + 1), k;
	const struct input *o;

	switch (rnd() % 9) {
	case 0: /* bit flip */
		if (*n)
			buf[pos % *n] ^= (uint8_t)(1u << (rnd() % 8));
		break;
	case 1: /* random byte */
		if (*n)
			buf[pos % *n] = (uint8_t)rnd();
		break;
	case 2: /* insert a byte */
		if (*n < MAX_LEN) {
			memmove(buf + pos + 1, buf + pos, *n - pos);
			buf[pos] =
			    rnd() % 2 ? (uint8_t)rnd()
				      : interesting[below(sizeof(interesting))];
			(*n)++;
		}
		break;
	case 3: /* delete up to 4 bytes */
		k = 1 + below(4);
		if (pos + k <= *n) {
			memmove(buf + pos, buf + pos + k, *n - pos - k);
			*n -= k;
		}
		break;
	case 4: /* truncate */
		*n = pos;
		break;
	case 5: /* splice: our prefix, another input's suffix */
		if (ncorpus) {
			o = &corpus[below(ncorpus)];
			k = below(o->n + 1);
			if (pos + (o->n - k) > MAX_LEN)
				break;
			memcpy(buf + pos, o->p + k, o->n - k);
			*n = pos + (o->n - k);
		}
		break;
	case 6: /* overwrite with an interesting byte */
		if (*n)
			buf[pos % *n] = interesting[below(sizeof(interesting))];
		break;
	case 7: { /* insert a token */
		const char *t = tokens[below(sizeof(tokens) / sizeof(*tokens))];
		size_t tl = strlen(t);

		if (*n + tl <= MAX_LEN) {
			memmove(buf + pos + tl, buf + pos, *n - pos);
			memcpy(buf + pos, t, tl);
			*n += tl;
		}
		break;
	}
	default: /* duplicate a chunk */
		if (*n) {
			size_t from = below(*n), len = 1 + below(16);

			if (from + len > *n)
				len = *n - from;
			if (*n + len <= MAX_LEN) {
				memmove(buf + pos + len, buf + pos, *n - pos);
				memmove(buf + pos,
					buf + from + (from >= pos ? len : 0),
					len);
				*n += len;
			}
		}
	}
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f, "usage: %s [-n ITER] [-s SEED] [CORPUS_DIR_OR_FILE...]\n",
		prog);
}

int main(int argc, char **argv)
{
	const char *name =
	    strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	unsigned long iters = 20000;
	uint8_t *buf;
	int c, rc = 0;

	rng_state = 0x9e3779b97f4a7c15ULL;
	while ((c = getopt(argc, argv, "n:s:h")) != -1) {
		switch (c) {
		case 'n':
			iters = strtoul(optarg, NULL, 10);
			break;
		case 's':
			rng_state = strtoull(optarg, NULL, 0);
			if (rng_state == 0)
				rng_state = 1;
			break;
		case 'h':
			usage(stdout, name);
			return 0;
		default:
			usage(stderr, name);
			return 64;
		}
	}
	for (int i = optind; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "fuzz driver: %s: %s\n", argv[i],
				strerror(errno));
			rc = -1;
		} else if (S_ISDIR(st.st_mode)) {
			rc |= load_dir(argv[i]);
		} else {
			rc |= load_file(argv[i]);
		}
	}
	if (rc < 0)
		return 66;
	printf("1..1\n");
	fflush(stdout);
	run((const uint8_t *)"", 0);
	for (size_t i = 0; i < ncorpus; i++)
		run(corpus[i].p, corpus[i].n);

	buf = xrealloc(NULL, MAX_LEN);
	for (unsigned long it = 0; it < iters; it++) {
		size_t n = 0, muts = 1 + below(4);

		if (ncorpus) {
			const struct input *in = &corpus[below(ncorpus)];

			n = in->n < MAX_LEN ? in->n : MAX_LEN;
			memcpy(buf, in->p, n);
		}
		for (size_t m = 0; m < muts; m++)
			mutate(buf, &n);
		run(buf, n);
	}
	free(buf);
	for (size_t i = 0; i < ncorpus; i++)
		free(corpus[i].p);
	free(corpus);
	printf("ok 1 - %s: %lu inputs\n", name, nrun);
	fflush(stdout);
	return 0;
}
