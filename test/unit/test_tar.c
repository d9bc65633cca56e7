/* SPDX-License-Identifier: Apache-2.0 */
/* lib/tar, lib/tarfs: round trips in memory and on disk, hostile archives, placement. */
#include "unit.h"
#include "../../lib/buf.h"
#include "../../lib/err.h"
#include "../../lib/fsutil.h"
#include "../../lib/tar.h"
#include "../../lib/tarfs.h"
#include "../../lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int sink_buf(void *ctx, const void *p, size_t n, struct err *e)
{
	(void)e;
	buf_add(ctx, p, n);
	return 0;
}

/* Records entries as "type path[->link] size mode;" and content as "<data>". */
static int rec_entry(void *ctx, const struct tar_entry *en, struct err *e)
{
	(void)e;
	buf_addf(ctx, "%c %s%s%s %llu %o;", "fdl"[en->type], en->path, en->link ? "->" : "",
		 en->link ? en->link : "", (unsigned long long)en->size, en->mode);
	return 0;
}

static int rec_data(void *ctx, const void *p, size_t n, struct err *e)
{
	(void)e;
	buf_add(ctx, p, n);
	return 0;
}

static int rec_end(void *ctx, struct err *e)
{
	(void)e;
	buf_adds(ctx, "|");
	return 0;
}

static const struct tar_ops rec_ops = { rec_entry, rec_data, rec_end };

/* Parses `tar` fed `step` bytes at a time; returns the log, or NULL with e set. */
static char *parse(const struct buf *tar, size_t step, struct err *e)
{
	struct buf log = BUF_INIT;
	struct tar_reader r;
	size_t off;
	int ret = 0;

	tar_reader_init(&r, &rec_ops, &log);
	for (off = 0; off < tar->len && ret == 0; off += step)
		ret = tar_reader_feed(&r, tar->p + off, tar->len - off < step ? tar->len - off : step, e);
	if (ret == 0)
		ret = tar_reader_finish(&r, e);
	tar_reader_release(&r);
	if (ret < 0) {
		buf_release(&log);
		return NULL;
	}
	return buf_detach(&log, NULL);
}

static void add(struct tar_writer *w, enum tar_type t, const char *path, const char *link,
		const char *data)
{
	struct tar_entry en = { t, path, link, data ? strlen(data) : 0, t == TAR_DIR ? 0755 : 0644, 1 };
	struct err e = ERR_INIT;

	CHECK(tar_write_header(w, &en, &e) == 0);
	if (data && *data)
		CHECK(tar_write_data(w, data, strlen(data), &e) == 0);
}

static void archive(struct buf *out, enum tar_type t, const char *path, const char *link,
		    const char *data)
{
	struct tar_writer w;
	struct err e = ERR_INIT;

	tar_writer_init(&w, sink_buf, out);
	add(&w, t, path, link, data);
	CHECK(tar_write_end(&w, &e) == 0);
	tar_writer_release(&w);
}

TEST(tar_round_trip_in_memory)
{
	struct buf tar = BUF_INIT, want = BUF_INIT, longp = BUF_INIT, longl = BUF_INIT;
	struct buf mid = BUF_INIT;
	struct tar_writer w;
	struct err e = ERR_INIT;
	size_t steps[] = { 1, 7, 512, 100000 }, i;
	char *log;

	for (i = 0; i < 30; i++)
		buf_adds(&longp, "component/");
	buf_adds(&longp, "file-with-a-long-name.txt");
	for (i = 0; i < 20; i++)
		buf_adds(&longl, "../target/");
	for (i = 0; i < 11; i++)
		buf_adds(&mid, "d234567890/");
	buf_adds(&mid, "f");
	tar_writer_init(&w, sink_buf, &tar);
	add(&w, TAR_DIR, "top", NULL, NULL);
	add(&w, TAR_FILE, "top/a.txt", NULL, "hello\n");
	add(&w, TAR_FILE, "top/-dash", NULL, "");
	add(&w, TAR_SYMLINK, "top/link", "a.txt", NULL);
	add(&w, TAR_FILE, longp.p, NULL, "deep");
	add(&w, TAR_SYMLINK, "top/far", longl.p, NULL);
	add(&w, TAR_FILE, mid.p, NULL, "");
	CHECK(tar_write_end(&w, &e) == 0);
	tar_writer_release(&w);
	CHECK_INT(tar.len % TAR_BLOCK, 0);
	buf_addf(&want, "d top 0 755;f top/a.txt 6 644;hello\n|f top/-dash 0 644;|"
			"l top/link->a.txt 0 644;f %s 4 644;deep|l top/far->%s 0 644;f %s 0 644;|",
		 longp.p, longl.p, mid.p);
	for (i = 0; i < ARRAY_SIZE(steps); i++) {
		log = parse(&tar, steps[i], &e);
		CHECK_STR(log, want.p);
		free(log);
	}
	buf_release(&tar);
	buf_release(&want);
	buf_release(&longp);
	buf_release(&longl);
	buf_release(&mid);
}

