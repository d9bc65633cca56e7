/* SPDX-License-Identifier: Apache-2.0 */
/* One TCP socket by its 4-tuple through NETLINK_SOCK_DIAG; see sockdiag.h. */
#include "sockdiag.h"
#include "util.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TCP_LISTEN_STATE 10
#define ALL_STATES	 0xffffffffu
#define ANSWER_MAX	 8192

_Static_assert(SOCKDIAG_REQ_LEN ==
		       NLMSG_LENGTH(sizeof(struct inet_diag_req_v2)),
	       "SOCKDIAG_REQ_LEN must match the kernel's request size");

/* An address and port as inet_diag_sockid holds them (network order, IPv4 in word 0). */
struct diag_end {
	int family;
	uint32_t addr[4];
	uint16_t port; /* network order */
};

/* IPv4-mapped IPv6 becomes IPv4, as the kernel keys such sockets. */
static int diag_end_of(const struct sockaddr *sa, struct diag_end *d)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(d, 0, sizeof(*d));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)sa;

		d->family = AF_INET;
		memcpy(&d->addr[0], &s->sin_addr, 4);
		d->port = s->sin_port;
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;

		d->port = s->sin6_port;
		if (!memcmp(s->sin6_addr.s6_addr, mapped, sizeof(mapped))) {
			d->family = AF_INET;
			memcpy(&d->addr[0], s->sin6_addr.s6_addr + 12, 4);
		} else {
			d->family = AF_INET6;
			memcpy(d->addr, s->sin6_addr.s6_addr, 16);
		}
		return 0;
	}
	return -1;
}

static int diag_ends(const struct sockaddr *local, const struct sockaddr *remote,
		     struct diag_end *l, struct diag_end *r)
{
	if (diag_end_of(local, l) < 0 || diag_end_of(remote, r) < 0 || l->family != r->family)
		return -1;
	return 0;
}

int sockdiag_open(void)
{
	return socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
}

int sockdiag_build(void *buf, size_t n, const struct sockaddr *local,
		   const struct sockaddr *remote, uint32_t seq)
{
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} m;
	struct diag_end l, r;

	if (n < SOCKDIAG_REQ_LEN || diag_ends(local, remote, &l, &r) < 0)
		return -1;
	memset(&m, 0, sizeof(m));
	m.h.nlmsg_len = SOCKDIAG_REQ_LEN;
	m.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	m.h.nlmsg_flags = NLM_F_REQUEST; /* no NLM_F_DUMP: one socket, looked up by its ends */
	m.h.nlmsg_seq = seq;
	m.r.sdiag_family = (uint8_t)l.family;
	m.r.sdiag_protocol = IPPROTO_TCP;
	m.r.idiag_states = ALL_STATES;
	m.r.id.idiag_sport = l.port;
	m.r.id.idiag_dport = r.port;
	memcpy(m.r.id.idiag_src, l.addr, sizeof(l.addr));
	memcpy(m.r.id.idiag_dst, r.addr, sizeof(r.addr));
	m.r.id.idiag_cookie[0] = m.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	memcpy(buf, &m, SOCKDIAG_REQ_LEN);
	return SOCKDIAG_REQ_LEN;
}

/* The answer must describe the socket asked for: the kernel falls back to a listener on
 * the local end when no connection matches. */
static bool same_socket(const struct inet_diag_msg *d, const struct diag_end *l,
			const struct diag_end *r)
{
	size_t alen = l->family == AF_INET ? 4 : 16;

	return d->idiag_family == l->family && d->id.idiag_sport == l->port &&
	       d->id.idiag_dport == r->port && !memcmp(d->id.idiag_src, l->addr, alen) &&
	       !memcmp(d->id.idiag_dst, r->addr, alen);
}

static int parse_error(const struct nlmsghdr *h, struct err *e)
{
	const struct nlmsgerr *ne = NLMSG_DATA(h);

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ne)))
		return err_set(e, ERR_RUNTIME, 0, "sock_diag: truncated error message");
	if (ne->error == -ENOENT)
		return err_set(e, ERR_NOTFOUND, ENOENT, "sock_diag: no such socket");
	return err_set(e, ERR_RUNTIME, ne->error < 0 ? -ne->error : EPROTO,
		       "sock_diag: the kernel refused the request: %s",
		       strerror(ne->error < 0 ? -ne->error : EPROTO));
}

