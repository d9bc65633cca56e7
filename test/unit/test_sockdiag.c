/* SPDX-License-Identifier: Apache-2.0 */
#include "unit.h"
#include "../../lib/sockdiag.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static struct sockaddr_in v4(const char *ip, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

static struct sockaddr_in6 v6(const char *ip, uint16_t port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(port) };

	inet_pton(AF_INET6, ip, &a.sin6_addr);
	return a;
}

struct req {
	struct nlmsghdr h;
	struct inet_diag_req_v2 r;
};

TEST(sockdiag_builds_an_exact_ipv4_request)
{
	struct sockaddr_in l = v4("127.0.0.1", 40000), r = v4("127.0.0.1", 3128);
	_Alignas(struct nlmsghdr) unsigned char buf[128];
	struct req q;
	uint32_t want;

	CHECK_INT(sockdiag_build(buf, sizeof(buf), (struct sockaddr *)&l, (struct sockaddr *)&r, 7),
		  SOCKDIAG_REQ_LEN);
	memcpy(&q, buf, sizeof(q));
	CHECK_INT(q.h.nlmsg_len, SOCKDIAG_REQ_LEN);
	CHECK_INT(q.h.nlmsg_type, SOCK_DIAG_BY_FAMILY);
	CHECK_INT(q.h.nlmsg_flags, NLM_F_REQUEST); /* no dump */
	CHECK_INT(q.h.nlmsg_seq, 7);
	CHECK_INT(q.r.sdiag_family, AF_INET);
	CHECK_INT(q.r.sdiag_protocol, IPPROTO_TCP);
	CHECK_INT(q.r.id.idiag_sport, htons(40000));
	CHECK_INT(q.r.id.idiag_dport, htons(3128));
	inet_pton(AF_INET, "127.0.0.1", &want);
	CHECK_INT(q.r.id.idiag_src[0], want);
	CHECK_INT(q.r.id.idiag_dst[0], want);
	CHECK_INT(q.r.id.idiag_src[1], 0);
	CHECK_INT(q.r.id.idiag_cookie[0], INET_DIAG_NOCOOKIE);
	CHECK_INT(q.r.id.idiag_cookie[1], INET_DIAG_NOCOOKIE);
	CHECK_INT(sockdiag_build(buf, SOCKDIAG_REQ_LEN - 1, (struct sockaddr *)&l,
				 (struct sockaddr *)&r, 7),
		  -1);
}

TEST(sockdiag_asks_mapped_addresses_as_ipv4_and_refuses_mixed_families)
{
	struct sockaddr_in6 l = v6("::ffff:10.1.2.3", 5000), r6 = v6("::1", 3128);
	struct sockaddr_in r = v4("10.9.9.9", 3128);
	struct sockaddr_un_like {
		sa_family_t f;
	} unix_addr = { AF_UNIX };
	_Alignas(struct nlmsghdr) unsigned char buf[128];
	struct req q;
	uint32_t want;

	CHECK_INT(sockdiag_build(buf, sizeof(buf), (struct sockaddr *)&l, (struct sockaddr *)&r, 1),
		  SOCKDIAG_REQ_LEN);
	memcpy(&q, buf, sizeof(q));
	CHECK_INT(q.r.sdiag_family, AF_INET);
	inet_pton(AF_INET, "10.1.2.3", &want);
	CHECK_INT(q.r.id.idiag_src[0], want);
	/* a real IPv6 local end with an IPv4 remote end cannot be one socket */
	CHECK_INT(sockdiag_build(buf, sizeof(buf), (struct sockaddr *)&r6, (struct sockaddr *)&r, 1),
		  -1);
	CHECK_INT(sockdiag_build(buf, sizeof(buf), (struct sockaddr *)&r6, (struct sockaddr *)&r6, 1),
		  SOCKDIAG_REQ_LEN);
	memcpy(&q, buf, sizeof(q));
	CHECK_INT(q.r.sdiag_family, AF_INET6);
	CHECK_INT(((unsigned char *)q.r.id.idiag_src)[15], 1);
	CHECK_INT(sockdiag_build(buf, sizeof(buf), (struct sockaddr *)&unix_addr,
				 (struct sockaddr *)&r, 1),
		  -1);
}

struct answer {
	struct nlmsghdr h;
	struct inet_diag_msg m;
};

static struct answer answer_for(uint32_t seq, const char *src, uint16_t sport, const char *dst,
				uint16_t dport, int state, uint32_t ino)
{
	struct answer a;

	memset(&a, 0, sizeof(a));
	a.h.nlmsg_len = sizeof(a);
	a.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	a.h.nlmsg_seq = seq;
	a.m.idiag_family = AF_INET;
	a.m.idiag_state = (uint8_t)state;
	a.m.id.idiag_sport = htons(sport);
	a.m.id.idiag_dport = htons(dport);
	inet_pton(AF_INET, src, &a.m.id.idiag_src[0]);
	inet_pton(AF_INET, dst, &a.m.id.idiag_dst[0]);
	a.m.idiag_uid = 1000;
	a.m.idiag_inode = ino;
	return a;
}

