// SPDX-License-Identifier: Apache-2.0
/*
 * What the proxy answers when it refuses, exactly as reference/policy.md §4.6 (compact
 * JSON, keys in sorted order, Connection: close), and the decision log lines, in the
 * reference's shorthand ("NET:OPEN DENIED /usr/bin/curl(42) -> host:port"), with
 * repeated denials aggregated.
 */
#include "proxy_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "lib/http.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/util.h"

int proxy_send_all(int fd, const void *data, size_t n)
{
	const char *p = data;

	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void reply(struct conn *c, int status, const char *type, const char *extra_name,
		  const char *extra_value, const struct buf *body)
{
	struct buf out = BUF_INIT;
	struct err e = ERR_INIT;
	char len[24];

	snprintf(len, sizeof(len), "%zu", body ? body->len : 0);
	http_write_status_line(&out, status, NULL, &e);
	if (type)
		http_write_header(&out, "Content-Type", type, &e);
	if (extra_name)
		http_write_header(&out, extra_name, extra_value, &e);
	http_write_header(&out, "Content-Length", len, &e);
	http_write_header(&out, "Connection", "close", &e);
	http_write_end(&out);
	if (body)
		buf_add(&out, body->p, body->len);
	proxy_send_all(c->cfd, out.p, out.len); /* a caller that went away needs no answer */
	buf_release(&out);
}

void reply_status(struct conn *c, int status)
{
	reply(c, status, NULL, NULL, NULL, NULL);
}

void reply_text(struct conn *c, int status, const char *text)
{
	struct buf body = BUF_INIT;

	buf_adds(&body, text);
	reply(c, status, "text/plain", NULL, NULL, &body);
	buf_release(&body);
}

static void add_target(struct buf *b, const struct conn *c)
{
	buf_addf(b, "%s ", c->method);
	url_add_authority(b, c->host, c->ipv6, c->port);
}

void reply_policy_denied(struct conn *c, const char *path, const char *reason)
{
	struct buf body = BUF_INIT, detail = BUF_INIT;
	struct json_w w;

	add_target(&detail, c);
	if (path)
		buf_add(&detail, path, strcspn(path, "?"));
	buf_adds(&detail, " not permitted by policy");
	json_w_init(&w, &body);
	json_w_obj_open(&w);
	json_w_key(&w, "detail");
	json_w_str(&w, detail.p);
	json_w_key(&w, "error");
	json_w_str(&w, "policy_denied");
	if (reason && *reason && !path) { /* the forward proxy's body has no reason (§4.6) */
		json_w_key(&w, "reason");
		json_w_str(&w, reason);
	}
	json_w_obj_close(&w);
	reply(c, 403, "application/json", NULL, NULL, &body);
	buf_release(&body);
	buf_release(&detail);
}

void reply_ssrf_denied(struct conn *c, enum pol_ssrf_kind kind)
{
	struct buf body = BUF_INIT, detail = BUF_INIT;
	struct json_w w;

	add_target(&detail, c);
	buf_addf(&detail, " blocked: %s", pol_ssrf_kind_text(kind));
	json_w_init(&w, &body);
	json_w_obj_open(&w);
	json_w_key(&w, "detail");
	json_w_str(&w, detail.p);
	json_w_key(&w, "error");
	json_w_str(&w, "ssrf_denied");
	json_w_obj_close(&w);
	reply(c, 403, "application/json", NULL, NULL, &body);
	buf_release(&body);
	buf_release(&detail);
}

void reply_json_error(struct conn *c, int status, const char *error, const char *message)
{
	struct buf body = BUF_INIT;
	struct json_w w;

	json_w_init(&w, &body);
	json_w_obj_open(&w);
	json_w_key(&w, "error");
	json_w_str(&w, error);
	json_w_key(&w, "message");
	json_w_str(&w, message);
	json_w_obj_close(&w);
	reply(c, status, "application/json", NULL, NULL, &body);
	buf_release(&body);
}

static void kv_str(struct json_w *w, const char *k, const char *v)
{
	json_w_key(w, k);
	json_w_str(w, v);
}

/* The L7 deny body, keys sorted (§4.6); no policy advisor, so next_steps is []. */
void reply_l7_denied(struct conn *c, const struct pol_l7_decision *d, const char *method,
		     const char *path)
{
	struct buf body = BUF_INIT, rule = BUF_INIT;
	const char *bin = c->identified ? c->id.exe : "";
	const char *key = d->rule ? d->rule->key : "";
	struct json_w w;

	buf_addf(&rule, "%s %s", method, path);
	json_w_init(&w, &body);
	json_w_obj_open(&w);
	kv_str(&w, "binary", bin);
	kv_str(&w, "detail", d->reason.p);
	kv_str(&w, "error", "policy_denied");
	kv_str(&w, "host", c->host);
	kv_str(&w, "layer", "l7");
	kv_str(&w, "method", method);
	json_w_key(&w, "next_steps");
	json_w_arr_open(&w);
	json_w_arr_close(&w);
	kv_str(&w, "path", path);
	kv_str(&w, "policy", key);
	json_w_key(&w, "port");
	json_w_u64(&w, c->port);
	kv_str(&w, "protocol", "rest");
	kv_str(&w, "rule", rule.p);
	json_w_key(&w, "rule_missing");
	json_w_obj_open(&w);
	kv_str(&w, "binary", bin);
	kv_str(&w, "host", c->host);
	kv_str(&w, "layer", "l7");
	kv_str(&w, "method", method);
	kv_str(&w, "path", path);
	json_w_key(&w, "port");
	json_w_u64(&w, c->port);
	kv_str(&w, "type", "rest_allow");
	json_w_obj_close(&w);
	json_w_obj_close(&w);
	reply(c, 403, "application/json", "X-OpenShell-Policy", key, &body);
	buf_release(&body);
	buf_release(&rule);
}

/* ---- decision logs ------------------------------------------------------------------------ */

#define AGG_SLOTS 64
#define AGG_WINDOW_MS 10000

struct agg {
	char key[384];
	int64_t first_ms;
	unsigned suppressed;
};

static struct agg aggs[AGG_SLOTS]; /* under proxy.lock */

/* Whether this denial is to be logged now; *more gets the denials of the same key that
 * were held back since the last line. */
static bool agg_admit(struct proxy *px, const char *full_key, unsigned *more)
{
	int64_t now = now_mono_ms();
	char key[sizeof(aggs[0].key)];
	struct agg *slot = NULL, *oldest = &aggs[0];
	bool log_now;
	size_t i;

	snprintf(key, sizeof(key), "%s", full_key); /* compared as stored */
	pthread_mutex_lock(&px->lock);
	for (i = 0; i < AGG_SLOTS && !slot; i++) {
		if (!strcmp(aggs[i].key, key))
			slot = &aggs[i];
		else if (aggs[i].first_ms < oldest->first_ms)
			oldest = &aggs[i];
	}
	if (!slot || now - slot->first_ms >= AGG_WINDOW_MS) {
		if (!slot) {
			slot = oldest;
			slot->suppressed = 0;
			snprintf(slot->key, sizeof(slot->key), "%s", key);
		}
		*more = slot->suppressed;
		slot->suppressed = 0;
		slot->first_ms = now;
		log_now = true;
	} else {
		slot->suppressed++;
		log_now = false;
	}
	pthread_mutex_unlock(&px->lock);
	return log_now;
}

static void add_ancestors(struct buf *b, const struct conn *c)
{
	size_t i;

	for (i = 0; c->identified && i < c->id.n_ancestors; i++)
		buf_addf(b, "%s%s", i ? " -> " : "", c->id.ancestors[i]);
}

void log_decision(struct conn *c, const char *verdict, const char *what, const char *reason)
{
	struct buf msg = BUF_INIT, anc = BUF_INIT, key = BUF_INIT;
	const char *bin = c->identified ? c->id.exe : "-";
	char pid[16], more_text[16], took[24];
	unsigned more = 0;
	bool denied = !strcmp(verdict, "DENIED");
	/* the connection's decision, on the lines about the connection (not its requests) */
	bool timed = c->decision_us >= 0 &&
		     (!strcmp(what, "NET:OPEN") || !strcmp(what, "HTTP:FORWARD"));

	buf_addf(&key, "%s %s:%u %s", what, c->host, c->port, bin);
	if (denied && !agg_admit(c->px, key.p, &more))
		goto out;
	snprintf(pid, sizeof(pid), "%ld", c->identified ? (long)c->id.pid : 0L);
	snprintf(more_text, sizeof(more_text), "%u", more);
	snprintf(took, sizeof(took), "%lld", (long long)c->decision_us);
	buf_addf(&msg, "%s %s %s(%s) -> ", what, verdict, bin, pid);
	url_add_authority(&msg, c->host, c->ipv6, c->port);
	add_ancestors(&anc, c);
	log_write(denied ? LOG_LVL_WARN : LOG_LVL_INFO, "proxy", msg.p, "binary", bin, "pid", pid,
		  "ancestors", anc.len ? anc.p : "-", "policy",
		  c->l4.rule ? c->l4.rule->key : "-", "reason", reason && *reason ? reason : "-",
		  "decision_us", timed ? took : "-", more ? "repeated" : NULL,
		  more_text, NULL);
out:
	buf_release(&msg);
	buf_release(&anc);
	buf_release(&key);
}
