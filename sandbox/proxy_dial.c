// SPDX-License-Identifier: Apache-2.0
/*
 * Name resolution by the proxy only (reference/policy.md §4.5): an IP literal is itself;
 * else the sandbox's own /etc/hosts (through /proc/<pid 1>/root); else the system
 * resolver. The dial then uses exactly the addresses that were validated, never a second
 * lookup.
 */
#include "proxy_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"

static void add_addr(struct pol_addr *addrs, size_t *n, const struct pol_addr *a)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (addrs[i].v6 == a->v6 && !memcmp(addrs[i].a, a->a, a->v6 ? 16 : 4))
			return;
	if (*n < PROXY_MAX_ADDRS)
		addrs[(*n)++] = *a;
}

static void hosts_line(struct conn *c, char *line, struct pol_addr *addrs, size_t *n)
{
	char *save = NULL, *ip, *name;
	struct pol_addr a;

	line[strcspn(line, "#")] = '\0';
	ip = strtok_r(line, " \t\r", &save);
	if (!ip || pol_addr_parse(ip, &a) < 0)
		return;
	while ((name = strtok_r(NULL, " \t\r", &save)))
		if (!strcasecmp(name, c->host))
			add_addr(addrs, n, &a);
}

/* "IP name alias..." lines of the sandbox's /etc/hosts; '#' starts a comment. The file is
 * the sandbox's: only a regular file is read, and at most HOSTS_MAX bytes of it. */
#define HOSTS_MAX (1 << 20)

static void from_sandbox_hosts(struct conn *c, struct pol_addr *addrs, size_t *n)
{
	char path[64];
	struct buf text = BUF_INIT;
	struct stat st;
	char *line, *save = NULL;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/root/etc/hosts", (long)c->px->cfg->init_pid);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= HOSTS_MAX) {
		buf_grow(&text, (size_t)st.st_size + 1);
		ssize_t got = read_full(fd, text.p, (size_t)st.st_size);

		buf_setlen(&text, got > 0 ? (size_t)got : 0);
	}
	close(fd);
	for (line = strtok_r(text.p, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		hosts_line(c, line, addrs, n);
	buf_release(&text);
}

static int from_resolver(struct conn *c, struct pol_addr *addrs, size_t *n, struct buf *why)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	int r = getaddrinfo(c->host, NULL, &hints, &res);

	if (r != 0) {
		buf_addf(why, "DNS resolution failed for %s: %s", c->host, gai_strerror(r));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		struct pol_addr a = { 0 };

		if (ai->ai_family == AF_INET) {
			memcpy(a.a, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
		} else if (ai->ai_family == AF_INET6) {
			a.v6 = true;
			memcpy(a.a, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, 16);
		} else {
			continue;
		}
		add_addr(addrs, n, &a);
	}
	freeaddrinfo(res);
	return 0;
}

int proxy_resolve(struct conn *c, struct pol_addr *addrs, size_t *n, struct buf *why)
{
	struct pol_addr a;

	*n = 0;
	if (pol_addr_parse(c->host, &a) == 0) {
		addrs[(*n)++] = a;
		return 0;
	}
	from_sandbox_hosts(c, addrs, n);
	if (!*n && from_resolver(c, addrs, n, why) < 0)
		return -1;
	if (!*n) {
		buf_addf(why, "DNS resolution returned no addresses for %s", c->host);
		return -1;
	}
	return 0;
}

static socklen_t to_sockaddr(const struct pol_addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, a->a, 16);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	memcpy(&s4->sin_addr, a->a, 4);
	return sizeof(*s4);
}

/* A connected upstream socket as the relays want it: no Nagle (they forward what arrives),
 * blocking, and a send timeout so that an upstream that stops reading cannot hold a thread
 * in send() for ever. -1 when the mode or the timeout could not be set. */
static int blocking_with_timeout(int fd)
{
	struct timeval tv = { PROXY_SEND_TIMEOUT_S, 0 };
	int one = 1, fl;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		log_debug("proxy", "cannot set TCP_NODELAY upstream", "error", strerror(errno),
			  NULL);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -1;
	fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

/* One address, non-blocking connect bounded by the dial timeout; returns the fd or -1. */
static int dial_one(const struct pol_addr *a, uint16_t port, int *err)
{
	struct sockaddr_storage ss;
	socklen_t len = to_sockaddr(a, port, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct pollfd p;
	socklen_t elen = sizeof(*err);

	if (fd < 0) {
		*err = errno;
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
		*err = errno;
		goto fail;
	}
	p = (struct pollfd){ fd, POLLOUT, 0 };
	if (poll(&p, 1, PROXY_DIAL_TIMEOUT_MS) <= 0) {
		*err = ETIMEDOUT;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &elen) < 0 || *err) {
		if (!*err)
			*err = errno;
		goto fail;
	}
	if (blocking_with_timeout(fd) < 0) {
		*err = errno;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

int proxy_dial(struct conn *c, const struct pol_addr *addrs, size_t n, struct buf *why)
{
	int err = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		c->ufd = dial_one(&addrs[i], c->port, &err);
		if (c->ufd >= 0)
			return 0;
	}
	buf_addf(why, "cannot connect to %s:%u: %s", c->host, c->port, strerror(err));
	return -1;
}
