/* SPDX-License-Identifier: Apache-2.0 */
#include "unit.h"
#include "../../lib/err.h"
#include "../../lib/fsutil.h"
#include "../../lib/rootdir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

TEST(rootdir_classifies_from_values_by_spelling)
{
	CHECK_INT(rootdir_classify("/srv/roots/bookworm"), ROOTDIR_PATH);
	CHECK_INT(rootdir_classify("./root"), ROOTDIR_PATH);
	CHECK_INT(rootdir_classify("../root"), ROOTDIR_PATH);
	CHECK_INT(rootdir_classify("~/roots/x"), ROOTDIR_PATH);
	CHECK_INT(rootdir_classify("."), ROOTDIR_PATH);
	CHECK_INT(rootdir_classify(".."), ROOTDIR_PATH);
	CHECK_INT(rootdir_classify("~"), ROOTDIR_PATH);
	CHECK_INT(rootdir_classify("base"), ROOTDIR_IMAGE); /* even if ./base exists */
	CHECK_INT(rootdir_classify("ubuntu:24.04"), ROOTDIR_IMAGE);
	CHECK_INT(rootdir_classify("ghcr.io/nvidia/openshell-community/sandboxes/base"), ROOTDIR_IMAGE);
	CHECK_INT(rootdir_classify("Dockerfile"), ROOTDIR_DOCKERFILE);
	CHECK_INT(rootdir_classify("./build/app.dockerfile"), ROOTDIR_DOCKERFILE);
	CHECK_INT(rootdir_classify("/x/DockerFile.dev"), ROOTDIR_DOCKERFILE);
	CHECK_INT(rootdir_classify("/dockerfiles/root"), ROOTDIR_PATH); /* only the last component */
}

static struct stat dir_stat(uid_t uid, gid_t gid, mode_t mode)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_uid = uid;
	st.st_gid = gid;
	st.st_mode = S_IFDIR | mode;
	return st;
}

TEST(rootdir_trusts_only_dirs_nobody_else_can_change)
{
	struct stat st;
	char why[128];

	st = dir_stat(0, 0, 0755);
	CHECK_INT(rootdir_trust(&st, true, 0, why, sizeof(why)), 0);
	st = dir_stat(1000, 1000, 0755);
	CHECK_INT(rootdir_trust(&st, true, 1000, why, sizeof(why)), 0); /* the gateway's user */
	CHECK_INT(rootdir_trust(&st, true, 0, why, sizeof(why)), -1);
	CHECK_STR(why, "is owned by uid 1000, neither root nor the gateway's user");
	st = dir_stat(0, 0, 0757);
	CHECK_INT(rootdir_trust(&st, true, 0, why, sizeof(why)), -1);
	CHECK_STR(why, "is writable by others (mode 0757)");
	st = dir_stat(0, 0, 0775);
	CHECK_INT(rootdir_trust(&st, false, 0, why, sizeof(why)), -1);
	CHECK_STR(why, "is writable by its group (mode 0775)");
	st = dir_stat(0, 0, 01777); /* /tmp on the way is fine, not as DIR */
	CHECK_INT(rootdir_trust(&st, false, 0, why, sizeof(why)), 0);
	CHECK_INT(rootdir_trust(&st, true, 0, why, sizeof(why)), -1);
	CHECK_STR(why, "is writable by group and others (mode 1777)");
	st = dir_stat(0, 0, 0644);
	st.st_mode = S_IFREG | 0644;
	CHECK_INT(rootdir_trust(&st, true, 0, why, sizeof(why)), -1);
	CHECK_STR(why, "is not a directory");
}

TEST(rootdir_search_permission_by_owner_group_other)
{
	struct stat st = dir_stat(0, 0, 0701);

	CHECK(rootdir_can_search(&st, 0, 0));
	CHECK(rootdir_can_search(&st, 212345, 212345));
	st = dir_stat(0, 0, 0750);
	CHECK(!rootdir_can_search(&st, 212345, 212345));
	st = dir_stat(1000, 1000, 0700);
	CHECK(rootdir_can_search(&st, 1000, 1000));
	st = dir_stat(0, 5, 0710);
	CHECK(rootdir_can_search(&st, 7, 5));
}

