// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Recording an error in the handle, apart from the netlink code so that
 * unit tests with a fake request layer link the real one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

int splkmem_fail(struct splkmem *h, int code, const char *fmt, ...)
{
	va_list ap;

	memset(&h->err, 0, sizeof(h->err));
	h->err.code = code;
	va_start(ap, fmt);
	vsnprintf(h->err.msg, sizeof(h->err.msg), fmt, ap);
	va_end(ap);
	return -code;
}
