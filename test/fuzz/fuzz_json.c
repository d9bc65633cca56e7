/* SPDX-License-Identifier: Apache-2.0 */
/* JSON reader: whatever it accepts must write back to text it accepts again, identically. */
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e = ERR_INIT;
	struct buf a = BUF_INIT, b = BUF_INIT, y = BUF_INIT;
	struct json *v = json_parse((const char *)data, size, &e), *w;

	if (!v)
		return 0;
	json_write(v, &a, JSON_COMPACT);
	w = json_parse(a.p, a.len, &e);
	if (!w)
		abort();
	json_write(w, &b, JSON_COMPACT);
	if (a.len != b.len || memcmp(a.p, b.p, a.len) != 0)
		abort();
	yaml_write(v, &y);
	json_write(v, &y, JSON_PRETTY | JSON_SORTED);
	json_free(v);
	json_free(w);
	buf_release(&a);
	buf_release(&b);
	buf_release(&y);
	return 0;
}
