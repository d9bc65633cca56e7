/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the policy loader and validator (lib/policy_load*.c,
 * lib/policy_validate*.c). A policy that loads serialises to canonical JSON that loads
 * again to the same JSON and hash; a refused one always says why.
 */
#include "../../lib/buf.h"
#include "../../lib/policy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void round_trip(const struct pol_policy *p)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct pol_report r;
	struct pol_policy q;
	char h1[65], h2[65];

	pol_to_json(p, &a);
	pol_report_init(&r);
	if (pol_load(&q, "json", a.p, a.len, &r) != 0)
		abort();
	pol_to_json(&q, &b);
	pol_hash(p, h1);
	pol_hash(&q, h2);
	if (strcmp(a.p, b.p) != 0 || strcmp(h1, h2) != 0)
		abort();
	pol_release(&q);
	pol_report_release(&r);
	buf_release(&a);
	buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf text = BUF_INIT;
	struct pol_report r;
	struct pol_policy p;

	pol_report_init(&r);
	if (pol_load(&p, "fuzz", (const char *)data, size, &r) == 0) {
		if (r.n_errors)
			abort();
		round_trip(&p);
		pol_release(&p);
	} else if (!r.n_errors) {
		abort();
	}
	pol_report_format(&r, "fuzz", &text);
	pol_report_join_errors(&r, &text);
	pol_report_release(&r);
	buf_release(&text);
	return 0;
}
