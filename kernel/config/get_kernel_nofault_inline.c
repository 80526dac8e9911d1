// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Architectures that read kernel memory without faulting inline, one load
 * with an exception-table entry (x86 since Linux 5.8), give
 * __get_kernel_nofault(); the object checks of a free use it instead of a
 * call to copy_from_kernel_nofault() per structure.
 */
#include <linux/uaccess.h>

unsigned long probe(const unsigned long *p);
unsigned long probe(const unsigned long *p)
{
	unsigned long v;

	__get_kernel_nofault(&v, p, unsigned long, fail);
	return v;
fail:
	return 0;
}