static int put(const char *dir, const char *rel, const char *text, mode_t mode)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0)
		return -1;
	if (write(fd, text, strlen(text)) < 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static int sym(const char *target, const char *dir, const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return symlink(target, p);
}

/* A root with links that point out of it, absolutely and through "..". */
static int make_tree(char *top, char *root, size_t n)
{
	char p[PATH_MAX];

	if (!mkdtemp(top))
		return -1;
	snprintf(root, n, "%s/root", top);
	snprintf(p, sizeof(p), "%s/usr", root);
	if (mkdir(root, 0755) < 0 || mkdir(p, 0755) < 0 || put(top, "secret", "host", 0644) < 0 ||
	    put(root, "secret", "inside", 0644) < 0 || put(root, "usr/tool", "#!x", 0755) < 0 ||
	    put(root, "usr/data", "x", 0644) < 0 || sym(top, root, "out") < 0 ||
	    sym("../../../../../..", root, "up") < 0 || sym("usr", root, "bin") < 0)
		return -1;
	return 0;
}

TEST(rootdir_resolution_never_leaves_the_root)
{
	char top[] = "/tmp/os-rootdir-XXXXXX", root[PATH_MAX], buf[16] = "";
	struct err e = ERR_INIT;
	int rfd, fd;

	CHECK_INT(make_tree(top, root, sizeof(root)), 0);
	rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHECK(rfd >= 0);
	fd = rootdir_resolve(rfd, "/out/secret", O_RDONLY); /* /out -> top: top is not in it */
	CHECK(fd < 0 && errno == ENOENT);
	fd = rootdir_resolve(rfd, "/up/secret", O_RDONLY); /* ../.. stops at the root */
	CHECK(fd >= 0);
	CHECK(read(fd, buf, sizeof(buf) - 1) == 6);
	CHECK_STR(buf, "inside");
	close(fd);
	fd = rootdir_resolve(rfd, "/out", O_PATH | O_NOFOLLOW); /* the link itself */
	CHECK(fd >= 0);
	close(fd);
	fd = rootdir_resolve(rfd, "/proc/self/root", O_PATH);
	CHECK(fd < 0);
	close(rfd);
	CHECK_INT(remove_tree(top, &e), 0);
}

TEST(rootdir_finds_commands_inside_the_root)
{
	char top[] = "/tmp/os-rootdir-XXXXXX", root[PATH_MAX], found[PATH_MAX];
	struct err e = ERR_INIT;
	int rfd;

	CHECK_INT(make_tree(top, root, sizeof(root)), 0);
	rfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHECK(rfd >= 0);
	CHECK_INT(rootdir_find_command(rfd, "/bin/tool", NULL, found, sizeof(found)), 0);
	CHECK_STR(found, "/bin/tool");
	CHECK_INT(rootdir_find_command(rfd, "tool", "/nope:/usr", found, sizeof(found)), 0);
	CHECK_STR(found, "/usr/tool");
	CHECK_INT(rootdir_find_command(rfd, "data", "/usr", found, sizeof(found)), -1); /* no x bit */
	CHECK_INT(rootdir_find_command(rfd, "/usr", NULL, found, sizeof(found)), -1);  /* a dir */
	CHECK_INT(rootdir_find_command(rfd, "sh", "/usr/bin:/bin", found, sizeof(found)), -1);
	CHECK_INT(rootdir_find_command(rfd, "./run.sh", NULL, found, sizeof(found)), 0); /* unchecked */
	close(rfd);
	CHECK_INT(remove_tree(top, &e), 0);
}

TEST(rootdir_open_checks_every_component)
{
	char top[] = "/tmp/os-rootdir-XXXXXX", root[PATH_MAX], p[PATH_MAX + 16];
	struct err e = ERR_INIT;
	int fd;

	CHECK_INT(make_tree(top, root, sizeof(root)), 0);
	chmod(top, 0755);
	fd = rootdir_open(root, getuid(), getgid(), &e);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	snprintf(p, sizeof(p), "%s/out", root); /* a symbolic link is not followed */
	CHECK_INT(rootdir_open(p, getuid(), getgid(), &e), -1);
	CHECK(strstr(e.msg, "is not a directory (or is a symbolic link)") != NULL);
	snprintf(p, sizeof(p), "%s/usr/../usr", root);
	CHECK_INT(rootdir_open(p, getuid(), getgid(), &e), -1);
	CHECK(strstr(e.msg, "is not a canonical path") != NULL);
	CHECK_INT(rootdir_open("relative/x", getuid(), getgid(), &e), -1);
	CHECK(strstr(e.msg, "is not an absolute path") != NULL);
	chmod(root, 0777);
	CHECK_INT(rootdir_open(root, getuid(), getgid(), &e), -1);
	CHECK(strstr(e.msg, "is writable by group and others (mode 0777)") != NULL);
	CHECK(e.hint[0] != '\0');
	chmod(root, 0700);
	CHECK_INT(rootdir_open(root, getuid() + 4242, getgid() + 4242, &e), -1);
	CHECK(strstr(e.msg, "cannot be entered by the sandbox's uid") != NULL);
	chmod(root, 0755);
	CHECK_INT(remove_tree(top, &e), 0);
}

TEST(rootdir_picks_a_uid_no_other_sandbox_has)
{
	uid_t used[300], first, u;
	size_t i;

	first = rootdir_pick_uid(NULL, 0, "gw-a");
	CHECK(first >= 200000 && first < 300000);
	CHECK_INT((first - 200000) % 1000, 0); /* the start of this gateway's block */
	CHECK_INT(rootdir_pick_uid(NULL, 0, "gw-a"), first); /* the same for the same name */
	for (i = 0; i < 300; i++)
		used[i] = first + (uid_t)i;
	CHECK_INT(rootdir_pick_uid(used, 300, "gw-a"), first + 300);
	used[17] = 0; /* out of the range: ignored */
	CHECK_INT(rootdir_pick_uid(used, 300, "gw-a"), first + 17);
	/* the end of the range wraps around to its start */
	used[0] = 299999;
	u = rootdir_pick_uid(used, 1, "gw-a");
	CHECK(u != 299999);
	{
		uid_t *all = calloc(100000, sizeof(*all));

		CHECK(all != NULL);
		if (!all)
			return;
		for (i = 0; i < 100000; i++)
			all[i] = 200000 + (uid_t)i;
		all[5] = 1000;
		CHECK_INT(rootdir_pick_uid(all, 100000, "gw-a"), 200005);
		all[5] = 200005;
		CHECK_INT(rootdir_pick_uid(all, 100000, "gw-a"), 0); /* full */
		free(all);
	}
}

TEST(rootdir_host_uid_is_the_allocated_one_when_root)
{
	if (getuid() != 0) {
		CHECK_INT(rootdir_host_uid(200123, "abc"), getuid());
		return;
	}
	CHECK_INT(rootdir_host_uid(200123, "abc"), 200123);
	CHECK_INT(rootdir_host_gid(200123, "abc"), 200123);
	/* a sandbox from before allocation, or a value outside the range: the id's hash */
	CHECK(rootdir_host_uid(0, "abc") >= 200000 && rootdir_host_uid(0, "abc") < 300000);
	CHECK_INT(rootdir_host_uid(0, "abc"), rootdir_host_uid(0, "abc"));
	CHECK_INT(rootdir_host_uid(1000, "abc"), rootdir_host_uid(0, "abc"));
	CHECK_INT(rootdir_host_uid(0, "abc") == rootdir_host_uid(0, "abd"), 0);
}