TEST(tar_paths_are_normalised_and_hostile_ones_refused)
{
	static const char *const bad[] = { "../x", "/etc/passwd", "a/../../x", "./../x", "a/..",
					   "//abs" };
	struct err e = ERR_INIT;
	char out[64];
	size_t i;

	CHECK(tar_path_normalise("./a//b/./c/", 11, out, sizeof(out), &e) == 0);
	CHECK_STR(out, "a/b/c");
	CHECK(tar_path_normalise("./", 2, out, sizeof(out), &e) == 0);
	CHECK_STR(out, "");
	CHECK(tar_path_normalise("a\0b", 3, out, sizeof(out), &e) < 0);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct buf tar = BUF_INIT;
		char *log;

		CHECK(tar_path_normalise(bad[i], strlen(bad[i]), out, sizeof(out), &e) < 0);
		archive(&tar, TAR_FILE, bad[i], NULL, "x");
		err_clear(&e);
		log = parse(&tar, 512, &e);
		CHECK(log == NULL);
		CHECK(e.code == ERR_INVALID);
		free(log);
		buf_release(&tar);
	}
}

/* Rewrites the header's checksum after a test changed it. */
static void fix_sum(unsigned char *h)
{
	unsigned sum = 0;
	size_t i;

	memset(h + 148, ' ', 8);
	for (i = 0; i < TAR_BLOCK; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
}

static void expect_rejected(struct buf *tar, const char *why)
{
	struct err e = ERR_INIT;
	char *log = parse(tar, 512, &e);

	if (log)
		unit_fail(__FILE__, __LINE__, "accepted: %s", why);
	else if (!strstr(e.msg, why))
		unit_fail(__FILE__, __LINE__, "'%s' lacks '%s'", e.msg, why);
	free(log);
}

TEST(tar_malformed_archives_are_refused)
{
	struct buf tar = BUF_INIT;
	size_t cut;

	archive(&tar, TAR_FILE, "f", NULL, "content");
	for (cut = 1; cut < tar.len; cut += 97) { /* truncated anywhere */
		struct buf t = BUF_INIT;

		buf_add(&t, tar.p, cut);
		if (cut < tar.len - TAR_BLOCK)
			expect_rejected(&t, "truncated");
		buf_release(&t);
	}
	tar.p[0] ^= 1; /* checksum */
	expect_rejected(&tar, "checksum");
	tar.p[0] ^= 1;
	memcpy(tar.p + 124, "77777777777", 11); /* 8 GiB announced, 7 bytes there */
	fix_sum((unsigned char *)tar.p);
	expect_rejected(&tar, "truncated");
	memcpy(tar.p + 124, "9999", 4);
	fix_sum((unsigned char *)tar.p);
	expect_rejected(&tar, "bad size");
	memcpy(tar.p + 124, "00000000007", 11);
	tar.p[156] = '1';
	fix_sum((unsigned char *)tar.p);
	expect_rejected(&tar, "hard links are not supported");
	tar.p[156] = '3';
	fix_sum((unsigned char *)tar.p);
	expect_rejected(&tar, "unsupported entry type");
	tar.p[156] = '0';
	memcpy(tar.p + 257, "xxxxx", 5);
	fix_sum((unsigned char *)tar.p);
	expect_rejected(&tar, "not a ustar archive");
	buf_release(&tar);
}

static void pax_archive(struct buf *tar, const char *records, size_t announced)
{
	unsigned char h[TAR_BLOCK] = { 0 };

	memcpy(h, "pax", 3);
	memcpy(h + 100, "0000644", 7);
	snprintf((char *)h + 124, 12, "%011zo", announced);
	memcpy(h + 136, "00000000000", 11);
	h[156] = 'x';
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	fix_sum(h);
	buf_add(tar, h, sizeof(h));
	buf_adds(tar, records);
	buf_add(tar, (const char[TAR_BLOCK]){ 0 }, (TAR_BLOCK - strlen(records) % TAR_BLOCK) % TAR_BLOCK);
}

TEST(tar_extended_headers_are_bounded)
{
	struct buf tar = BUF_INIT, body = BUF_INIT;

	pax_archive(&tar, "30 size=99999999999999999999\n", 29);
	archive(&tar, TAR_FILE, "f", NULL, "x");
	expect_rejected(&tar, "malformed extended header");
	buf_reset(&tar);
	pax_archive(&tar, "29 size=99999999999999999999\n", 29);
	archive(&tar, TAR_FILE, "f", NULL, "x");
	expect_rejected(&tar, "bad size");
	buf_reset(&tar);
	pax_archive(&tar, "", TAR_META_MAX + 1);
	expect_rejected(&tar, "extended header of");
	buf_reset(&tar);
	pax_archive(&tar, "16 path=../../x\n", 16);
	archive(&tar, TAR_FILE, "f", NULL, "x");
	expect_rejected(&tar, "'..'");
	buf_reset(&tar);
	pax_archive(&tar, "21 GNU.sparse.size=1\n", 21);
	expect_rejected(&tar, "sparse");
	buf_release(&tar);
	buf_release(&body);
}

/* ---- on disk -------------------------------------------------------------------------- */

static char *tmpdir(void)
{
	char *d = strdup("/tmp/os-unit-tar.XXXXXX");

	CHECK(mkdtemp(d) != NULL);
	return d;
}

static void write_at(const char *dir, const char *rel, const char *text, mode_t mode)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	chmod(p, mode);
}

