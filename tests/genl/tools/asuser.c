// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * asuser UID COMMAND [ARGS...]: run COMMAND as an unprivileged user.
 * Dropping every uid (and gid, and the supplementary groups) from root to
 * UID also clears every capability, so COMMAND runs without
 * CAP_NET_ADMIN; that is checked before exec.
 */
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char line[256];
	FILE *f;
	uid_t uid;

	if (argc < 3) {
		fprintf(stderr, "usage: asuser UID COMMAND [ARGS...]\n");
		return 2;
	}
	uid = (uid_t)strtoul(argv[1], NULL, 10);
	if (!uid || setgroups(0, NULL) || setresgid(uid, uid, uid) ||
	    setresuid(uid, uid, uid)) {
		perror("asuser");
		return 2;
	}
	f = fopen("/proc/self/status", "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "CapEff:", 7) &&
		    strtoull(line + 7, NULL, 16) != 0) {
			fprintf(stderr, "asuser: capabilities left: %s", line);
			return 2;
		}
	}
	if (f)
		fclose(f);
	execvp(argv[2], argv + 2);
	perror(argv[2]);
	return 127;
}
