/*
 * json: JSON lines in and out.
 *
 * Three layers:
 *
 *  1. Typed getters over libjq's jv values, for configs and control
 *     messages where convenience matters more than speed.  Errors name the
 *     field and the input position ("where", e.g. "<stdin>:12", supplied by
 *     the caller; NULL for none):
 *
 *         <stdin>:12: field "lots": expected integer, got string
 *
 *     Ownership follows jq's rule: a jv argument is consumed unless stated
 *     otherwise.  Here the getters and at_json_check_keys BORROW obj (they
 *     jv_copy internally), so one parsed object can be queried many times
 *     and freed once.  at_json_dump and at_json_write_line CONSUME v.
 *     A jv handed back through an out pointer belongs to the caller.
 *
 *  2. A hand-written encoder appending one compact object to an at_buf,
 *     for hot paths (ticks, fills).  No libjq, no allocation beyond buffer
 *     growth:
 *
 *         at_json_enc_begin(&b);
 *         at_json_enc_key_str(&b, "sym", "NIFTY");
 *         at_json_enc_key_f64(&b, "ltp", 22450.05);
 *         at_json_enc_end(&b);            ->  {"sym":"NIFTY","ltp":22450.05}
 *
 *     Keys and strings are escaped (control characters as \u00XX); valid
 *     UTF-8 passes through, invalid bytes become U+FFFD so the output is
 *     always valid JSON.  Objects nest: at_json_enc_key_obj then
 *     at_json_enc_end.
 *
 *  3. A flat-object decoder for hot-path lines: one object whose values
 *     are scalars (nested objects/arrays are validated and kept as raw
 *     spans).  Nothing is copied; fields point into the caller's line,
 *     which must outlive the at_json_flat.  Errors give the byte offset:
 *
 *         offset 17: expected ':'
 *
 * Numbers: the encoder and decoder are locale-independent.
 */
#ifndef AT_JSON_H
#define AT_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jv.h>

#include "buf.h"
#include "err.h"

#define AT_JSON_MUST_CHECK __attribute__((warn_unused_result))

/*
 * Quote an untrusted name for a one-line message: printable ASCII as is,
 * other bytes (and quotes, backslashes) as \xHH, cut with "..." so the
 * message stays short.  Returns out.
 */
#define AT_JSON_QUOTE_MAX 96
const char *at_json_quote(const char *s, size_t n, char out[AT_JSON_QUOTE_MAX]);

/* "null", "boolean", "number", "string", "array", "object", "invalid". */
const char *at_json_kind_name(jv_kind k);

/* ---- libjq layer ------------------------------------------------------ */

/*
 * Parse exactly one JSON value from s[0..len) (s need not be
 * NUL-terminated).  On success *out owns the value.  On failure returns -1,
 * *out is jv_invalid() and e says
 *     <where>: invalid json: <jq's message>
 * with code EX_DATAERR.
 */
AT_JSON_MUST_CHECK int at_json_parse(const char *s, size_t len, jv *out,
				     const char *where, at_err *e);

/*
 * Getters.  obj is borrowed.  Return 1 when the field was present and *out
 * was set, 0 when it is absent (or null) and not required (*out untouched,
 * so preset it to the default), -1 on error (wrong type, out of range,
 * missing required field, obj not an object), code EX_DATAERR.  A null
 * value counts as absent.
 */
/* *out is a malloc'd copy; strings containing a NUL byte are rejected. */
AT_JSON_MUST_CHECK int at_json_get_str(jv obj, const char *field, int required,
				       char **out, const char *where,
				       at_err *e);
/* Integral numbers only (2.0 is fine, 2.5 is not), in [min, max]. */
AT_JSON_MUST_CHECK int at_json_get_i64(jv obj, const char *field, int required,
				       int64_t min, int64_t max, int64_t *out,
				       const char *where, at_err *e);
/* Finite numbers in [min, max]. */
AT_JSON_MUST_CHECK int at_json_get_f64(jv obj, const char *field, int required,
				       double min, double max, double *out,
				       const char *where, at_err *e);
AT_JSON_MUST_CHECK int at_json_get_bool(jv obj, const char *field, int required,
					int *out, const char *where, at_err *e);
/* *out is a new reference the caller frees (only set when 1 is returned). */
AT_JSON_MUST_CHECK int at_json_get_obj(jv obj, const char *field, int required,
				       jv *out, const char *where, at_err *e);
AT_JSON_MUST_CHECK int at_json_get_arr(jv obj, const char *field, int required,
				       jv *out, const char *where, at_err *e);

/*
 * Reject keys not in allowed (a NULL-terminated list): obj is borrowed.
 * Returns 0, or -1 with "<where>: unknown field "foo"" (EX_DATAERR).
 */
AT_JSON_MUST_CHECK int at_json_check_keys(jv obj, const char *const *allowed,
					  const char *where, at_err *e);

/*
 * Compact one-line text of v (consumed), malloc'd; NULL when v is invalid.
 */
char *at_json_dump(jv v);
/*
 * Write v (consumed) compactly plus '\n' to f.  Returns 0, or -1 with
 * errno set on a write error or when v is invalid (EINVAL).  Does not
 * flush.
 */
