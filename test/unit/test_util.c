/* SPDX-License-Identifier: Apache-2.0 */
#include "unit.h"
#include "../../lib/arena.h"
#include "../../lib/buf.h"
#include "../../lib/err.h"
#include "../../lib/fsutil.h"
#include "../../lib/util.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

TEST(buf_grows_and_stays_terminated)
{
	struct buf b = BUF_INIT;
	int i;

	CHECK_STR(b.p, "");
	for (i = 0; i < 1000; i++)
		buf_addch(&b, 'a' + i % 26);
	CHECK_INT(b.len, 1000);
	CHECK_INT(b.p[1000], 0);
	buf_reset(&b);
	buf_addf(&b, "%d-%s", 42, "x");
	CHECK_STR(b.p, "42-x");
	buf_release(&b);
	CHECK_STR(b.p, "");
}

TEST(buf_shell_quote)
{
	struct buf b = BUF_INIT;

	buf_add_shell_quoted(&b, "plain/path-1.txt");
	buf_addch(&b, ' ');
	buf_add_shell_quoted(&b, "it's here");
	buf_addch(&b, ' ');
	buf_add_shell_quoted(&b, "");
	CHECK_STR(b.p, "plain/path-1.txt 'it'\\''s here' ''");
	buf_release(&b);
}

TEST(arena_uses_the_callers_memory_first)
{
	_Alignas(16) char mem[512];
	struct arena a = ARENA_INIT;
	char *s = arena_strdup(&a, "in mem"), *big;

	arena_release(&a);
	arena_use(&a, mem, sizeof(mem));
	s = arena_strdup(&a, "in mem");
	CHECK(s >= mem && s < mem + sizeof(mem));
	big = arena_alloc(&a, 1000); /* does not fit: malloc'd, freed by release */
	CHECK(big < mem || big >= mem + sizeof(mem));
	CHECK_INT(big[999], 0);
	CHECK_STR(s, "in mem");
	arena_release(&a); /* frees the malloc'd block only (ASan would catch a free of mem) */
	arena_use(&a, mem, 8); /* too small: ignored */
	s = arena_strdup(&a, "x");
	CHECK(s < mem || s >= mem + sizeof(mem));
	arena_release(&a);
}

TEST(parse_numbers_strictly)
{
	uint64_t u;
	int64_t i;

	CHECK_INT(parse_u64("8080", 1, 65535, &u), 0);
	CHECK_INT(u, 8080);
	CHECK_INT(parse_u64("0", 1, 65535, &u), -1);
	CHECK_INT(parse_u64("65536", 1, 65535, &u), -1);
	CHECK_INT(parse_u64("12x", 0, 100, &u), -1);
	CHECK_INT(parse_u64("", 0, 100, &u), -1);
	CHECK_INT(parse_u64("-1", 0, 100, &u), -1);
	CHECK_INT(parse_u64(" 1", 0, 100, &u), -1);
	CHECK_INT(parse_i64("-5", -10, 10, &i), 0);
	CHECK_INT(i, -5);
	CHECK_INT(parse_i64("99999999999999999999", INT64_MIN, INT64_MAX, &i), -1);
}

TEST(edit_distance_for_hints)
{
	CHECK_INT(edit_distance("port", "prot"), 2);
	CHECK_INT(edit_distance("gateway", "gatway"), 1);
	CHECK_INT(edit_distance("", "abc"), 3);
}

TEST(err_wrap_prefixes)
{
	struct err e = ERR_INIT;
	char text[600];

	CHECK_INT(err_set(&e, ERR_NOTFOUND, 2, "cannot open '%s'", "x"), -1);
	err_wrap(&e, "loading policy");
	CHECK_STR(err_text(&e, text, sizeof(text)), "loading policy: cannot open 'x': No such file or directory");
	CHECK_INT(err_http_status(e.code), 404);
}

TEST(atomic_write_and_read_back)
{
	char dir[] = "/tmp/os-unit-XXXXXX", path[256];
	struct err e = ERR_INIT;
	struct buf b = BUF_INIT;
	struct stat st;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	CHECK_INT(mkdir_p(path, 0700, &e), 0);
	CHECK(is_dir(path));
	snprintf(path, sizeof(path), "%s/a/f", dir);
	CHECK_INT(write_file_atomic(path, "hello", 5, 0600, &e), 0);
	CHECK_INT(stat(path, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0600);
	CHECK_INT(read_file(path, 100, &b, &e), 0);
	CHECK_STR(b.p, "hello");
	buf_reset(&b);
	CHECK_INT(read_file(path, 3, &b, &e), -1);
	CHECK_INT(e.code, ERR_LIMIT);
	CHECK_INT(remove_tree(dir, &e), 0);
	CHECK(!path_exists(dir));
	buf_release(&b);
}

TEST(proc_title_overwrites_the_argv_strings_in_place)
{
	char area[] = "openshell\0supervise\0--dir\0/home/alice/x\0";
	char *argv[] = { area, area + 10, area + 20, area + 26, NULL };
	size_t i;

	proc_title_init(4, argv);
	proc_title_set("openshell-init");
	CHECK_STR(area, "openshell-init");
	for (i = strlen("openshell-init"); i < sizeof(area); i++)
		CHECK_INT(area[i], 0); /* nothing of the old arguments is left */
	proc_title_set("a title longer than all of the old arguments put together, by far");
	CHECK_INT(area[sizeof(area) - 2], 0); /* cut to fit, still ends in NUL */
	CHECK(strncmp(area, "a title longer", 14) == 0);
}
