/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tiny unit-test harness. TEST(name) { ... } registers itself at start-up;
 * CHECK* record a failure with file:line and keep going inside the test.
 * test/unit/main.c runs every test (or those whose name contains argv[1]).
 */
#ifndef OS_UNIT_H
#define OS_UNIT_H

#include <stdio.h>
#include <string.h>

struct unit_test {
	const char *name;
	void (*fn)(void);
	struct unit_test *next;
};

void unit_register(struct unit_test *t);
void unit_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define TEST(tname)                                                           \
	static void test_##tname(void);                                       \
	static struct unit_test unit_##tname = { #tname, test_##tname, NULL }; \
	__attribute__((constructor)) static void unit_reg_##tname(void)       \
	{                                                                     \
		unit_register(&unit_##tname);                                 \
	}                                                                     \
	static void test_##tname(void)

#define CHECK(cond)                                                    \
	do {                                                           \
		if (!(cond))                                           \
			unit_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); \
	} while (0)

#define CHECK_INT(a, b)                                                                        \
	do {                                                                                   \
		long long va_ = (long long)(a), vb_ = (long long)(b);                          \
		if (va_ != vb_)                                                                \
			unit_fail(__FILE__, __LINE__, "%s == %lld, expected %lld", #a, va_, vb_); \
	} while (0)

#define CHECK_STR(a, b)                                                                       \
	do {                                                                                  \
		const char *sa_ = (a), *sb_ = (b);                                            \
		if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0)                                    \
			unit_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #a,    \
				  sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");                  \
	} while (0)

#endif
