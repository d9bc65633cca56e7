/* SPDX-License-Identifier: Apache-2.0 */
/* /proc socket tables and socket ownership; see procnet.h. */
#include "procnet.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int hex_bytes(const char *s, size_t nbytes, unsigned char *out, const char **end)
{
	size_t i;

	for (i = 0; i < nbytes; i++) {
		unsigned v;

		if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]) ||
		    sscanf(s, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
		s += 2;
	}
	*end = s;
	return 0;
}

/* "0100007F:1F90" (address bytes as the kernel prints them, port in hex). */
static int parse_endpoint(const char *s, bool v6, unsigned char *addr, uint16_t *port,
			  const char **end)
{
	unsigned long p;
	char *e;

	if (hex_bytes(s, v6 ? 16 : 4, addr, &s) < 0 || *s != ':')
		return -1;
	p = strtoul(s + 1, &e, 16);
	if (e == s + 1 || p > 65535)
		return -1;
	*port = (uint16_t)p;
	*end = e;
	return 0;
}

int procnet_parse_line(const char *line, bool v6, struct tcp_entry *out)
{
	unsigned long st;
	unsigned long long inode;
	const char *s = line;
	char *e;
	int field;

	memset(out, 0, sizeof(*out));
	out->v6 = v6;
	while (*s == ' ')
		s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	s = strchr(s, ':');
	if (!s)
		return -1;
	s++;
	while (*s == ' ')
		s++;
	if (parse_endpoint(s, v6, out->local_addr, &out->local_port, &s) < 0 || *s++ != ' ' ||
	    parse_endpoint(s, v6, out->remote_addr, &out->remote_port, &s) < 0 || *s++ != ' ')
		return -1;
	st = strtoul(s, &e, 16);
	if (e == s)
		return -1;
	out->state = (int)st;
	s = e;
	/* tx:rx tr:when retrnsmt uid timeout inode */
	for (field = 0; field < 5; field++) {
		while (*s == ' ')
			s++;
		while (*s && *s != ' ')
			s++;
	}
	inode = strtoull(s, &e, 10);
	if (e == s)
		return -1;
	out->inode = inode;
	return 0;
}

static uint64_t scan_table(const char *path, bool v6, uint16_t port)
{
	char line[512];
	uint64_t found = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		struct tcp_entry t;

		if (procnet_parse_line(line, v6, &t) == 0 && t.state == 0x0A && t.local_port == port)
			found = t.inode;
	}
	fclose(f);
	return found;
}

uint64_t procnet_listener_inode(const char *proc_root, uint16_t port)
{
	char path[PATH_MAX];
	uint64_t ino;

	snprintf(path, sizeof(path), "%s/net/tcp", proc_root);
	ino = scan_table(path, false, port);
	if (ino)
		return ino;
	snprintf(path, sizeof(path), "%s/net/tcp6", proc_root);
	return scan_table(path, true, port);
}

static bool pid_has_inode(const char *pid, const char *want)
{
	char dir[300], link[PATH_MAX], target[128];
	struct dirent *de;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%s/fd", pid);
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		found = strcmp(target, want) == 0;
	}
	closedir(d);
	return found;
}

pid_t procnet_inode_owner(uint64_t inode, char *comm, size_t n)
{
	char want[64], path[300];
	struct dirent *de;
	pid_t owner = 0;
	DIR *d;

	snprintf(want, sizeof(want), "socket:[%llu]", (unsigned long long)inode);
	d = opendir("/proc");
	if (!d)
		return 0;
	while (!owner && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]) || !pid_has_inode(de->d_name, want))
			continue;
		owner = (pid_t)atoi(de->d_name);
		if (comm && n) {
			FILE *f;

			snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
			comm[0] = '\0';
			f = fopen(path, "re");
			if (f) {
				if (fgets(comm, (int)n, f))
					str_trim(comm);
				fclose(f);
			}
		}
	}
	closedir(d);
	return owner;
}
