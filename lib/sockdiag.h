/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One TCP socket by its exact 4-tuple through NETLINK_SOCK_DIAG (inet_diag_req_v2 without
 * NLM_F_DUMP: the kernel looks the socket up in its hash tables instead of printing the
 * whole table, as /proc/net/tcp does). The netlink socket answers for the network
 * namespace it was created in: the sandbox's pid 1 makes one before it is confined and
 * hands it to the supervisor with the proxy's listener. procident.c calls sockdiag_lookup;
 * the builder and parser are pure, for the tests.
 */
#ifndef OS_SOCKDIAG_H
#define OS_SOCKDIAG_H

#include "err.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Bytes of a request (nlmsghdr + inet_diag_req_v2). */
#define SOCKDIAG_REQ_LEN 72
/* How long a lookup waits for the kernel's answer before giving up. */
#define SOCKDIAG_TIMEOUT_MS 1000

struct sockdiag_answer {
	uint64_t ino; /* the socket's inode ("socket:[ino]" in /proc/<pid>/fd) */
	uint32_t uid; /* its owner, as the netlink socket's user namespace sees it */
	int state;    /* TCP state (1 established ... 10 listen) */
};

/* A NETLINK_SOCK_DIAG socket (close-on-exec) in the caller's network namespace, or -1
 * (errno) when the kernel has none (CONFIG_INET_DIAG off). */
int sockdiag_open(void);

/*
 * Writes into buf (n >= SOCKDIAG_REQ_LEN) the request for the TCP socket whose local end is
 * local and remote end is remote: both IPv4, both IPv6, or IPv4-mapped IPv6 (asked as
 * IPv4). Returns the length, or -1 when the addresses are not TCP/IP or their families
 * differ.
 */
int sockdiag_build(void *buf, size_t n, const struct sockaddr *local,
		   const struct sockaddr *remote, uint32_t seq);

/*
 * Parses one datagram read from the netlink socket after the request built with seq and
 * the same addresses. Returns 1 with *a filled when it is the answer, 0 when the datagram
 * belongs to another request (read again), or -1 with e: ERR_NOTFOUND when the kernel has
 * no such socket (or only a listener, or one no file holds), ERR_RUNTIME when the kernel
 * refused the request or the answer is malformed (e->sys holds the kernel's errno).
 */
int sockdiag_parse(const void *buf, size_t n, uint32_t seq, const struct sockaddr *local,
		   const struct sockaddr *remote, struct sockdiag_answer *a, struct err *e);

/* Asks fd (from sockdiag_open) for the socket with ends local and remote: 0 and *a, or -1
 * with e (as sockdiag_parse; ERR_UNAVAILABLE for a send, receive or timeout failure). */
int sockdiag_lookup(int fd, const struct sockaddr *local, const struct sockaddr *remote,
		    struct sockdiag_answer *a, struct err *e);

#endif
