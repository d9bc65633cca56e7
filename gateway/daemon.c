/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Gateway start-up and shutdown, in order (see daemon.h). Every refusal says what is
 * wrong with the state dir and what to do; nothing in an existing state dir is ever
 * overwritten or deleted here.
 */
#include "daemon.h"
#include "gw.h"
#include "sandboxes.h"
#include "server.h"
#include "store.h"
#include "lib/cgroup.h"
#include "lib/err.h"
#include "lib/fsutil.h"
#include "lib/log.h"

#include "lib/procnet.h"
#include "lib/pki.h"
#include "lib/tls.h"
#include "lib/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* A state dir is new (nothing yet), complete (db and tls/), or inconsistent: refuse. */
static int check_state(struct gw *gw, bool *fresh, struct err *e)
{
	bool has_db = path_exists(gw->paths.db), has_tls = path_exists(gw->paths.tls);

	*fresh = !has_db && !has_tls;
	if (has_tls && !has_db)
		return err_set(e, ERR_INVALID, 0,
			       "gateway '%s' has certificates but no database ('%s' is missing)",
			       gw->cfg->name, gw->paths.db),
		       err_hint(e, "restore gateway.db from a backup, or start over (this forgets "
				   "every sandbox of this gateway) with: openshell gateway destroy "
				   "--name %s --yes", gw->cfg->name);
	if (has_db && !has_tls)
		return err_set(e, ERR_INVALID, 0,
			       "gateway '%s' has a database but no certificates ('%s' is missing)",
			       gw->cfg->name, gw->paths.tls),
		       err_hint(e, "restore the tls directory from a backup, or start over with: "
				   "openshell gateway destroy --name %s --yes", gw->cfg->name);
	return 0;
}

static int open_store(struct gw *gw, bool fresh, struct err *e)
{
	struct gw_settings s;
	int64_t v;

	if (store_open(gw->paths.db, fresh, &gw->store, e) < 0 || store_migrate(gw->store, e) < 0)
		goto fail;
	if (store_gateway_get(gw->store, &s, e) < 0)
		goto fail;
	snprintf(s.name, sizeof(s.name), "%s", gw->cfg->name);
	if (gw->cfg->cpus) {
		if (cg_parse_cpus(gw->cfg->cpus, &v, e) < 0)
			return -1;
		snprintf(s.cpus, sizeof(s.cpus), "%s", gw->cfg->cpus);
	}
	if (gw->cfg->memory) {
		if (cg_parse_memory(gw->cfg->memory, &v, e) < 0)
			return -1;
		snprintf(s.memory, sizeof(s.memory), "%s", gw->cfg->memory);
	}
	if (gw->cfg->max_sandboxes)
		s.max_sandboxes = gw->cfg->max_sandboxes;
	s.last_error[0] = '\0';
	if (store_gateway_update(gw->store, &s, e) < 0)
		goto fail;
	return 0;
fail:
	if (e->code == ERR_INVALID)
		err_hint(e, "the database is damaged; restore '%s' from a backup, or start over "
			    "with: openshell gateway destroy --name %s --yes", gw->paths.db,
			 gw->cfg->name);
	return -1;
}

static void port_owner_hint(const struct gw *gw, struct err *e)
{
	char comm[64] = "";
	pid_t pid = procnet_inode_owner(procnet_listener_inode("/proc", (uint16_t)gw->cfg->port),
					comm, sizeof(comm));

	if (pid)
		snprintf(e->msg + strlen(e->msg), sizeof(e->msg) - strlen(e->msg),
			 " (held by %s, pid %ld)", comm, (long)pid);
	err_hint(e, "stop whatever holds the port, or choose another with --port");
}

