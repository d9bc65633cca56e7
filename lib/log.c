/* SPDX-License-Identifier: Apache-2.0 */
/* Structured JSON-lines log with size-based rotation; see log.h. */
#include "log.h"
#include "buf.h"
#include "err.h"
#include "json.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct {
	int fd;
	bool also_stderr;
	enum log_level max;
	char path[1024];
	off_t size;
} lg = { -1, true, LOG_LVL_INFO, "", 0 };
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_name[] = { "error", "warn", "info", "debug" };

static int open_file(struct err *e)
{
	struct stat st;

	lg.fd = open(lg.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (lg.fd < 0)
		return err_sys(e, ERR_RUNTIME, "cannot open log file '%s'", lg.path);
	lg.size = fstat(lg.fd, &st) == 0 ? st.st_size : 0;
	return 0;
}

int log_open(const char *path, bool also_stderr, struct err *e)
{
	lg.also_stderr = also_stderr;
	if (!path)
		return 0;
	if (fmt_into(lg.path, sizeof(lg.path), "%s", path) < 0)
		return err_set(e, ERR_INVALID, ENAMETOOLONG, "log path too long");
	return open_file(e);
}

void log_close(void)
{
	if (lg.fd >= 0)
		close(lg.fd);
	lg.fd = -1;
}

void log_set_level(enum log_level max)
{
	lg.max = max;
}

/* gateway.log -> gateway.log.1 -> ... -> gateway.log.LOG_KEEP (dropped). */
static void rotate(void)
{
	char from[1100], to[1100];
	struct err e = ERR_INIT;
	int i;

	for (i = LOG_KEEP - 1; i >= 1; i--) {
		snprintf(from, sizeof(from), "%s.%d", lg.path, i);
		snprintf(to, sizeof(to), "%s.%d", lg.path, i + 1);
		rename(from, to);
	}
	snprintf(to, sizeof(to), "%s.1", lg.path);
	rename(lg.path, to);
	log_close();
	open_file(&e);
}

/* The reference's human line (cli.md §9) for stderr. */
static void human_line(struct buf *b, int64_t ms, enum log_level level, const char *src,
		       const char *msg, va_list ap)
{
	const char *k, *v;
	char lvl[8];
	int i;

	for (i = 0; level_name[level][i] && i < 5; i++)
		lvl[i] = (char)(level_name[level][i] - 32);
	lvl[i] = '\0';
	buf_addf(b, "[%lld.%03d] [gateway] [%-5s] [%s] %s", (long long)(ms / 1000), (int)(ms % 1000),
		 lvl, src, msg);
	while ((k = va_arg(ap, const char *)) && (v = va_arg(ap, const char *)))
		buf_addf(b, " %s=%s", k, v);
	buf_addch(b, '\n');
}

void log_write(enum log_level level, const char *src, const char *msg, ...)
{
	struct buf line = BUF_INIT;
	int64_t ms = now_wall_ms();
	const char *k, *v;
	va_list ap;

	if (level > lg.max)
		return;
	buf_addf(&line, "{\"ts\":%lld,\"level\":\"%s\",\"src\":", (long long)ms, level_name[level]);
	json_quote(&line, src, strlen(src));
	buf_adds(&line, ",\"msg\":");
	json_quote(&line, msg, strlen(msg));
	va_start(ap, msg);
	while ((k = va_arg(ap, const char *)) && (v = va_arg(ap, const char *))) {
		buf_addch(&line, ',');
		json_quote(&line, k, strlen(k));
		buf_addch(&line, ':');
		json_quote(&line, v, strlen(v));
	}
	va_end(ap);
	buf_adds(&line, "}\n");
	pthread_mutex_lock(&log_lock); /* the proxy logs from one thread per connection */
	if (lg.fd >= 0) {
		if (lg.size + (off_t)line.len > LOG_ROTATE_BYTES)
			rotate();
		if (lg.fd >= 0 && write_full(lg.fd, line.p, line.len) == 0)
			lg.size += (off_t)line.len;
	}
	pthread_mutex_unlock(&log_lock);
	if (lg.also_stderr) {
		buf_reset(&line);
		va_start(ap, msg);
		human_line(&line, ms, level, src, msg, ap);
		va_end(ap);
		if (write_full(2, line.p, line.len) < 0) {
			/* stderr gone: nothing left to tell */
		}
	}
	buf_release(&line);
}
