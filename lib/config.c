/* SPDX-License-Identifier: Apache-2.0 */
/* The client-side gateway registry; see config.h. Never prints. */
#include "config.h"
#include "buf.h"
#include "err.h"
#include "fsutil.h"
#include "json.h"
#include "util.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define META_MAX (64 * 1024)

int cfg_root(char *dst, size_t n, struct err *e)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int r;

	if (xdg && *xdg == '/')
		r = fmt_into(dst, n, "%s/openshell", xdg);
	else if (home && *home)
		r = fmt_into(dst, n, "%s/.config/openshell", home);
	else
		return err_set(e, ERR_INVALID, 0, "HOME is not set")
			, err_hint(e, "set HOME or XDG_CONFIG_HOME to where openshell may keep its settings");
	if (r < 0)
		return err_set(e, ERR_INVALID, ENAMETOOLONG, "configuration path too long");
	return 0;
}

static const char *system_root(void)
{
	const char *d = getenv("OPENSHELL_SYSTEM_GATEWAY_DIR");

	return d && *d == '/' ? d : "/etc/openshell";
}

int cfg_check_name(const char *name, struct err *e)
{
	const char *p;

	if (!*name)
		return err_set(e, ERR_INVALID, 0, "gateway name is empty");
	if (!strcmp(name, ".") || !strcmp(name, "..") || strchr(name, '/'))
		return err_set(e, ERR_INVALID, 0,
			       "invalid gateway name '%s': it must be a single path component", name);
	for (p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return err_set(e, ERR_INVALID, 0,
				       "invalid gateway name: it contains a control character");
	if (strlen(name) >= CFG_NAME_MAX)
		return err_set(e, ERR_INVALID, 0, "invalid gateway name: longer than %d bytes",
			       CFG_NAME_MAX - 1);
	return 0;
}

int cfg_gateway_dir(const char *name, char *dst, size_t n, struct err *e)
{
	char root[PATH_MAX];

	if (cfg_check_name(name, e) < 0 || cfg_root(root, sizeof(root), e) < 0)
		return -1;
	if (fmt_into(dst, n, "%s/gateways/%s", root, name) < 0)
		return err_set(e, ERR_INVALID, ENAMETOOLONG, "configuration path too long");
	return 0;
}

int cfg_mtls_dir(const char *name, char *dst, size_t n, struct err *e)
{
	char dir[PATH_MAX];

	if (cfg_gateway_dir(name, dir, sizeof(dir), e) < 0)
		return -1;
	return path_join(dst, n, dir, "mtls", e);
}

static int copy_str(char *dst, size_t n, const struct json *v, const char *key, const char *file,
		    struct err *e)
{
	const struct json *f = json_get(v, key);

	if (!f || json_is_null(f)) {
		dst[0] = '\0';
		return 0;
	}
	if (!json_is_str(f))
		return err_set(e, ERR_INVALID, 0, "'%s' is corrupt: \"%s\" must be a string", file,
			       key);
	if (json_str_len(f) >= n || memchr(json_str(f), 0, json_str_len(f)))
		return err_set(e, ERR_INVALID, 0, "'%s' is corrupt: \"%s\" is too long or holds NUL",
			       file, key);
	memcpy(dst, json_str(f), json_str_len(f) + 1);
	return 0;
}

static int meta_decode(const char *file, const struct buf *text, struct gw_meta *m, struct err *e)
{
	struct json *root = NULL;
	const struct json *f;
	int64_t port = 0;
	int ret = -1;

	memset(m, 0, sizeof(*m));
	root = json_parse(text->p, text->len, e);
	if (!root) {
		err_wrap(e, "'%s' is corrupt", file);
		goto out;
	}
	if (!json_is_obj(root)) {
		err_set(e, ERR_INVALID, 0, "'%s' is corrupt: expected a JSON object", file);
		goto out;
	}
	if (copy_str(m->name, sizeof(m->name), root, "name", file, e) < 0 ||
	    copy_str(m->endpoint, sizeof(m->endpoint), root, "gateway_endpoint", file, e) < 0 ||
	    copy_str(m->auth_mode, sizeof(m->auth_mode), root, "auth_mode", file, e) < 0 ||
	    copy_str(m->remote_host, sizeof(m->remote_host), root, "remote_host", file, e) < 0 ||
	    copy_str(m->resolved_host, sizeof(m->resolved_host), root, "resolved_host", file, e) < 0)
		goto out;
	if (!m->endpoint[0]) {
		err_set(e, ERR_INVALID, 0, "'%s' is corrupt: \"gateway_endpoint\" is missing", file);
		goto out;
	}
	f = json_get(root, "is_remote");
	if (f && !json_is_bool(f)) {
		err_set(e, ERR_INVALID, 0, "'%s' is corrupt: \"is_remote\" must be true or false", file);
		goto out;
	}
	m->is_remote = f && json_bool(f);
	f = json_get(root, "gateway_port");
	if (f && (json_get_i64(root, "gateway_port", &port) < 0 || port < 0 || port > 65535)) {
		err_set(e, ERR_INVALID, 0, "'%s' is corrupt: \"gateway_port\" must be 0..65535", file);
		goto out;
	}
	m->port = (int)port;
	ret = 0;
out:
	json_free(root);
	return ret;
}

/* Key order as the reference writes it (cli.md §5); absent optionals omitted. */
static void meta_encode(const struct gw_meta *m, struct buf *out)
{
	struct json *o = json_new_obj();

	json_obj_add_str(o, "name", m->name);
	json_obj_add_str(o, "gateway_endpoint", m->endpoint);
	json_obj_add_bool(o, "is_remote", m->is_remote);
	json_obj_add_i64(o, "gateway_port", m->port);
	if (m->remote_host[0])
		json_obj_add_str(o, "remote_host", m->remote_host);
	if (m->resolved_host[0])
		json_obj_add_str(o, "resolved_host", m->resolved_host);
	if (m->auth_mode[0])
		json_obj_add_str(o, "auth_mode", m->auth_mode);
	json_write(o, out, JSON_PRETTY);
	buf_addch(out, '\n');
	json_free(o);
}

static int load_from(const char *root, const char *name, struct gw_meta *m, struct err *e)
{
	char path[PATH_MAX];
	struct buf text = BUF_INIT;
	int ret = -1;

	if (fmt_into(path, sizeof(path), "%s/gateways/%s/metadata.json", root, name) < 0) {
		err_set(e, ERR_INVALID, ENAMETOOLONG, "configuration path too long");
		goto out;
	}
	if (read_file(path, META_MAX, &text, e) < 0)
		goto out;
	if (meta_decode(path, &text, m, e) < 0)
		goto out;
	if (strcmp(m->name, name) != 0) {
		if (m->name[0])
			err_set(e, ERR_INVALID, 0,
				"'%s' is corrupt: it names gateway '%s', not '%s'", path, m->name, name);
		else
			err_set(e, ERR_INVALID, 0, "'%s' is corrupt: \"name\" is missing", path);
		goto out;
	}
	ret = 0;
out:
	buf_release(&text);
	return ret;
}

int cfg_load(const char *name, struct gw_meta *m, struct err *e)
{
	char root[PATH_MAX];

	if (cfg_check_name(name, e) < 0 || cfg_root(root, sizeof(root), e) < 0)
		return -1;
	if (load_from(root, name, m, e) == 0)
		return 0;
	if (e->code != ERR_NOTFOUND)
		return -1;
	if (load_from(system_root(), name, m, e) == 0) {
		m->system = true;
		return 0;
	}
	if (e->code != ERR_NOTFOUND)
		return -1;
	return err_set(e, ERR_NOTFOUND, 0, "unknown gateway '%s'", name);
}

int cfg_save(const struct gw_meta *m, struct err *e)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct buf text = BUF_INIT;
	int ret = -1;

	if (cfg_gateway_dir(m->name, dir, sizeof(dir), e) < 0 || mkdir_p(dir, 0700, e) < 0 ||
	    path_join(path, sizeof(path), dir, "metadata.json", e) < 0)
		goto out;
	meta_encode(m, &text);
	ret = write_file_atomic(path, text.p, text.len, 0600, e);
out:
	buf_release(&text);
	return ret;
}