static int parse_answer(const struct nlmsghdr *h, const struct diag_end *l,
			const struct diag_end *r, struct sockdiag_answer *a, struct err *e)
{
	const struct inet_diag_msg *d = NLMSG_DATA(h);

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*d)))
		return err_set(e, ERR_RUNTIME, 0, "sock_diag: truncated answer");
	if (!same_socket(d, l, r) || d->idiag_state == TCP_LISTEN_STATE)
		return err_set(e, ERR_NOTFOUND, 0, "sock_diag: no connection with these ends");
	if (d->idiag_inode == 0) /* closed by its owner (orphaned, time-wait) */
		return err_set(e, ERR_NOTFOUND, 0, "sock_diag: the socket is no longer open");
	a->ino = d->idiag_inode;
	a->uid = d->idiag_uid;
	a->state = d->idiag_state;
	return 1;
}

int sockdiag_parse(const void *buf, size_t n, uint32_t seq, const struct sockaddr *local,
		   const struct sockaddr *remote, struct sockdiag_answer *a, struct err *e)
{
	const struct nlmsghdr *h = buf;
	struct diag_end l, r;
	size_t left = n;

	if (diag_ends(local, remote, &l, &r) < 0)
		return err_set(e, ERR_INVALID, 0, "sock_diag: not a TCP/IP connection");
	for (; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
		if (h->nlmsg_seq != seq)
			continue;
		if (h->nlmsg_type == NLMSG_ERROR)
			return parse_error(h, e);
		if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY)
			return parse_answer(h, &l, &r, a, e);
		if (h->nlmsg_type == NLMSG_DONE)
			return err_set(e, ERR_NOTFOUND, 0, "sock_diag: no such socket");
	}
	return 0;
}

/* One datagram within the deadline; its length or -1 with e. The kernel answers while it
 * handles the request, so the first read normally finds the answer waiting. */
static ssize_t recv_answer(int fd, char *buf, size_t n, int64_t deadline, struct err *e)
{
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int64_t left = deadline - now_mono_ms();
		ssize_t r = recv(fd, buf, n, MSG_DONTWAIT);
		int pr;

		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return err_set(e, ERR_UNAVAILABLE, errno,
				       "sock_diag: cannot read the answer: %s", strerror(errno));
		pr = left > 0 ? poll(&p, 1, (int)left) : 0;
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			return err_set(e, ERR_UNAVAILABLE, pr < 0 ? errno : ETIMEDOUT,
				       "sock_diag: no answer from the kernel within %d ms: %s",
				       SOCKDIAG_TIMEOUT_MS, strerror(pr < 0 ? errno : ETIMEDOUT));
	}
}

static int send_request(int fd, const void *req, size_t len, struct err *e)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	ssize_t r;

	do
		r = sendto(fd, req, len, MSG_NOSIGNAL, (struct sockaddr *)&kernel, sizeof(kernel));
	while (r < 0 && errno == EINTR);
	if (r != (ssize_t)len)
		return err_set(e, ERR_UNAVAILABLE, r < 0 ? errno : EIO,
			       "sock_diag: cannot send the request: %s",
			       strerror(r < 0 ? errno : EIO));
	return 0;
}

int sockdiag_lookup(int fd, const struct sockaddr *local, const struct sockaddr *remote,
		    struct sockdiag_answer *a, struct err *e)
{
	static atomic_uint next_seq;
	_Alignas(struct nlmsghdr) char buf[ANSWER_MAX];
	uint32_t seq = (uint32_t)atomic_fetch_add(&next_seq, 1) + 1;
	int64_t deadline;
	int len, r;

	len = sockdiag_build(buf, sizeof(buf), local, remote, seq);
	if (len < 0)
		return err_set(e, ERR_INVALID, 0, "sock_diag: not a TCP/IP connection");
	if (send_request(fd, buf, (size_t)len, e) < 0)
		return -1;
	deadline = now_mono_ms() + SOCKDIAG_TIMEOUT_MS;
	for (;;) {
		ssize_t n = recv_answer(fd, buf, sizeof(buf), deadline, e);

		if (n < 0)
			return -1;
		r = sockdiag_parse(buf, (size_t)n, seq, local, remote, a, e);
		if (r != 0) /* 0: a late answer to an earlier request: read on */
			return r < 0 ? -1 : 0;
	}
}
