/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One print layer for text and JSON, after iproute2's json_print: every
 * value is printed by one call that either formats it into the text
 * output (PRINT_FP), adds it under a key to the JSON document (PRINT_JSON),
 * or does whichever the output mode asks for (PRINT_ANY).  Text and JSON
 * come from the same calls, so they cannot drift apart.
 *
 * JSON is built with json-c and written by print_end(): one document per
 * print_begin()/print_end() pair (monitor and top write one per event or
 * refresh, a line each unless pretty).
 */
#ifndef CTL_PRINT_H
#define CTL_PRINT_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

enum output_type {
	PRINT_FP = 1,		/* text only */
	PRINT_JSON = 2,		/* JSON only */
	PRINT_ANY = PRINT_FP | PRINT_JSON,
};

void print_set_mode(bool json, bool pretty);
bool print_is_json(void);

/* Start and end one output document. */
void print_begin(void);
int print_end(void);

/* JSON containers; @key is NULL inside an array (or for the document). */
void open_json_object(const char *key);
void close_json_object(void);
void open_json_array(const char *key);
void close_json_array(void);

void print_string(enum output_type t, const char *key, const char *fmt,
		  const char *value);
void print_u64(enum output_type t, const char *key, const char *fmt,
	       uint64_t value);
void print_bool(enum output_type t, const char *key, const char *fmt,
		bool value);
/* Text: @fmt gets the size made human-readable ("%s"); JSON: the number. */
void print_size(enum output_type t, const char *key, const char *fmt,
		uint64_t bytes);
/* JSON only: @key: null. */
void print_null(const char *key);
/* Text only: printf. */
void print_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "1.5M" style, as ls -h: powers of 1024, one decimal below 10. */
#define human_size(bytes, buf, len) \
	splkmem_size_str((bytes), SPLKMEM_SIZE_SHORT, (buf), (size_t)(len))

#endif /* CTL_PRINT_H */
