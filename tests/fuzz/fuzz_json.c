/*
 * fuzz_json: JSON lines from untrusted peers.
 *
 * Feeds the bytes to the flat decoder (and every lookup on what it
 * found) and to at_json_parse, and checks invariants, aborting on a
 * violation:
 *  - whatever the strict flat decoder accepts, libjq accepts, with the
 *    same keys, strings and numbers;
 *  - the flat fields re-encoded with the fast encoder decode again;
 *  - an object parsed by libjq, re-encoded with the fast encoder and parsed
 *    again, is equal to itself (when it holds no NaN/Inf or NUL keys).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr,                                        \
				"fuzz_json: check failed: %s (%s:%d)\n", #c,   \
				__FILE__, __LINE__);                           \
			abort();                                               \
		}                                                              \
	} while (0)

/* 1 when v holds a number that is not finite (jq turns those lossy). */
static int nonfinite(jv v)
{
	int r = 0;

	switch (jv_get_kind(v)) {
	case JV_KIND_NUMBER:
		return !isfinite(jv_number_value(v));
	case JV_KIND_ARRAY:
		for (int i = 0; !r && i < jv_array_length(jv_copy(v)); i++) {
			jv x = jv_array_get(jv_copy(v), i);

			r = nonfinite(x);
			jv_free(x);
		}
		return r;
	case JV_KIND_OBJECT:
		for (int it = jv_object_iter(v);
		     !r && jv_object_iter_valid(v, it);
		     it = jv_object_iter_next(v, it)) {
			jv x = jv_object_iter_value(v, it);

			r = nonfinite(x);
			jv_free(x);
		}
		return r;
	default:
		return 0;
	}
}

static void flat_checks(const char *s, size_t size)
{
	struct at_json_flat fl, again;
	at_buf b = AT_BUF_INIT;
	at_err e;
	jv o;
	int comparable = 1;

	if (at_json_flat_parse(s, size, &fl, &e) < 0) {
		CHECK(e.code == EX_DATAERR &&
		      strncmp(e.msg, "offset ", 7) == 0);
		return;
	}
	CHECK(at_json_parse(s, size, &o, "fuzz", &e) == 0);
	CHECK(jv_get_kind(o) == JV_KIND_OBJECT);
	CHECK(jv_object_length(jv_copy(o)) == fl.n);

	at_json_enc_begin(&b);
	for (int j = 0; j < fl.n; j++) {
		const struct at_json_flat_field *f = &fl.f[j];
		jv key = jv_parse_sized(f->key - 1, (int)f->key_len + 2);
		jv want;
		const char *k;
		char sb[256];
		size_t n;
		int64_t i;
		double d;
		int bo;

		CHECK(jv_get_kind(key) == JV_KIND_STRING);
		k = jv_string_value(key);
		want = jv_object_get(jv_copy(o), jv_copy(key));
		if (strlen(k) != (size_t)jv_string_length_bytes(jv_copy(key))) {
			/* a NUL in the key: not reachable by C-string lookups
			 */
			comparable = 0;
			goto next;
		}
		CHECK(at_json_flat_find(&fl, k) == f);
		switch (f->type) {
		case AT_JSON_STR:
			if (at_json_flat_str(&fl, k, sb, sizeof(sb), &n, &e) ==
			    1) {
				CHECK(jv_get_kind(want) == JV_KIND_STRING);
				CHECK((size_t)jv_string_length_bytes(
					  jv_copy(want)) == n);
				CHECK(memcmp(jv_string_value(want), sb, n) ==
				      0);
				at_json_enc_key_strn(&b, k, sb, n);
			} else {
				comparable = 0;
			}
			break;
		case AT_JSON_NUM:
			CHECK(jv_get_kind(want) == JV_KIND_NUMBER);
			if (at_json_flat_f64(&fl, k, &d, &e) == 1)
				CHECK(d == jv_number_value(want));
			if (at_json_flat_i64(&fl, k, &i, &e) == 1 &&
			    i > -(INT64_C(1) << 53) && i < (INT64_C(1) << 53))
				CHECK((double)i == jv_number_value(want));
			at_json_enc_key_rawn(&b, k, f->val, f->val_len);
			break;
		case AT_JSON_TRUE:
		case AT_JSON_FALSE:
			CHECK(at_json_flat_bool(&fl, k, &bo, &e) == 1);
			CHECK(bo == (jv_get_kind(want) == JV_KIND_TRUE));
			at_json_enc_key_bool(&b, k, bo);
			break;
		case AT_JSON_NULL:
			CHECK(jv_get_kind(want) == JV_KIND_NULL);
			CHECK(at_json_flat_i64(&fl, k, &i, &e) == 0);
			at_json_enc_key_null(&b, k);
			break;
		default:
			CHECK(at_json_flat_str(&fl, k, sb, sizeof(sb), &n,
					       &e) == -1);
			at_json_enc_key_rawn(&b, k, f->val, f->val_len);
		}
	next:
		jv_free(want);
		jv_free(key);
	}
	at_json_enc_end(&b);
	if (comparable) {
		CHECK(at_json_flat_parse(b.data, b.len, &again, &e) == 0);
		CHECK(again.n == fl.n);
	}
	at_buf_release(&b);
	jv_free(o);
}