static int unlink_in(const char *dir, const char *file, struct err *e)
{
	char path[PATH_MAX];

	if (path_join(path, sizeof(path), dir, file, e) < 0)
		return -1;
	if (unlink(path) < 0 && errno != ENOENT)
		return err_sys(e, ERR_RUNTIME, "cannot remove '%s'", path);
	return 0;
}

int cfg_remove(const char *name, struct err *e)
{
	static const char *const files[] = { "metadata.json", "edge_token", "oidc_token.json",
					     "oidc_login_prompt_required", "last_sandbox",
					     "tls_session" };
	char dir[PATH_MAX], active[CFG_NAME_MAX], root[PATH_MAX], path[PATH_MAX];
	size_t i;

	if (cfg_gateway_dir(name, dir, sizeof(dir), e) < 0)
		return -1;
	for (i = 0; i < ARRAY_SIZE(files); i++)
		if (unlink_in(dir, files[i], e) < 0)
			return -1;
	rmdir(dir); /* only succeeds when nothing (such as mtls/) is left */
	if (cfg_get_active(active, sizeof(active), e) < 0)
		return -1;
	if (strcmp(active, name) != 0)
		return 0;
	if (cfg_root(root, sizeof(root), e) < 0 || path_join(path, sizeof(path), root, "active_gateway", e) < 0)
		return -1;
	if (unlink(path) < 0 && errno != ENOENT)
		return err_sys(e, ERR_RUNTIME, "cannot remove '%s'", path);
	return 0;
}

