/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client-side gateway registry, file-compatible with OpenShell's
 * (reference/cli.md §5): C = ${XDG_CONFIG_HOME:-~/.config}/openshell,
 * C/active_gateway (bare name), C/gateways/<name>/metadata.json, C/gateways/<name>/mtls/.
 * A read-only system layer (${OPENSHELL_SYSTEM_GATEWAY_DIR:-/etc/openshell}) is consulted
 * for metadata and active_gateway; user entries shadow system ones.
 * Every write is atomic; directories are 0700, files 0600.
 */
#ifndef OS_CONFIG_H
#define OS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct err;

#define CFG_NAME_MAX 128
#define CFG_URL_MAX 1024

struct gw_meta {
	char name[CFG_NAME_MAX];
	char endpoint[CFG_URL_MAX]; /* gateway_endpoint */
	bool is_remote;
	int port;                   /* gateway_port (0 when registered with add) */
	char auth_mode[32];         /* "mtls", "plaintext", ... ("" = derive from the scheme) */
	char remote_host[256];
	char resolved_host[256];
	bool system;                /* read from the system layer (read-only) */
};

struct gw_list {
	struct gw_meta *v;
	size_t n;
};

/* C, the user's config root; ERR_INVALID when neither XDG_CONFIG_HOME nor HOME is set. */
int cfg_root(char *dst, size_t n, struct err *e);
/* A gateway name must be one path component: not empty, not "." or "..", no '/',
 * no control characters, at most CFG_NAME_MAX - 1 bytes. */
int cfg_check_name(const char *name, struct err *e);
/* C/gateways/<name>, and the same + "/mtls". */
int cfg_gateway_dir(const char *name, char *dst, size_t n, struct err *e);
int cfg_mtls_dir(const char *name, char *dst, size_t n, struct err *e);

/* Loads metadata (user layer first, then system). ERR_NOTFOUND when neither has it;
 * ERR_INVALID naming the file and the problem when it is corrupt. */
int cfg_load(const char *name, struct gw_meta *m, struct err *e);
/* Writes C/gateways/<name>/metadata.json atomically (pretty JSON, reference key order). */
int cfg_save(const struct gw_meta *m, struct err *e);
/* Removes the user registration (metadata, tokens); keeps mtls/ as the reference does.
 * Clears active_gateway when it named this gateway. */
int cfg_remove(const char *name, struct err *e);
/* All registered gateways, sorted by name, user entries shadowing system ones.
 * Corrupt entries are an error naming the file. Free with cfg_list_free. */
int cfg_list(struct gw_list *out, struct err *e);
void cfg_list_free(struct gw_list *l);

/* The active gateway name ("" when none). */
int cfg_get_active(char *dst, size_t n, struct err *e);
int cfg_set_active(const char *name, struct err *e);

/* Installs ca.crt, tls.crt, tls.key (PEM, 0600) into C/gateways/<name>/mtls atomically:
 * built in mtls.tmp, the old directory parked as mtls.bak until the rename succeeded. */
int cfg_install_mtls(const char *name, const struct buf *ca, const struct buf *crt,
		     const struct buf *key, struct err *e);
/* True when the three mTLS files exist and are non-empty. */
bool cfg_has_mtls(const char *name);

/* Derived labels (reference cli.md §6). */
const char *cfg_auth_label(const struct gw_meta *m); /* "mtls", "plaintext", ... */
const char *cfg_type_label(const struct gw_meta *m); /* "local", "remote" */

#endif
