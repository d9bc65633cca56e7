/* SPDX-License-Identifier: Apache-2.0 */
/* Small string, number and I/O helpers with checked results. */
#ifndef OS_UTIL_H
#define OS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* snprintf into dst; returns -1 (errno ENAMETOOLONG) when it did not fit. */
int fmt_into(char *dst, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Whole-string decimal parse with range check; 0 on success, -1 otherwise. */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);

bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);
bool str_eq(const char *a, const char *b); /* NULL-safe */
/* Trims ASCII whitespace in place at both ends; returns s advanced. */
char *str_trim(char *s);

/* open(2) with O_CLOEXEC added, in one system call (musl's open follows O_CLOEXEC with an
 * fcntl for kernels older than 2.6.23); -1 with errno. For hot paths reading /proc. */
int open_cloexec(const char *path, int flags);
/* read/write retrying EINTR and short counts. read_full returns bytes read (< n at EOF). */
ssize_t read_full(int fd, void *p, size_t n);
int write_full(int fd, const void *p, size_t n);

/* Milliseconds on CLOCK_MONOTONIC / CLOCK_REALTIME. */
int64_t now_mono_ms(void);
int64_t now_wall_ms(void);
/* Microseconds on CLOCK_MONOTONIC (durations). */
int64_t now_mono_us(void);
/* "2026-11-22T14:31:08Z" from unix seconds. */
void fmt_rfc3339(char dst[32], int64_t unix_secs);

/* Length of the valid UTF-8 sequence (RFC 3629: no overlong forms, no surrogates, at most
 * U+10FFFF) at s, of the n bytes available; 0 when it is not valid. */
size_t utf8_seq_len(const unsigned char *s, size_t n);
/* Value of a hex digit, or -1. */
int hex_digit(unsigned char c);

/* Lowercase hex SHA-256 of data (BearSSL). */
void sha256_hex(const void *data, size_t n, char hex[65]);

/* Levenshtein distance, capped at 32; for "did you mean" hints. */
int edit_distance(const char *a, const char *b);

/* The command line that /proc/<pid>/cmdline shows: main() records where its argv strings
 * lie; proc_title_set overwrites them in place with title (cut to fit) and zeros, so that
 * a forked process (the sandbox's pid 1) does not show its parent's arguments. */
void proc_title_init(int argc, char **argv);
void proc_title_set(const char *title);

#endif