static int listen_on(struct gw *gw, struct err *e)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_PASSIVE };
	struct addrinfo *ai = NULL;
	char port[8];
	int fd = -1, one = 1, r;

	snprintf(port, sizeof(port), "%d", gw->cfg->port);
	r = getaddrinfo(gw->cfg->bind, port, &hints, &ai);
	if (r != 0)
		return err_set(e, ERR_INVALID, 0, "invalid bind address '%s': %s", gw->cfg->bind,
			       gai_strerror(r));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err_sys(e, ERR_RUNTIME, "cannot create the listening socket");
		goto fail;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		err_sys(e, ERR_UNAVAILABLE, "cannot listen on %s port %d", gw->cfg->bind,
			gw->cfg->port);
		if (errno == EADDRINUSE)
			port_owner_hint(gw, e);
		goto fail;
	}
	if (listen(fd, SOMAXCONN) < 0) { /* bursts of CLIs, e.g. many creates at once */
		err_sys(e, ERR_RUNTIME, "cannot listen on %s port %d", gw->cfg->bind, gw->cfg->port);
		goto fail;
	}
	/* woken once a client has sent something (its ClientHello, its request) rather than
	 * once more for the bare connection; an optimisation, so a failure changes nothing */
	setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &(int){ GW_HANDSHAKE_TIMEOUT_MS / 1000 },
		   sizeof(int));
	freeaddrinfo(ai);
	gw->listen_fd = fd;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return -1;
}

/* Every API connection holds up to two descriptors (the client and, once attached, the
 * supervisor's socket), so the soft RLIMIT_NOFILE (often 1024) goes up to the hard limit
 * and the connection cap follows what that allows. Supervisors get the original limit
 * back (spawn_supervisor): programs in sandboxes expect the usual soft limit. */
static int raise_nofile(struct gw *gw, struct err *e)
{
	struct rlimit up;
	rlim_t fit;

	if (getrlimit(RLIMIT_NOFILE, &gw->nofile_orig) < 0)
		return err_sys(e, ERR_RUNTIME, "cannot read the open files limit (RLIMIT_NOFILE)");
	up = gw->nofile_orig;
	up.rlim_cur = up.rlim_max;
	if (up.rlim_cur > gw->nofile_orig.rlim_cur && setrlimit(RLIMIT_NOFILE, &up) < 0)
		return err_sys(e, ERR_RUNTIME, "cannot raise the open files limit to %llu",
			       (unsigned long long)up.rlim_cur);
	fit = up.rlim_cur > GW_FDS_RESERVED ? (up.rlim_cur - GW_FDS_RESERVED) / 2 : 0;
	gw->max_conns = fit < GW_MAX_CONNS ? (int)fit : GW_MAX_CONNS;
	if (gw->max_conns < 16)
		return err_set(e, ERR_RUNTIME, 0, "the open files limit (%llu) leaves room for only "
			       "%d API connections", (unsigned long long)up.rlim_cur, gw->max_conns),
		       err_hint(e, "raise the hard limit (ulimit -Hn) to at least 1024");
	return 0;
}

static void notify(const struct gw_config *cfg, const char *text)
{
	if (cfg->notify_fd >= 0 && write_full(cfg->notify_fd, text, strlen(text)) == 0)
		close(cfg->notify_fd);
}

static int setup_pki(struct gw *gw, bool fresh, struct err *e)
{
	if (fresh && pki_generate(gw->paths.tls, gw->cfg->name, gw->cfg->sans, e) < 0)
		return err_wrap(e, "cannot create the gateway's certificates");
	if (gw->cfg->plaintext)
		return 0;
	return tls_server_cfg_load(&gw->tls, gw->paths.tls, !gw->cfg->no_client_auth, e);
}

/* As root each sandbox runs as its own host uid, which must reach its directory under
 * S/sandboxes: S and S/sandboxes become traverse-only for others (0711). The secrets in
 * S/tls keep their 0700 directory. */
static int sandbox_dirs_traversable(struct gw *gw, struct err *e)
{
	if (getuid() != 0)
		return 0;
	if (chmod(gw->paths.root, 0711) < 0 || chmod(gw->paths.sandboxes, 0711) < 0)
		return err_sys(e, ERR_RUNTIME, "cannot set permissions on '%s'", gw->paths.root);
	return 0;
}

