/* SPDX-License-Identifier: Apache-2.0 */
#include "unit.h"
#include "../../gateway/store.h"
#include "../../lib/err.h"
#include "../../lib/fsutil.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[64];

static const char *tmpdb(const char *name)
{
	static char path[128];

	snprintf(dir, sizeof(dir), "/tmp/os-store-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

TEST(store_migrates_and_updates_with_cas)
{
	struct err e = ERR_INIT;
	struct store *st = NULL;
	struct gw_settings g, stale;
	const char *path = tmpdb("gateway.db");
	int v;

	CHECK_INT(store_open(path, false, &st, &e), -1);
	CHECK_INT(e.code, ERR_NOTFOUND);
	CHECK_INT(store_open(path, true, &st, &e), 0);
	CHECK_INT(store_migrate(st, &e), 0);
	CHECK_INT(store_migrate(st, &e), 0); /* idempotent */
	CHECK_INT(store_schema_version(st, &v, &e), 0);
	CHECK_INT(v, 4);
	CHECK_INT(store_gateway_get(st, &g, &e), 0);
	CHECK_STR(g.cpus, "4.0");
	CHECK_STR(g.memory, "16g");
	CHECK_INT(g.max_sandboxes, 20);
	stale = g;
	g.max_sandboxes = 50;
	CHECK_INT(store_gateway_update(st, &g, &e), 0);
	CHECK_INT(store_gateway_update(st, &stale, &e), -1);
	CHECK_INT(e.code, ERR_CONFLICT);
	store_close(st);
	CHECK_INT(store_open(path, false, &st, &e), 0);
	CHECK_INT(store_gateway_get(st, &g, &e), 0);
	CHECK_INT(g.max_sandboxes, 50);
	store_close(st);
	remove_tree(dir, &e);
}

TEST(store_refuses_a_file_that_is_not_a_database)
{
	struct err e = ERR_INIT;
	struct store *st = NULL;
	const char *path = tmpdb("gateway.db");
	int fd = open(path, O_WRONLY | O_CREAT, 0600);

	CHECK(fd >= 0);
	CHECK(write(fd, "this is not sqlite, just some text that is long enough\n", 56) == 56);
	close(fd);
	CHECK_INT(store_open(path, false, &st, &e), -1);
	CHECK_INT(e.code, ERR_INVALID);
	CHECK(strstr(e.msg, "not a usable database") != NULL);
	remove_tree(dir, &e);
}
