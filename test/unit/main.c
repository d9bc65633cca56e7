/* SPDX-License-Identifier: Apache-2.0 */
/* Runs the registered unit tests; prints "ok"/"FAIL" per test and "N passed, N failed". */
#include "unit.h"

#include <stdarg.h>
#include <stdlib.h>

static struct unit_test *head, **tail = &head;
static int current_failed;

void unit_register(struct unit_test *t)
{
	*tail = t;
	tail = &t->next;
}

void unit_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "  %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	current_failed = 1;
}

int main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	int passed = 0, failed = 0;
	struct unit_test *t;

	for (t = head; t; t = t->next) {
		if (filter && !strstr(t->name, filter))
			continue;
		current_failed = 0;
		t->fn();
		if (current_failed) {
			printf("FAIL %s\n", t->name);
			failed++;
		} else {
			printf("ok %s\n", t->name);
			passed++;
		}
		fflush(stdout);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