static int extract(const struct buf *tar, const char *dir, const char *rename_to, struct err *e)
{
	struct tarfs_extract x;
	struct tar_reader r;
	int fd = open(dir, O_RDONLY | O_DIRECTORY), ret;

	tarfs_extract_init(&x, fd, rename_to);
	tar_reader_init(&r, &tarfs_extract_ops, &x);
	ret = tar_reader_feed(&r, tar->p, tar->len, e);
	if (ret == 0)
		ret = tar_reader_finish(&r, e);
	if (ret == 0)
		ret = tarfs_extract_finish(&x, e);
	tar_reader_release(&r);
	tarfs_extract_release(&x);
	close(fd);
	return ret;
}

static char *slurp(const char *dir, const char *rel)
{
	struct buf b = BUF_INIT;
	struct err e = ERR_INIT;
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	if (read_file(p, 1 << 20, &b, &e) < 0)
		return NULL;
	return buf_detach(&b, NULL);
}

static void check_file(const char *dir, const char *rel, const char *want)
{
	char *got = slurp(dir, rel);

	CHECK_STR(got, want);
	free(got);
}

TEST(tarfs_round_trip_keeps_files_links_and_modes)
{
	char *src = tmpdir(), *dst = tmpdir(), p[512], link[64];
	struct buf tar = BUF_INIT;
	struct tar_writer w;
	struct tarfs_stats st = { 0 };
	struct err e = ERR_INIT;
	struct stat sb;
	mode_t mask = umask(0);
	ssize_t n;

	umask(mask);
	snprintf(p, sizeof(p), "%s/tree/sub/deeper", src);
	CHECK(mkdir_p(p, 0755, &e) == 0);
	snprintf(p, sizeof(p), "%s/tree", src);
	write_at(p, "a.txt", "alpha\n", 0644);
	write_at(p, "-dash", "dash\n", 0600);
	write_at(p, "sub/run.sh", "#!/bin/sh\n", 0755);
	write_at(p, "sub/deeper/empty", "", 0644);
	snprintf(p, sizeof(p), "%s/tree/sub/up", src);
	CHECK(symlink("../a.txt", p) == 0);
	snprintf(p, sizeof(p), "%s/tree/fifo", src);
	CHECK(mkfifo(p, 0644) == 0);
	tar_writer_init(&w, sink_buf, &tar);
	snprintf(p, sizeof(p), "%s/tree", src);
	CHECK(tarfs_add(&w, p, "tree", false, &st, &e) == 0);
	CHECK(tar_write_end(&w, &e) == 0);
	tar_writer_release(&w);
	CHECK_INT(st.files, 4);
	CHECK_INT(st.dirs, 3);
	CHECK_INT(st.links, 1);
	CHECK_INT(st.skipped, 1);
	CHECK(strstr(st.first_skipped, "fifo") != NULL);
	CHECK(extract(&tar, dst, NULL, &e) == 0);
	check_file(dst, "tree/a.txt", "alpha\n");
	check_file(dst, "tree/-dash", "dash\n");
	check_file(dst, "tree/sub/run.sh", "#!/bin/sh\n");
	check_file(dst, "tree/sub/deeper/empty", "");
	snprintf(p, sizeof(p), "%s/tree/sub/run.sh", dst);
	CHECK(stat(p, &sb) == 0 && (sb.st_mode & 0777) == (0755 & ~mask));
	snprintf(p, sizeof(p), "%s/tree/sub/up", dst);
	n = readlink(p, link, sizeof(link) - 1);
	CHECK(n == 8 && !memcmp(link, "../a.txt", 8));
	/* a second extraction over the first replaces files and links */
	CHECK(extract(&tar, dst, NULL, &e) == 0);
	check_file(dst, "tree/a.txt", "alpha\n");
	remove_tree(src, &e);
	remove_tree(dst, &e);
	free(src);
	free(dst);
	buf_release(&tar);
}

