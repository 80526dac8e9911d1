// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * jcheck: check splkmemctl's JSON with a real parser (json-c), in a guest
 * that has no python or jq.
 *
 *   jcheck [-l] FILE ASSERTION...     exit 0 if every assertion holds
 *   jcheck [-l] FILE -p PATH          print the value at PATH
 *
 * FILE must hold exactly one JSON document; with -l, one per line (as
 * monitor and top write them), checked as an array of documents.
 *
 * PATH: "." alone, or components each starting with ".":
 *   .key         member of an object
 *   .3           element of an array
 *   .[k=v,k2=v2] first element of an array whose members match (string
 *                or number compared as text)
 *   .length      elements of an array, members of an object
 * ASSERTION: PATH OP VALUE with OP one of == != >= <= > < (numbers
 * compared as numbers, else as strings), ~ (glob), or PATH? (exists),
 * PATH! (does not exist), PATH:TYPE (array object string int boolean null),
 * PATH@unique:KEY (the array's elements have distinct KEY members).
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

static int failures;

static struct json_object *load(const char *file, int lines)
{
	struct json_object *doc, *arr;
	char *line = NULL;
	size_t cap = 0;
	FILE *f;

	if (!lines) {
		doc = json_object_from_file(file);
		if (!doc)
			fprintf(stderr, "jcheck: %s: %s\n", file,
				json_util_get_last_err());
		return doc;
	}
	f = fopen(file, "r");
	if (!f) {
		fprintf(stderr, "jcheck: %s: %s\n", file, strerror(errno));
		return NULL;
	}
	arr = json_object_new_array();
	while (getline(&line, &cap, f) > 0) {
		enum json_tokener_error jerr;

		if (line[0] == '\n')
			continue;
		doc = json_tokener_parse_verbose(line, &jerr);
		if (!doc) {
			fprintf(stderr, "jcheck: %s: bad line: %s: %s", file,
				json_tokener_error_desc(jerr), line);
			json_object_put(arr);
			arr = NULL;
			break;
		}
		json_object_array_add(arr, doc);
	}
	free(line);
	fclose(f);
	return arr;
}

static const char *text_of(struct json_object *o)
{
	if (json_object_is_type(o, json_type_string))
		return json_object_get_string(o);
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
}

/* Does object @o match "k=v,k2=v2"? */
static int matches(struct json_object *o, const char *sel)
{
	char buf[256], *save = NULL, *kv;

	if (!json_object_is_type(o, json_type_object))
		return 0;
	snprintf(buf, sizeof(buf), "%s", sel);
	for (kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		struct json_object *m;

		if (!eq)
			return 0;
		*eq = '\0';
		if (!json_object_object_get_ex(o, kv, &m) ||
		    strcmp(text_of(m), eq + 1))
			return 0;
	}
	return 1;
}

/* Follow @path from @o; NULL if it leads nowhere.  @tmp keeps .length. */
static struct json_object *walk(struct json_object *o, const char *path,
				struct json_object **tmp)
{
	char comp[256];
	const char *p = path;

	if (!strcmp(path, "."))
		return o;
	while (o && *p == '.') {
		size_t n;

		p++;
		if (*p == '[') {
			const char *end = strchr(p, ']');
			size_t i, len;
			struct json_object *found = NULL;

			if (!end || !json_object_is_type(o, json_type_array))
				return NULL;
			n = end - p - 1;
			if (n >= sizeof(comp))
				return NULL;
			memcpy(comp, p + 1, n);
			comp[n] = '\0';
			len = json_object_array_length(o);
			for (i = 0; i < len && !found; i++)
				if (matches(json_object_array_get_idx(o, i), comp))
					found = json_object_array_get_idx(o, i);
			o = found;
			p = end + 1;
			continue;
		}
		n = strcspn(p, ".");
		if (n >= sizeof(comp))
			return NULL;
		memcpy(comp, p, n);
		comp[n] = '\0';
		p += n;
		if (!strcmp(comp, "length")) {
			size_t len;

			if (json_object_is_type(o, json_type_array))
				len = json_object_array_length(o);
			else if (json_object_is_type(o, json_type_object))
				len = json_object_object_length(o);
			else
				return NULL;
			json_object_put(*tmp);
			*tmp = json_object_new_int64((int64_t)len);
			o = *tmp;
		} else if (json_object_is_type(o, json_type_array)) {
			char *end;
			long i = strtol(comp, &end, 10);

			if (*end || i < 0 || (size_t)i >= json_object_array_length(o))
				return NULL;
			o = json_object_array_get_idx(o, i);
		} else if (!json_object_object_get_ex(o, comp, &o)) {
			return NULL;
		}
	}
	return *p ? NULL : o;
}

static const char *type_name(struct json_object *o)
{
	return json_type_to_name(json_object_get_type(o));
}

static int is_number(struct json_object *o)
{
	return json_object_is_type(o, json_type_int) ||
	       json_object_is_type(o, json_type_double);
}

static int compare(struct json_object *v, const char *op, const char *want)
{
	int c;

	if (is_number(v)) {
		char *end;
		double w = strtod(want, &end), x = json_object_get_double(v);

		if (*end)
			return -2;
		/* Exact for the integers we deal in (uint64 as double is
		 * only used for ordering, == compares the text). */
		c = x < w ? -1 : x > w;
		if ((!strcmp(op, "==") || !strcmp(op, "!=")))
			c = strcmp(text_of(v), want) ? (c ? c : 1) : 0;
	} else {
		c = strcmp(text_of(v), want);
	}
	if (!strcmp(op, "=="))
		return c == 0;
	if (!strcmp(op, "!="))
		return c != 0;
	if (!strcmp(op, ">="))
		return c >= 0;
	if (!strcmp(op, "<="))
		return c <= 0;
	if (!strcmp(op, ">"))
		return c > 0;
	if (!strcmp(op, "<"))
		return c < 0;
	return -2;
}

static int unique(struct json_object *arr, const char *key)
{
	size_t i, j, len;

	if (!json_object_is_type(arr, json_type_array))
		return 0;
	len = json_object_array_length(arr);
	for (i = 0; i < len; i++) {
		struct json_object *a, *b;

		if (!json_object_object_get_ex(json_object_array_get_idx(arr, i),
					       key, &a))
			return 0;
		for (j = i + 1; j < len; j++)
			if (json_object_object_get_ex(json_object_array_get_idx(arr, j),
						      key, &b) &&
			    !strcmp(text_of(a), text_of(b))) {
				fprintf(stderr, "jcheck: %s %s twice\n", key,
					text_of(a));
				return 0;
			}
	}
	return 1;
}

static void check(struct json_object *doc, const char *a)
{
	static const char *const ops[] = { "==", "!=", ">=", "<=", ">", "<",
					   "~" };
	struct json_object *tmp = NULL, *v;
	char path[512];
	const char *op = NULL, *want = NULL, *at;
	size_t i, plen = strlen(a);
	int ok;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		at = strstr(a, ops[i]);
		if (at && (!op || at < a + plen)) {
			op = ops[i];
			plen = at - a;
			want = at + strlen(ops[i]);
			break;
		}
	}
	if (!op && (at = strstr(a, "@unique:"))) {
		op = "@unique";
		plen = at - a;
		want = at + 8;
	}
	if (!op && (at = strrchr(a, ':')) && at > a) {
		op = ":";
		plen = at - a;
		want = at + 1;
	}
	if (!op && plen && (a[plen - 1] == '?' || a[plen - 1] == '!')) {
		op = a[plen - 1] == '?' ? "?" : "!";
		plen--;
	}
	if (!op || plen >= sizeof(path)) {
		fprintf(stderr, "jcheck: bad assertion '%s'\n", a);
		failures++;
		return;
	}
	memcpy(path, a, plen);
	path[plen] = '\0';
	v = walk(doc, path, &tmp);
	if (!strcmp(op, "?"))
		ok = v != NULL;
	else if (!strcmp(op, "!"))
		ok = v == NULL;
	else if (!v)
		ok = 0;
	else if (!strcmp(op, ":"))
		ok = !strcmp(type_name(v), want);
	else if (!strcmp(op, "~"))
		ok = !fnmatch(want, text_of(v), 0);
	else if (!strcmp(op, "@unique"))
		ok = unique(v, want);
	else
		ok = compare(v, op, want);
	if (ok == -2) {
		fprintf(stderr, "jcheck: bad value in '%s'\n", a);
		ok = 0;
	}
	if (!ok) {
		fprintf(stderr, "jcheck: FAILED %s (value: %s)\n", a,
			v ? text_of(v) : "none");
		failures++;
	}
	json_object_put(tmp);
}

int main(int argc, char **argv)
{
	struct json_object *doc, *tmp = NULL, *v;
	int lines = 0, i = 1;

	if (argc > 1 && !strcmp(argv[1], "-l"))
		lines = 1, i++;
	if (argc - i < 2) {
		fprintf(stderr, "usage: jcheck [-l] FILE ASSERTION... | -p PATH\n");
		return 2;
	}
	doc = load(argv[i], lines);
	if (!doc)
		return 1;
	if (!strcmp(argv[i + 1], "-p")) {
		if (argc - i < 3)
			return 2;
		v = walk(doc, argv[i + 2], &tmp);
		if (!v) {
			fprintf(stderr, "jcheck: %s: no such path\n", argv[i + 2]);
			return 1;
		}
		printf("%s\n", text_of(v));
		return 0;
	}
	for (i++; i < argc; i++)
		check(doc, argv[i]);
	json_object_put(doc);
	return failures ? 1 : 0;
}