TEST(sockdiag_parses_the_answer_for_its_socket_only)
{
	struct sockaddr_in l = v4("127.0.0.1", 40000), r = v4("127.0.0.1", 3128);
	struct sockdiag_answer got = { 0 };
	struct err e = ERR_INIT;
	struct answer a;

	a = answer_for(9, "127.0.0.1", 40000, "127.0.0.1", 3128, 1, 4242);
	CHECK_INT(sockdiag_parse(&a, sizeof(a), 9, (struct sockaddr *)&l, (struct sockaddr *)&r,
				 &got, &e),
		  1);
	CHECK_INT(got.ino, 4242);
	CHECK_INT(got.uid, 1000);
	CHECK_INT(got.state, 1);
	/* another request's answer is skipped */
	CHECK_INT(sockdiag_parse(&a, sizeof(a), 10, (struct sockaddr *)&l, (struct sockaddr *)&r,
				 &got, &e),
		  0);
	/* the kernel's fallback to a listener on the local end is not the connection */
	a = answer_for(9, "127.0.0.1", 40000, "0.0.0.0", 0, 10, 777);
	CHECK_INT(sockdiag_parse(&a, sizeof(a), 9, (struct sockaddr *)&l, (struct sockaddr *)&r,
				 &got, &e),
		  -1);
	CHECK_INT(e.code, ERR_NOTFOUND);
	/* closed by its owner: no file holds it */
	a = answer_for(9, "127.0.0.1", 40000, "127.0.0.1", 3128, 4, 0);
	CHECK_INT(sockdiag_parse(&a, sizeof(a), 9, (struct sockaddr *)&l, (struct sockaddr *)&r,
				 &got, &e),
		  -1);
	CHECK_INT(e.code, ERR_NOTFOUND);
	/* truncated */
	a = answer_for(9, "127.0.0.1", 40000, "127.0.0.1", 3128, 1, 4242);
	a.h.nlmsg_len = NLMSG_LENGTH(8);
	CHECK_INT(sockdiag_parse(&a, NLMSG_LENGTH(8), 9, (struct sockaddr *)&l,
				 (struct sockaddr *)&r, &got, &e),
		  -1);
	CHECK_INT(e.code, ERR_RUNTIME);
}

TEST(sockdiag_parses_kernel_errors)
{
	struct sockaddr_in l = v4("127.0.0.1", 40000), r = v4("127.0.0.1", 3128);
	struct {
		struct nlmsghdr h;
		struct nlmsgerr ne;
	} m;
	struct sockdiag_answer got;
	struct err e = ERR_INIT;

	memset(&m, 0, sizeof(m));
	m.h.nlmsg_len = sizeof(m);
	m.h.nlmsg_type = NLMSG_ERROR;
	m.h.nlmsg_seq = 3;
	m.ne.error = -ENOENT;
	CHECK_INT(sockdiag_parse(&m, sizeof(m), 3, (struct sockaddr *)&l, (struct sockaddr *)&r,
				 &got, &e),
		  -1);
	CHECK_INT(e.code, ERR_NOTFOUND);
	m.ne.error = -EINVAL;
	CHECK_INT(sockdiag_parse(&m, sizeof(m), 3, (struct sockaddr *)&l, (struct sockaddr *)&r,
				 &got, &e),
		  -1);
	CHECK_INT(e.code, ERR_RUNTIME);
	CHECK_INT(e.sys, EINVAL);
	/* garbage shorter than a header is no answer */
	CHECK_INT(sockdiag_parse(&m, 4, 3, (struct sockaddr *)&l, (struct sockaddr *)&r, &got, &e),
		  0);
}

/* The kernel's answer for a real loopback connection names the client socket's inode. */
TEST(sockdiag_finds_a_live_connection)
{
	struct sockaddr_in srv = v4("127.0.0.1", 0), cl, sv;
	socklen_t len = sizeof(srv);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), afd = -1;
	int dfd = sockdiag_open();
	struct sockdiag_answer got = { 0 };
	struct err e = ERR_INIT;
	struct stat st;

	if (dfd < 0) { /* a kernel without sock_diag: nothing to check against */
		fprintf(stderr, "  (skipped: no NETLINK_SOCK_DIAG: %s)\n", strerror(errno));
		close(lfd);
		close(cfd);
		return;
	}
	CHECK(lfd >= 0 && cfd >= 0);
	CHECK_INT(bind(lfd, (struct sockaddr *)&srv, sizeof(srv)), 0);
	CHECK_INT(listen(lfd, 1), 0);
	CHECK_INT(getsockname(lfd, (struct sockaddr *)&srv, &len), 0);
	CHECK_INT(connect(cfd, (struct sockaddr *)&srv, sizeof(srv)), 0);
	afd = accept(lfd, NULL, NULL);
	CHECK(afd >= 0);
	/* as the proxy sees it: the peer is the client's local end */
	len = sizeof(cl);
	CHECK_INT(getpeername(afd, (struct sockaddr *)&cl, &len), 0);
	len = sizeof(sv);
	CHECK_INT(getsockname(afd, (struct sockaddr *)&sv, &len), 0);
	CHECK_INT(sockdiag_lookup(dfd, (struct sockaddr *)&cl, (struct sockaddr *)&sv, &got, &e), 0);
	CHECK_INT(fstat(cfd, &st), 0);
	CHECK_INT(got.ino, st.st_ino);
	CHECK_INT(got.uid, getuid());
	/* the other way round it is the accepted socket */
	CHECK_INT(sockdiag_lookup(dfd, (struct sockaddr *)&sv, (struct sockaddr *)&cl, &got, &e), 0);
	CHECK_INT(fstat(afd, &st), 0);
	CHECK_INT(got.ino, st.st_ino);
	/* a port nobody uses */
	cl.sin_port = htons(1);
	CHECK_INT(sockdiag_lookup(dfd, (struct sockaddr *)&cl, (struct sockaddr *)&sv, &got, &e),
		  -1);
	CHECK_INT(e.code, ERR_NOTFOUND);
	close(afd);
	close(cfd);
	close(lfd);
	close(dfd);
}