static void jq_checks(const char *s, size_t size)
{
	static const char *const allowed[] = {"sym", "ltp", "qty", NULL};
	at_buf b = AT_BUF_INIT;
	at_err e;
	jv v, back, sub;
	int comparable, rc;
	char *str = NULL;
	int64_t i;
	double d;
	int bo;

	if (at_json_parse(s, size, &v, "fuzz", &e) < 0) {
		CHECK(e.code == EX_DATAERR && strncmp(e.msg, "fuzz: ", 6) == 0);
		jv_free(v);
		return;
	}
	free(at_json_dump(jv_copy(v)));
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		CHECK(at_json_get_i64(v, "x", 0, 0, 1, &i, "w", &e) == -1);
		jv_free(v);
		return;
	}
	comparable = !nonfinite(v);
	rc = at_json_check_keys(v, allowed, "w", &e);
	CHECK(rc == 0 || rc == -1);

	at_json_enc_begin(&b);
	for (int it = jv_object_iter(v); jv_object_iter_valid(v, it);
	     it = jv_object_iter_next(v, it)) {
		jv k = jv_object_iter_key(v, it);
		jv x = jv_object_iter_value(v, it);
		const char *ks = jv_string_value(k);
		char *dump;

		if (strlen(ks) != (size_t)jv_string_length_bytes(jv_copy(k))) {
			comparable = 0;
			goto next;
		}
		/* every getter on every key: must not crash or leak */
		if (at_json_get_str(v, ks, 1, &str, "w", &e) == 1)
			free(str);
		(void)!at_json_get_i64(v, ks, 1, -1000, 1000, &i, "w", &e);
		(void)!at_json_get_f64(v, ks, 0, -1e9, 1e9, &d, "w", &e);
		(void)!at_json_get_bool(v, ks, 0, &bo, "w", &e);
		if (at_json_get_obj(v, ks, 0, &sub, "w", &e) == 1)
			jv_free(sub);
		if (at_json_get_arr(v, ks, 0, &sub, "w", &e) == 1)
			jv_free(sub);

		switch (jv_get_kind(x)) {
		case JV_KIND_STRING:
			at_json_enc_key_strn(
			    &b, ks, jv_string_value(x),
			    (size_t)jv_string_length_bytes(jv_copy(x)));
			break;
		case JV_KIND_NUMBER:
			at_json_enc_key_f64(&b, ks, jv_number_value(x));
			break;
		case JV_KIND_TRUE:
			at_json_enc_key_bool(&b, ks, 1);
			break;
		case JV_KIND_FALSE:
			at_json_enc_key_bool(&b, ks, 0);
			break;
		case JV_KIND_NULL:
			at_json_enc_key_null(&b, ks);
			break;
		default:
			dump = at_json_dump(jv_copy(x));
			at_json_enc_key_raw(&b, ks, dump);
			free(dump);
		}
	next:
		jv_free(k);
		jv_free(x);
	}
	at_json_enc_end(&b);
	CHECK(at_json_parse(b.data, b.len, &back, "re", &e) == 0);
	if (comparable)
		CHECK(jv_equal(jv_copy(v), jv_copy(back)));
	jv_free(back);
	at_buf_release(&b);
	jv_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	flat_checks((const char *)data, size);
	jq_checks((const char *)data, size);
	return 0;
}
