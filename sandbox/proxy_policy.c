// SPDX-License-Identifier: Apache-2.0
/*
 * The proxy's policy generations (reference/policy.md §7): the file is read whole, hashed
 * and loaded; a policy that loads becomes a new generation and the old one's connections
 * are told to close (its hup pipe's write end closes). A policy that does not load keeps
 * the last valid generation; with none, a quarantine generation denies everything with
 * the load error as the reason (fail closed). Missing file = the restrictive default.
 */
#include "proxy_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xalloc.h"

static struct gen *gen_new(struct proxy *px)
{
	struct gen *g = xcalloc(1, sizeof(*g));
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0) {
		free(g);
		return NULL;
	}
	g->hup_rd = p[0];
	g->hup_wr = p[1];
	g->id = ++px->next_gen;
	g->refs = 1; /* the proxy's own reference while it is current */
	return g;
}

static void gen_free(struct gen *g)
{
	pol_release(&g->pol);
	free(g->quarantine);
	close(g->hup_rd);
	if (g->hup_wr >= 0)
		close(g->hup_wr);
	free(g);
}

/* Makes g current; the old generation's connections see POLLHUP on hup_rd. */
static void gen_install(struct proxy *px, struct gen *g)
{
	struct gen *old;

	pthread_mutex_lock(&px->lock);
	old = px->cur;
	px->cur = g;
	if (old) {
		close(old->hup_wr);
		old->hup_wr = -1;
		if (--old->refs == 0)
			gen_free(old);
	}
	pthread_mutex_unlock(&px->lock);
}

struct gen *gen_get(struct proxy *px)
{
	struct gen *g;

	pthread_mutex_lock(&px->lock);
	g = px->cur;
	g->refs++;
	pthread_mutex_unlock(&px->lock);
	return g;
}

void gen_put(struct proxy *px, struct gen *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&px->lock);
	if (--g->refs == 0)
		gen_free(g);
	pthread_mutex_unlock(&px->lock);
}

bool gen_stale(struct proxy *px, const struct gen *g)
{
	bool stale;

	pthread_mutex_lock(&px->lock);
	stale = px->cur != g;
	pthread_mutex_unlock(&px->lock);
	return stale;
}

static void write_status(struct proxy *px, const char *hash, const char *what)
{
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT;

	if (!px->cfg->status_path)
		return;
	buf_addf(&b, "%s %s\n", hash, what);
	if (write_file_replace(px->cfg->status_path, b.p, b.len, 0600, &e) < 0)
		log_warn("proxy", "cannot record the policy status", "error", e.msg, NULL);
	buf_release(&b);
}

/* Loads text as a new generation; on failure keeps the current one or quarantines. */
static void load_text(struct proxy *px, const char *text, size_t len)
{
	struct pol_report r;
	struct buf why = BUF_INIT, status = BUF_INIT;
	char hash[65];
	struct gen *g = gen_new(px);

	if (!g)
		return;
	sha256_hex(text, len, hash);
	memcpy(g->hash, hash, sizeof(hash));
	pol_report_init(&r);
	if (pol_load(&g->pol, px->cfg->policy_path, text, len, &r) == 0) {
		gen_install(px, g); /* in force before anyone is told it is */
		write_status(px, hash, "LOADED");
		log_info("proxy", "Policy loaded", "policy_hash", hash, NULL);
		goto out;
	}
	pol_report_join_errors(&r, &why);
	buf_addf(&status, "FAILED %s", why.p);
	write_status(px, hash, status.p);
	if (px->cur && !px->cur->quarantine) {
		log_error("proxy", "Policy rejected, the previous one stays in force", "policy_hash",
			  hash, "error", why.p, NULL);
		gen_free(g);
		goto out;
	}
	log_error("proxy", "Policy rejected and no valid one to keep: all egress denied",
		  "policy_hash", hash, "error", why.p, NULL);
	pol_default(&g->pol, true);
	g->quarantine = xasprintf("policy rejected: %s", why.p);
	gen_install(px, g);
out:
	pol_report_release(&r);
	buf_release(&why);
	buf_release(&status);
}

static void load_default(struct proxy *px)
{
	struct gen *g = gen_new(px);

	if (!g)
		return;
	pol_default(&g->pol, true);
	memcpy(g->hash, "default", 8);
	gen_install(px, g);
}

void proxy_policy_poll(struct proxy *px)
{
	struct stat st;
	struct buf text = BUF_INIT;
	struct err e = ERR_INIT;

	if (stat(px->cfg->policy_path, &st) < 0) {
		if (!px->cur)
			load_default(px);
		return;
	}
	if (px->policy_seen && st.st_ino == px->policy_ino &&
	    st.st_mtim.tv_sec == px->policy_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == px->policy_mtime.tv_nsec)
		return;
	px->policy_seen = true;
	px->policy_ino = st.st_ino;
	px->policy_mtime = st.st_mtim;
	if (read_file(px->cfg->policy_path, POL_MAX_BYTES, &text, &e) < 0) {
		log_error("proxy", "cannot read the policy", "error", e.msg, NULL);
		if (!px->cur)
			load_text(px, "", 0); /* fails: quarantine */
	} else {
		load_text(px, text.p, text.len);
	}
	buf_release(&text);
}

int proxy_policy_init(struct proxy *px)
{
	if (pthread_mutex_init(&px->lock, NULL) != 0)
		return -1;
	proxy_policy_poll(px);
	if (!px->cur)
		load_default(px);
	return px->cur ? 0 : -1;
}