static int read_active_from(const char *root, char *dst, size_t n, struct err *e)
{
	char path[PATH_MAX];
	struct buf text = BUF_INIT;
	char *name;
	int ret = -1;

	dst[0] = '\0';
	if (path_join(path, sizeof(path), root, "active_gateway", e) < 0)
		goto out;
	if (read_file(path, 4096, &text, e) < 0) {
		if (e->code == ERR_NOTFOUND)
			ret = 0;
		goto out;
	}
	name = str_trim(text.p);
	if (!*name) {
		ret = 0;
		goto out;
	}
	if (cfg_check_name(name, e) < 0) {
		err_wrap(e, "'%s' is corrupt", path);
		err_hint(e, "run 'openshell gateway select <name>' to choose the active gateway again");
		goto out;
	}
	if (fmt_into(dst, n, "%s", name) < 0) {
		err_set(e, ERR_INVALID, 0, "'%s' is corrupt: name too long", path);
		goto out;
	}
	ret = 0;
out:
	buf_release(&text);
	return ret;
}

int cfg_get_active(char *dst, size_t n, struct err *e)
{
	char root[PATH_MAX];

	if (cfg_root(root, sizeof(root), e) < 0 || read_active_from(root, dst, n, e) < 0)
		return -1;
	if (dst[0])
		return 0;
	return read_active_from(system_root(), dst, n, e);
}

int cfg_set_active(const char *name, struct err *e)
{
	char root[PATH_MAX], path[PATH_MAX];

	if (cfg_check_name(name, e) < 0 || cfg_root(root, sizeof(root), e) < 0 ||
	    mkdir_p(root, 0700, e) < 0 || path_join(path, sizeof(path), root, "active_gateway", e) < 0)
		return -1;
	return write_file_atomic(path, name, strlen(name), 0600, e);
}

static int cmp_meta(const void *a, const void *b)
{
	return strcmp(((const struct gw_meta *)a)->name, ((const struct gw_meta *)b)->name);
}

static bool listed(const struct gw_list *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, name))
			return true;
	return false;
}

