/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YAML output of a JSON tree (json.h), for `-o yaml`: the same value as `-o json`, in block
 * style. Output only; the policy reader parses YAML with libyaml.
 */
#ifndef OS_YAMLOUT_H
#define OS_YAMLOUT_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct json;

/*
 * Appends v as one YAML document without "---": block style, 2-space indent, sequences as
 * "- item" (not indented under their key, as libyaml and serde_yaml write them), "[]" and "{}"
 * when empty, null as "null", members in tree order. Every line ends with '\n'.
 * Strings are plain when a YAML 1.1 or 1.2 reader takes them back as the same string, else
 * double-quoted with escapes; invalid UTF-8 becomes U+FFFD. Keys longer than 1000 bytes use the
 * explicit "? key" form (readers limit implicit keys to 1024 characters). Never fails.
 */
void yaml_write(const struct json *v, struct buf *out);

/*
 * Whether s[0..n) needs double quotes: empty; true/false/yes/no/on/off/y/n/null/~ in any case;
 * anything that may read as a number or a timestamp (1e3, 0x1F, .5, -1, +1, 1_000, 1:20,
 * 2001-12-14, .inf); leading or trailing space; a leading indicator (- ? : , [ ] { } # & * ! | >
 * ' " % @ `) or "..."; ": " or " #" inside, or ':' at the end; "=" or "<<"; control characters,
 * DEL, C1 controls, U+2028/U+2029 (line breaks to YAML 1.1), U+FEFF, U+FFFE/U+FFFF; invalid UTF-8.
 * s[n] must be NUL, as for the strings of a tree.
 */
bool yaml_needs_quotes(const char *s, size_t n);

#endif