TEST(tarfs_never_writes_through_a_symlink)
{
	char *dst = tmpdir(), *outside = tmpdir(), p[512];
	struct buf tar = BUF_INIT;
	struct tar_writer w;
	struct err e = ERR_INIT;

	tar_writer_init(&w, sink_buf, &tar);
	add(&w, TAR_SYMLINK, "l", outside, NULL);
	add(&w, TAR_FILE, "l/pwned", NULL, "x");
	CHECK(tar_write_end(&w, &e) == 0);
	tar_writer_release(&w);
	CHECK(extract(&tar, dst, NULL, &e) < 0);
	CHECK(strstr(e.msg, "refusing to write through 'l'") != NULL);
	snprintf(p, sizeof(p), "%s/pwned", outside);
	CHECK(!path_exists(p));
	/* a link that was there before is not followed either, nor is a file a directory */
	buf_reset(&tar);
	archive(&tar, TAR_DIR, "l/sub", NULL, NULL);
	err_clear(&e);
	CHECK(extract(&tar, dst, NULL, &e) < 0);
	snprintf(p, sizeof(p), "%s/sub", outside);
	CHECK(!path_exists(p));
	buf_reset(&tar);
	write_at(dst, "plain", "p", 0644);
	archive(&tar, TAR_FILE, "plain/x", NULL, "x");
	CHECK(extract(&tar, dst, NULL, &e) < 0);
	remove_tree(dst, &e);
	remove_tree(outside, &e);
	free(dst);
	free(outside);
	buf_release(&tar);
}

TEST(tarfs_placement_rules)
{
	char *dst = tmpdir(), p[512];
	struct buf tar = BUF_INIT;
	struct err e = ERR_INIT;
	int fd;

	archive(&tar, TAR_FILE, "orig.txt", NULL, "renamed");
	CHECK(extract(&tar, dst, "new.txt", &e) == 0);
	check_file(dst, "new.txt", "renamed");
	snprintf(p, sizeof(p), "%s/orig.txt", dst);
	CHECK(!path_exists(p));
	/* a directory is never replaced by a file */
	snprintf(p, sizeof(p), "%s/adir", dst);
	CHECK(mkdir(p, 0755) == 0);
	buf_reset(&tar);
	archive(&tar, TAR_FILE, "adir", NULL, "x");
	CHECK(extract(&tar, dst, NULL, &e) < 0);
	CHECK(strstr(e.msg, "is a directory") != NULL);
	CHECK(is_dir(p));
	/* truncated content: the partial file is removed */
	buf_reset(&tar);
	archive(&tar, TAR_FILE, "partial", NULL, "0123456789");
	buf_setlen(&tar, TAR_BLOCK + 4);
	CHECK(extract(&tar, dst, NULL, &e) < 0);
	snprintf(p, sizeof(p), "%s/partial", dst);
	CHECK(!path_exists(p));
	/* moves: into an empty place, a merge of two directories, never dir over file */
	write_at(dst, "adir/keep", "keep", 0644);
	snprintf(p, sizeof(p), "%s/src/adir", dst);
	CHECK(mkdir_p(p, 0755, &e) == 0);
	write_at(dst, "src/adir/new", "new", 0644);
	write_at(dst, "src/adir/keep", "replaced", 0644);
	snprintf(p, sizeof(p), "%s/src", dst);
	fd = open(dst, O_RDONLY | O_DIRECTORY);
	{
		int sfd = open(p, O_RDONLY | O_DIRECTORY);

		CHECK(tarfs_move(sfd, "adir", fd, "adir", "adir", &e) == 0);
		check_file(dst, "adir/new", "new");
		check_file(dst, "adir/keep", "replaced");
		CHECK(tarfs_move(fd, "new.txt", fd, "adir", "adir", &e) < 0);
		CHECK(e.code == ERR_EXISTS);
		close(sfd);
	}
	close(fd);
	remove_tree(dst, &e);
	free(dst);
	buf_release(&tar);
}
