/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The schedstat reads of a lookup, shared with a second thread (procident_procs.c). Each is
 * a system call of its own (about 1.7 us here), and a sandbox may have hundreds of
 * processes, so with a CPU to spare the helper reads from the back of the list while the
 * caller reads from the front, until they meet. Items are claimed in chunks through one
 * atomic word, so no item is read by both unless the caller takes one over.
 *
 * The caller never waits for the helper. The items the helper claimed and has not published
 * by the time the caller ran out of work are read by the caller as well, through fds of its
 * own (a read holds the file's seq_file lock, and the helper runs SCHED_IDLE: it may be
 * preempted in one for long). Every result the caller uses was read after stat_reader_run
 * began (the soundness of the lookup rests on that). A round starts only once the helper has
 * finished the previous one (otherwise the caller reads everything alone), so the helper
 * never touches arrays that a later round reuses; a helper fd that the table closes while
 * the helper may still read it is closed once the helper is idle, so the number is not
 * reused under it.
 */
#include "procident_int.h"
#include "xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HELP_MIN     32 /* fewer items: the wake-up costs more than it saves */
#define CHUNK        4	/* items per claim: fewer atomic operations on a shared line */
#define HELPER_STACK (64 * 1024)
#define GRAVE_MAX    1024 /* fds kept for a busy helper at most */

struct stat_reader {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool started, failed, quit; /* failed: the thread could not start; quit: under lock */
	uint64_t round;	    /* under lock; written by the caller only */
	_Atomic uint64_t done; /* the last round the helper finished */
	_Atomic uint64_t claim; /* front << 32 | back: [front, back) is unclaimed */
	/* the round's items, helper side; reallocated only while the helper is idle */
	int *hfds;
	struct stat_read *res;
	_Atomic uint64_t *published; /* per item: the round whose result res[i] holds */
	size_t cap;
	int *grave; /* fds to close once the helper is idle */
	size_t n_grave, cap_grave;
};

void stat_read_one(int fd, struct stat_read *out)
{
	ssize_t r;

	do
		r = pread(fd, out->text, sizeof(out->text) - 1, 0);
	while (r < 0 && errno == EINTR);
	out->len = r;
	out->err = r < 0 ? errno : r == 0 ? EIO : 0;
}

static bool claim_front(struct stat_reader *r, size_t *lo, size_t *hi)
{
	uint64_t c = atomic_load(&r->claim);

	for (;;) {
		uint64_t f = c >> 32, b = c & 0xffffffffu, nf = f + CHUNK < b ? f + CHUNK : b;

		if (f >= b)
			return false;
		if (atomic_compare_exchange_weak(&r->claim, &c, nf << 32 | b)) {
			*lo = (size_t)f;
			*hi = (size_t)nf;
			return true;
		}
	}
}

static bool claim_back(struct stat_reader *r, size_t *lo, size_t *hi)
{
	uint64_t c = atomic_load(&r->claim);

	for (;;) {
		uint64_t f = c >> 32, b = c & 0xffffffffu, nb = b > f + CHUNK ? b - CHUNK : f;

		if (f >= b)
			return false;
		if (atomic_compare_exchange_weak(&r->claim, &c, f << 32 | nb)) {
			*lo = (size_t)nb;
			*hi = (size_t)b;
			return true;
		}
	}
}