/* Adds every gateway of one layer that is not already listed (user shadows system). */
static int list_layer(const char *root, bool system, struct gw_list *l, struct err *e)
{
	char dir[PATH_MAX], meta[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int ret = -1;

	if (path_join(dir, sizeof(dir), root, "gateways", e) < 0)
		return -1;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT || errno == ENOTDIR || system
			       ? 0
			       : err_sys(e, ERR_RUNTIME, "cannot read '%s'", dir);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || listed(l, de->d_name))
			continue;
		if (fmt_into(meta, sizeof(meta), "%s/%s/metadata.json", dir, de->d_name) < 0 ||
		    !path_exists(meta) || cfg_check_name(de->d_name, e) < 0)
			continue; /* a directory without metadata (e.g. only mtls/ left) */
		l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
		if (load_from(root, de->d_name, &l->v[l->n], e) < 0)
			goto out;
		l->v[l->n++].system = system;
	}
	ret = 0;
out:
	closedir(d);
	return ret;
}

int cfg_list(struct gw_list *out, struct err *e)
{
	char root[PATH_MAX];

	out->v = NULL;
	out->n = 0;
	if (cfg_root(root, sizeof(root), e) < 0 || list_layer(root, false, out, e) < 0 ||
	    list_layer(system_root(), true, out, e) < 0) {
		cfg_list_free(out);
		return -1;
	}
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_meta);
	return 0;
}

void cfg_list_free(struct gw_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static bool nonempty_file(const char *dir, const char *file)
{
	char path[PATH_MAX];
	FILE *f;
	long size;

	if (fmt_into(path, sizeof(path), "%s/%s", dir, file) < 0)
		return false;
	f = fopen(path, "re");
	if (!f)
		return false;
	size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
	fclose(f);
	return size > 0;
}

bool cfg_has_mtls(const char *name)
{
	struct err e = ERR_INIT;
	char dir[PATH_MAX];

	if (cfg_mtls_dir(name, dir, sizeof(dir), &e) < 0)
		return false;
	return nonempty_file(dir, "ca.crt") && nonempty_file(dir, "tls.crt") &&
	       nonempty_file(dir, "tls.key");
}

const char *cfg_auth_label(const struct gw_meta *m)
{
	if (m->auth_mode[0])
		return m->auth_mode;
	return str_has_prefix(m->endpoint, "http://") ? "plaintext" : "mtls";
}

const char *cfg_type_label(const struct gw_meta *m)
{
	if (!strcmp(m->auth_mode, "cloudflare_jwt"))
		return "cloud";
	return m->is_remote ? "remote" : "local";
}

static int write_bundle_file(const char *dir, const char *file, const struct buf *data,
			     struct err *e)
{
	char path[PATH_MAX];

	if (!data->len)
		return err_set(e, ERR_INVALID, 0, "refusing to write an empty '%s'", file);
	if (path_join(path, sizeof(path), dir, file, e) < 0)
		return -1;
	return write_file_atomic(path, data->p, data->len, 0600, e);
}

int cfg_install_mtls(const char *name, const struct buf *ca, const struct buf *crt,
		     const struct buf *key, struct err *e)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 8], bak[PATH_MAX + 8];
	int ret = -1;

	if (cfg_mtls_dir(name, dir, sizeof(dir), e) < 0)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.tmp", dir);
	snprintf(bak, sizeof(bak), "%s.bak", dir);
	if (remove_tree(tmp, e) < 0 || remove_tree(bak, e) < 0 || mkdir_p(tmp, 0700, e) < 0)
		goto out;
	if (write_bundle_file(tmp, "ca.crt", ca, e) < 0 ||
	    write_bundle_file(tmp, "tls.crt", crt, e) < 0 ||
	    write_bundle_file(tmp, "tls.key", key, e) < 0)
		goto out;
	/* Swap: the old bundle is parked and removed only once the new one is in place. */
	if (path_exists(dir) && rename(dir, bak) < 0) {
		err_sys(e, ERR_RUNTIME, "cannot replace '%s'", dir);
		goto out;
	}
	if (rename(tmp, dir) < 0) {
		err_sys(e, ERR_RUNTIME, "cannot install '%s'", dir);
		rename(bak, dir);
		goto out;
	}
	ret = remove_tree(bak, e);
out:
	if (ret < 0)
		remove_tree(tmp, &(struct err){ 0 });
	return ret;
}
