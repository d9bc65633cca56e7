// SPDX-License-Identifier: Apache-2.0
/*
 * Relays for allowed connections. relay_raw: bytes both ways through splice(2) (kernel
 * pipes, no copies through user space), for tunnels that need no inspection. Both end
 * when a side closes or when the policy generation that authorised the connection is
 * superseded (its hup pipe hangs up). The client side is tuned for its loopback hop
 * (tune_client); the upstream side keeps the host's settings.
 */
#include "proxy_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"

/* Each direction's pipe. 1 MiB moves a bulk download with a third less proxy CPU (the
 * bench: 92-100% of a direct copy instead of 77-85%), but the proxy is not in the sandbox's
 * cgroup: a sandbox holding many connections it never reads would pin that much per
 * direction outside its memory limit. So a pipe starts at 256 KiB and grows to 1 MiB once
 * its direction moved GROW_AFTER, while all grown pipes of the proxy stay under
 * GROWN_BUDGET. */
#define SPLICE_CHUNK (256 * 1024)
#define SPLICE_BIG   (1024 * 1024)
#define GROW_AFTER   (4 * 1024 * 1024)
#define GROWN_BUDGET (16 * 1024 * 1024)

static _Atomic size_t grown_bytes; /* beyond SPLICE_CHUNK, summed over grown pipes */

struct dir {
	int src, dst, pipe[2];
	size_t in_pipe, size, moved; /* size: the pipe's; SPLICE_BIG only once grown */
	bool eof, done;
};

/* A direction that moves a lot gets the larger pipe, if the proxy's budget has room. */
static void maybe_grow(struct dir *d)
{
	size_t extra = SPLICE_BIG - SPLICE_CHUNK;

	if (d->size != SPLICE_CHUNK || d->moved < GROW_AFTER)
		return;
	if (atomic_fetch_add(&grown_bytes, extra) + extra > GROWN_BUDGET ||
	    fcntl(d->pipe[1], F_SETPIPE_SZ, SPLICE_BIG) < 0) {
		atomic_fetch_sub(&grown_bytes, extra);
		d->moved = 0; /* try again after as much again */
		return;
	}
	d->size = SPLICE_BIG;
}

#define STEP_ROUNDS 16 /* chunks one direction may move per wake-up before the other's turn */

/* Moves what is possible now in one direction; -1 when it failed. What poll reported is
 * only where to start: after a read the write is tried at once, and after a drained pipe
 * the next read, until one would block (each saves a poll per chunk in a bulk transfer). */
static int dir_step(struct dir *d, short rev_src, short rev_dst)
{
	bool can_read = rev_src & (POLLIN | POLLHUP | POLLERR), can_write = rev_dst & POLLOUT;
	int round;
	ssize_t n;

	for (round = 0; round < STEP_ROUNDS; round++) {
		if (!d->in_pipe && !d->eof && can_read) {
			n = splice(d->src, NULL, d->pipe[1], NULL, d->size,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n == 0)
				d->eof = true;
			else if (n > 0)
				d->in_pipe = (size_t)n, d->moved += (size_t)n, can_write = true;
			else if (errno != EAGAIN && errno != EINTR)
				return -1;
			else
				can_read = false;
		}
		if (!d->in_pipe || !can_write)
			break;
		n = splice(d->pipe[0], NULL, d->dst, NULL, d->in_pipe,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0)
			d->in_pipe -= (size_t)n;
		else if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (d->in_pipe)
			break; /* the destination is full: poll says when it has room */
		maybe_grow(d);
	}
	if (d->eof && !d->in_pipe && !d->done) {
		if (shutdown(d->dst, SHUT_WR) < 0)
			return -1; /* the peer is gone: nothing left to relay either way */
		d->done = true;
	}
	return 0;
}

static short dir_events_src(const struct dir *d)
{
	return !d->in_pipe && !d->eof ? POLLIN : 0;
}

static short dir_events_dst(const struct dir *d)
{
	return d->in_pipe ? POLLOUT : 0;
}