AT_JSON_MUST_CHECK int at_json_write_line(FILE *f, jv v);

/* ---- hot-path encoder ------------------------------------------------- */

/*
 * Each call appends to b.  A comma is inserted before a key unless the
 * buffer ends with '{', so begin/end pairs can follow other lines in the
 * same buffer (append '\n' yourself between records).
 */
void at_json_enc_begin(at_buf *b);
void at_json_enc_end(at_buf *b);
/* val NULL encodes null. */
void at_json_enc_key_str(at_buf *b, const char *key, const char *val);
/* Counted string; may contain NUL bytes (encoded as \u0000). */
void at_json_enc_key_strn(at_buf *b, const char *key, const char *val,
			  size_t len);
void at_json_enc_key_i64(at_buf *b, const char *key, int64_t val);
/*
 * Shortest decimal with at most 8 fraction digits that reads back as the
 * same double (22450.05, not 22450.049999...); otherwise the shortest of
 * %.15g/%.16g/%.17g that round-trips.  NaN and infinities encode null.
 */
void at_json_enc_key_f64(at_buf *b, const char *key, double val);
void at_json_enc_key_bool(at_buf *b, const char *key, int val);
void at_json_enc_key_null(at_buf *b, const char *key);
/* raw must already be valid JSON text; it is appended as is. */
void at_json_enc_key_raw(at_buf *b, const char *key, const char *raw);
void at_json_enc_key_rawn(at_buf *b, const char *key, const char *raw,
			  size_t len);
/* Open a nested object under key; close it with at_json_enc_end. */
void at_json_enc_key_obj(at_buf *b, const char *key);

/*
 * Low-level pieces, also used by the key functions: append s escaped and
 * quoted; append the number text of v (as in at_json_enc_key_f64).
 */
void at_json_enc_str(at_buf *b, const char *s, size_t len);
void at_json_enc_f64(at_buf *b, double v);

/* ---- flat-object decoder ---------------------------------------------- */

#define AT_JSON_FLAT_MAX 64

enum at_json_type {
	AT_JSON_STR = 1,
	AT_JSON_NUM,
	AT_JSON_TRUE,
	AT_JSON_FALSE,
	AT_JSON_NULL,
	AT_JSON_OBJ, /* nested object, kept raw */
	AT_JSON_ARR  /* nested array, kept raw */
};

struct at_json_flat_field {
	const char *key; /* between the quotes, still escaped */
	size_t key_len;
	const char *val; /* the value's JSON text (strings with quotes) */
	size_t val_len;
	enum at_json_type type;
	unsigned char key_esc; /* key contains a backslash escape */
	unsigned char num_int; /* number without fraction or exponent */
};

struct at_json_flat {
	const char *base; /* start of the line (for error offsets) */
	int n;
	struct at_json_flat_field f[AT_JSON_FLAT_MAX];
};

/*
 * Parse one object from line[0..len); never reads past len.  Leading and
 * trailing whitespace (space, tab, CR, LF) is allowed, anything else
 * after the object is an error.  Strict RFC 8259: no leading zeros, "+1",
 * ".5", "1.", hex, literal control characters, bad escapes, lone
 * surrogates, or invalid UTF-8.  More than AT_JSON_FLAT_MAX fields, nesting
 * deeper than 32, and duplicate keys (compared after unescaping) are
 * rejected.  Returns 0, or -1 with "offset N: what" (EX_DATAERR);
 * callers prefix the input position with at_err_prefix.
 */
AT_JSON_MUST_CHECK int at_json_flat_parse(const char *line, size_t len,
					  struct at_json_flat *out, at_err *e);

/* The field named key (compared after unescaping), or NULL. */
const struct at_json_flat_field *
at_json_flat_find(const struct at_json_flat *fl, const char *key);

/*
 * Typed lookups: 1 found and set, 0 absent or null (*out untouched), -1
 * wrong type or out of range: "offset N: field "x": expected integer, got
 * string" (EX_DATAERR).  at_json_flat_i64 parses integers exactly and also
 * accepts integral numbers written with fraction/exponent up to 2^53;
 * at_json_flat_f64 rejects numbers that overflow a double.
 */
AT_JSON_MUST_CHECK int at_json_flat_i64(const struct at_json_flat *fl,
					const char *key, int64_t *out,
					at_err *e);
AT_JSON_MUST_CHECK int at_json_flat_f64(const struct at_json_flat *fl,
					const char *key, double *out,
					at_err *e);
AT_JSON_MUST_CHECK int at_json_flat_bool(const struct at_json_flat *fl,
					 const char *key, int *out, at_err *e);
/*
 * Unescape the string field into buf (cap bytes, NUL-terminated; \uXXXX
 * and surrogate pairs become UTF-8), length to *len when len != NULL.
 * -1 when it is not a string, does not fit, or contains a NUL byte.
 */
AT_JSON_MUST_CHECK int at_json_flat_str(const struct at_json_flat *fl,
					const char *key, char *buf, size_t cap,
					size_t *len, at_err *e);

#endif