static void *helper_main(void *arg)
{
	struct stat_reader *r = arg;
	uint64_t seen = 0;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	/* Only spare CPU time: woken on the lookup's CPU, a normal thread would preempt the
	 * lookup and read everything itself while it waits. Best effort. */
	pthread_setschedparam(pthread_self(), SCHED_IDLE, &(struct sched_param){ 0 });
	pthread_mutex_lock(&r->lock);
	for (;;) {
		size_t lo, hi;

		while (!r->quit && r->round == seen)
			pthread_cond_wait(&r->wake, &r->lock);
		if (r->quit)
			break;
		seen = r->round;
		pthread_mutex_unlock(&r->lock);
		while (claim_back(r, &lo, &hi))
			while (hi-- > lo) {
				stat_read_one(r->hfds[hi], &r->res[hi]);
				atomic_store_explicit(&r->published[hi], seen, memory_order_release);
			}
		atomic_store_explicit(&r->done, seen, memory_order_release);
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

struct stat_reader *stat_reader_new(void)
{
	struct stat_reader *r = xcalloc(1, sizeof(*r));

	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->wake, NULL);
	return r;
}

static bool helper_idle(struct stat_reader *r)
{
	return !r->started ||
	       atomic_load_explicit(&r->done, memory_order_acquire) == r->round;
}

static void bury(struct stat_reader *r)
{
	while (r->n_grave > 0)
		close(r->grave[--r->n_grave]);
}

void stat_reader_free(struct stat_reader *r)
{
	if (!r)
		return;
	if (r->started) {
		pthread_mutex_lock(&r->lock);
		r->quit = true;
		pthread_cond_signal(&r->wake);
		pthread_mutex_unlock(&r->lock);
		pthread_join(r->thread, NULL);
	}
	bury(r);
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->lock);
	free(r->hfds);
	free(r->res);
	free(r->published);
	free(r->grave);
	free(r);
}

void stat_reader_close(struct stat_reader *r, int fd)
{
	/* Past GRAVE_MAX (a helper starved for long while processes came and went) the fd is
	 * closed anyway: its number reused under the helper only spoils a result of a round
	 * that is over, which nobody reads. */
	if (!r || helper_idle(r) || r->n_grave >= GRAVE_MAX) {
		if (r && helper_idle(r))
			bury(r);
		close(fd);
		return;
	}
	if (r->n_grave == r->cap_grave) {
		r->cap_grave = r->cap_grave ? r->cap_grave * 2 : 16;
		r->grave = xreallocarray(r->grave, r->cap_grave, sizeof(*r->grave));
	}
	r->grave[r->n_grave++] = fd;
}

/* Room for n items and a running helper; false: read alone this time. */
static bool prepare(struct stat_reader *r, size_t n)
{
	pthread_attr_t attr;
	int err;

	if (n > r->cap) {
		size_t cap = n + n / 2;

		r->hfds = xreallocarray(r->hfds, cap, sizeof(*r->hfds));
		r->res = xreallocarray(r->res, cap, sizeof(*r->res));
		free(r->published);
		r->published = xreallocarray(NULL, cap, sizeof(*r->published));
		for (r->cap = 0; r->cap < cap; r->cap++) /* rounds start at 1: 0 holds none */
			atomic_init(&r->published[r->cap], 0);
	}
	if (r->started || r->failed)
		return r->started;
	if (pthread_attr_init(&attr) != 0)
		return false;
	pthread_attr_setstacksize(&attr, HELPER_STACK);
	err = pthread_create(&r->thread, &attr, helper_main, r);
	pthread_attr_destroy(&attr);
	r->started = err == 0;
	r->failed = !r->started; /* not retried: each failed attempt costs a mapping */
	return r->started;
}

void stat_reader_run(struct stat_reader *r, const int *fds, const int *hfds, size_t n,
		     struct stat_read *out)
{
	size_t lo, hi, i, back;
	uint64_t round;

	/* trylock: the helper holds the lock a moment after each round, and a SCHED_IDLE thread
	 * preempted there could keep it for long */
	if (n < HELP_MIN || n > UINT32_MAX || !helper_idle(r) || !prepare(r, n) ||
	    pthread_mutex_trylock(&r->lock) != 0) {
		for (i = 0; i < n; i++)
			stat_read_one(fds[i], &out[i]);
		return;
	}
	bury(r);
	memcpy(r->hfds, hfds, n * sizeof(*hfds));
	atomic_store(&r->claim, (uint64_t)n); /* front 0, back n */
	round = ++r->round;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	while (claim_front(r, &lo, &hi))
		for (i = lo; i < hi; i++)
			stat_read_one(fds[i], &out[i]);
	back = (size_t)(atomic_load(&r->claim) & 0xffffffffu);
	for (i = back; i < n; i++) {
		if (atomic_load_explicit(&r->published[i], memory_order_acquire) == round)
			out[i] = r->res[i];
		else /* claimed by the helper, not finished: read here too */
			stat_read_one(fds[i], &out[i]);
	}
}
