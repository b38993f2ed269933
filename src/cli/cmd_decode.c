// SPDX-License-Identifier: GPL-2.0
/* shadowtrace decode 0xVALUE: one shadowed_translation entry, in words. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "output/json.h"
#include "figures/names.h"
#include "cli/commands.h"

int st_decode(const struct st_options *o)
{
	char *end;
	uint64_t v;
	uint32_t acc;

	errno = 0;
	v = strtoull(o->value, &end, 0);
	if (errno || end == o->value || *end || o->value[0] == '-') {
		fprintf(stderr, "shadowtrace: cannot decode '%s': expected a 64-bit number such as 0x1234007\n",
			o->value);
		return ST_EXIT_USAGE;
	}
	acc = st_translation_access(v);
	if (o->json) {
		struct json j;

		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_u64(&j, "value", v);
		json_u64(&j, "gfn", st_translation_gfn(v));
		json_u64(&j, "gpa", st_translation_gfn(v) << ST_PAGE_SHIFT);
		json_str(&j, "access", st_access_letters(acc));
		json_u64(&j, "reserved_bits", v & 0xff8);
		json_obj_end(&j);
		putchar('\n');
		return ST_EXIT_OK;
	}
	printf("value  0x%016" PRIx64 "\n", v);
	printf("gfn    0x%" PRIx64 " (gpa 0x%" PRIx64 ")\n", (uint64_t)st_translation_gfn(v),
	       (uint64_t)st_translation_gfn(v) << ST_PAGE_SHIFT);
	printf("access %s (%s%s%s%s)\n", st_access_letters(acc),
	       acc & ST_ACC_WRITE ? "write " : "", acc & ST_ACC_USER ? "user " : "",
	       acc & ST_ACC_EXEC ? "exec" : "", acc ? "" : "none");
	if (v & 0xff8)
		printf("note   bits 3-11 are 0x%" PRIx64 ": KVM never sets them; not a translation entry?\n",
		       v & 0xff8);
	return ST_EXIT_OK;
}