static void fill_endpoint(struct gw *gw)
{
	const char *host = gw->cfg->bind;

	if (!strcmp(host, "0.0.0.0") || !strcmp(host, "::"))
		host = "127.0.0.1";
	snprintf(gw->endpoint, sizeof(gw->endpoint), strchr(host, ':') ? "%s://[%s]:%d" : "%s://%s:%d",
		 gw->cfg->plaintext ? "http" : "https", host, gw->cfg->port);
}

/* The gateway's cgroup goes with it once its sandboxes are stopped (the next start, or
 * the first sandbox, makes it again), so that gateways that come and go leave none behind. */
static void remove_cgroup(const struct gw *gw)
{
	struct cgroup cg;
	char name[256];

	gw_cgroup_name(gw, name, sizeof(name));
	if (cg_open(name, &cg, &(struct err){ 0 }) == 0)
		cg_remove_if_empty(&cg);
}

int gw_daemon_run(const struct gw_config *cfg, struct err *e)
{
	struct gw gw = { .cfg = cfg, .listen_fd = -1, .epoll_fd = -1, .signal_fd = -1,
			 .self_exe_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC) };
	int lock_fd = -1, ret = -1;
	char conns[16];
	bool fresh;

	gw.started_ms = now_wall_ms();
	fill_endpoint(&gw);
	if (gw_paths_for(cfg->name, &gw.paths, e) < 0 || mkdir_p(gw.paths.root, 0700, e) < 0)
		goto out;
	lock_fd = gw_lock(&gw.paths, e);
	if (lock_fd < 0) {
		if (e->code == ERR_EXISTS)
			err_set(e, ERR_EXISTS, 0, "gateway '%s' is already running (pid %ld)", cfg->name,
				(long)gw_running_pid(&gw.paths));
		goto out;
	}
	if (log_open(gw.paths.log, cfg->log_stderr, e) < 0 || check_state(&gw, &fresh, e) < 0 ||
	    setup_pki(&gw, fresh, e) < 0 || open_store(&gw, fresh, e) < 0 ||
	    gw_id_assign(&gw.paths, &gw.id, e) < 0 || mkdir_p(gw.paths.run, 0700, e) < 0 ||
	    mkdir_p(gw.paths.sandboxes, 0700, e) < 0 || sandbox_dirs_traversable(&gw, e) < 0 ||
	    raise_nofile(&gw, e) < 0 || listen_on(&gw, e) < 0 ||
	    gw_write_pid(&gw.paths, e) < 0)
		goto out;
	snprintf(conns, sizeof(conns), "%d", gw.max_conns);
	log_info("gateway", "gateway started", "name", cfg->name, "endpoint", gw.endpoint,
		 "auth", cfg->plaintext ? "plaintext" : cfg->no_client_auth ? "tls" : "mtls",
		 "max_connections", conns, NULL);
	if (sandboxes_resume_all(&gw, e) < 0) {
		log_error("gateway", "cannot resume sandboxes", "error", e->msg, NULL);
		err_clear(e);
	}
	notify(cfg, "ok\n");
	ret = gw_serve(&gw, e);
	if (ret == 0 && sandboxes_stop_all(&gw, e) < 0) {
		log_error("gateway", "cannot stop sandboxes", "error", e->msg, NULL);
		err_clear(e);
	}
	if (ret == 0)
		remove_cgroup(&gw);
	log_info("gateway", ret == 0 ? "gateway stopped" : "gateway failed", NULL);
	unlink(gw.paths.pid);
out:
	if (ret < 0) {
		char text[800];

		char report[1100];

		err_text(e, text, sizeof(text));
		log_error("gateway", "start-up failed", "error", text, NULL);
		snprintf(report, sizeof(report), "%s%s%s", text, e->hint[0] ? "\nhint: " : "", e->hint);
		notify(cfg, report);
	}
	if (gw.listen_fd >= 0)
		close(gw.listen_fd);
	if (gw.tls)
		tls_server_cfg_free(gw.tls);
	store_close(gw.store);
	log_close();
	if (lock_fd >= 0)
		close(lock_fd);
	if (gw.self_exe_fd >= 0)
		close(gw.self_exe_fd);
	return ret;
}
