/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading /proc for sockets: which socket inode is bound to a local TCP port (parsing
 * /proc/net/tcp and tcp6), and which processes own a socket inode (scanning /proc/<pid>/fd).
 * Used to say who holds a port, and later by the proxy to identify its callers.
 */
#ifndef OS_PROCNET_H
#define OS_PROCNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One line of /proc/net/tcp{,6} parsed; returns -1 for a header or malformed line. */
struct tcp_entry {
	uint16_t local_port, remote_port;
	int state; /* 0x0A = LISTEN */
	uint64_t inode;
	bool v6;
	unsigned char local_addr[16], remote_addr[16];
};
int procnet_parse_line(const char *line, bool v6, struct tcp_entry *out);

/* The inode of a socket listening on port (any address), searching proc_root/net/tcp and
 * tcp6 (proc_root is "/proc" or "/proc/<pid>" for another namespace). 0 when none. */
uint64_t procnet_listener_inode(const char *proc_root, uint16_t port);
/* The first process (by pid) under /proc that has socket inode open; 0 when none. */
pid_t procnet_inode_owner(uint64_t inode, char *comm, size_t n);

#endif