/*
 * The client socket's peer is the sandbox, over its loopback: no path to probe, no queue
 * to keep short. The host's default congestion control may pace (BBR does unless the qdisc
 * is fq: sends wait for a timer), which on this hop only costs CPU and pushes sends into
 * timer and ACK processing, often on the CPU of the agent reading them (the bench's 512 MiB
 * download: proxy + client CPU 0.57-0.66 s with BBR, 0.42-0.49 s with reno). Reno is
 * always built in, allowed to unprivileged callers, and never paces. Nagle is off as on the
 * upstream side (dial_one): the relay forwards what arrives, the endpoints batch. Either
 * failing leaves the socket as it was, which relays correctly, only slower.
 */
static void tune_client(int fd)
{
	static const char cc[] = "reno";
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, sizeof(cc) - 1) < 0)
		log_debug("proxy", "cannot set the client's congestion control", "error",
			  strerror(errno), NULL);
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		log_debug("proxy", "cannot set TCP_NODELAY on the client", "error",
			  strerror(errno), NULL);
}

/* Non-blocking, as the relay's poll loop needs; -1 when that failed. */
static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Both ends of one direction's pipe; a pipe keeps its default size (64 KiB) when the
 * larger one is refused (fs.pipe-max-size, or an unprivileged user's pipes beyond
 * fs.pipe-user-pages-soft: then the relay is only slower, and the pipe never grows). */
static int open_pipe(struct dir *d)
{
	int sz;

	if (pipe2(d->pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	sz = fcntl(d->pipe[1], F_SETPIPE_SZ, SPLICE_CHUNK);
	if (sz < 0) {
		log_debug("proxy", "relay pipe keeps its default size", "error", strerror(errno),
			  NULL);
		sz = fcntl(d->pipe[1], F_GETPIPE_SZ);
	}
	d->size = sz > 0 ? (size_t)sz : 65536;
	return 0;
}

void relay_raw(struct conn *c)
{
	struct dir up = { .src = c->cfd, .dst = c->ufd, .pipe = { -1, -1 } };
	struct dir down = { .src = c->ufd, .dst = c->cfd, .pipe = { -1, -1 } };

	if (c->early.len && proxy_send_all(c->ufd, c->early.p, c->early.len) < 0)
		return;
	buf_reset(&c->early);
	tune_client(c->cfd);
	if (open_pipe(&up) < 0 || open_pipe(&down) < 0 || set_nonblock(c->cfd) < 0 ||
	    set_nonblock(c->ufd) < 0)
		goto out;
	while (!(up.done && down.done)) {
		short ev_c = (short)(dir_events_src(&up) | dir_events_dst(&down));
		short ev_u = (short)(dir_events_src(&down) | dir_events_dst(&up));
		/* an fd with nothing asked of it stays out: poll reports POLLHUP regardless */
		struct pollfd p[3] = {
			{ ev_c ? c->cfd : -1, ev_c, 0 },
			{ ev_u ? c->ufd : -1, ev_u, 0 },
			{ c->gen->hup_rd, POLLIN, 0 },
		};

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[2].revents)
			break; /* a new policy: connections of the old one close */
		if ((p[0].revents | p[1].revents) & (POLLERR | POLLNVAL))
			break;
		if (dir_step(&up, p[0].revents, p[1].revents) < 0 ||
		    dir_step(&down, p[1].revents, p[0].revents) < 0)
			break;
	}
out:
	for (int i = 0; i < 2; i++) {
		if (up.pipe[i] >= 0)
			close(up.pipe[i]);
		if (down.pipe[i] >= 0)
			close(down.pipe[i]);
	}
	if (up.size == SPLICE_BIG)
		atomic_fetch_sub(&grown_bytes, SPLICE_BIG - SPLICE_CHUNK);
	if (down.size == SPLICE_BIG)
		atomic_fetch_sub(&grown_bytes, SPLICE_BIG - SPLICE_CHUNK);
}
