/* SPDX-License-Identifier: Apache-2.0 */
#include "unit.h"
#include "../../lib/buf.h"
#include "../../lib/err.h"
#include "../../lib/fsutil.h"
#include "../../lib/json.h"
#include "../../lib/log.h"

#include <stdlib.h>

TEST(log_writes_json_lines_and_rotates)
{
	char dir[] = "/tmp/os-log-XXXXXX", path[128], old[140];
	struct err e = ERR_INIT;
	struct buf text = BUF_INIT;
	struct json *v;
	char *nl;
	int i;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/gateway.log", dir);
	CHECK_INT(log_open(path, false, &e), 0);
	log_info("api", "hello \"world\"", "peer", "127.0.0.1:5", "reason", "a\nb", NULL);
	log_debug("api", "hidden at info level", NULL);
	CHECK_INT(read_file(path, 1 << 20, &text, &e), 0);
	nl = strchr(text.p, '\n');
	CHECK(nl && nl[1] == '\0');
	v = json_parse(text.p, text.len, &e);
	CHECK(v != NULL);
	CHECK_STR(json_get_str(v, "level", ""), "info");
	CHECK_STR(json_get_str(v, "msg", ""), "hello \"world\"");
	CHECK_STR(json_get_str(v, "reason", ""), "a\nb");
	json_free(v);
	for (i = 0; i < 120000; i++)
		log_info("load", "a line of about one hundred bytes to make the file rotate", "n", "x", NULL);
	log_close();
	snprintf(old, sizeof(old), "%s.1", path);
	CHECK(path_exists(old));
	remove_tree(dir, &e);
	buf_release(&text);
}
