// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hog MIB SECONDS: allocate MIB MiB of anonymous memory and keep touching
 * it for SECONDS.  Run in a cgroup whose MemoryHigh= is below MIB (and no
 * swap), the kernel throttles it in reclaim, which PSI counts as memory
 * stall: a real memory-pressure load for the daemon's VM test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

int main(int argc, char **argv)
{
	size_t mib, len, off, page = 4096;
	long seconds;
	time_t end;
	char *p;

	if (argc != 3) {
		fprintf(stderr, "usage: hog MIB SECONDS\n");
		return 2;
	}
	mib = strtoul(argv[1], NULL, 10);
	seconds = strtol(argv[2], NULL, 10);
	len = mib << 20;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		 -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	end = time(NULL) + seconds;
	while (time(NULL) < end)
		for (off = 0; off < len && time(NULL) < end; off += page)
			p[off]++;
	return 0;
}
