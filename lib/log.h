/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Structured logs of the gateway and the supervisors: one JSON object per line,
 * {"ts": unix ms, "level", "src", "msg", then key/value pairs in the order given},
 * appended to a file that is rotated by size (LOG_ROTATE_BYTES, LOG_KEEP old files),
 * optionally mirrored to stderr in the reference's line format (reference/cli.md §9).
 * Values never carry secrets: callers log names and reasons, not credentials.
 */
#ifndef OS_LOG_H
#define OS_LOG_H

#include <stdbool.h>

struct err;

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

#define LOG_ROTATE_BYTES (10 << 20)
#define LOG_KEEP 3

/* Opens (creates 0600) the log file; path NULL = stderr only. */
int log_open(const char *path, bool also_stderr, struct err *e);
void log_close(void);
void log_set_level(enum log_level max);
/* Key/value pairs of strings, terminated by NULL: log_write(L, "api", "msg", "k", "v", NULL). */
void log_write(enum log_level level, const char *src, const char *msg, ...)
	__attribute__((sentinel));

#define log_error(src, ...) log_write(LOG_LVL_ERROR, src, __VA_ARGS__)
#define log_warn(src, ...)  log_write(LOG_LVL_WARN, src, __VA_ARGS__)
#define log_info(src, ...)  log_write(LOG_LVL_INFO, src, __VA_ARGS__)
#define log_debug(src, ...) log_write(LOG_LVL_DEBUG, src, __VA_ARGS__)

#endif
