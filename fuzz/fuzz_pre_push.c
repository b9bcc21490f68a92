/*
 * Fuzz target: the pre-push input parser (push_plan_parse_pre_push) on
 * arbitrary bytes: "<local ref> <local oid> <remote ref> <remote oid>"
 * lines, as git writes them to the hook's standard input.
 */
#include "error.h"
#include "hooks/push.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct push_plan plan = PUSH_PLAN_INIT;
	char *in = malloc(size ? size : 1); /* exact size: ASan sees a read past the end */

	memcpy(in, data, size);
	if (push_plan_parse_pre_push(&plan, in, size) == 0) {
		for (size_t i = 0; i < plan.nr; i++) {
			const struct pushed_ref *r = &plan.refs[i];

			if (!r->local_ref || !r->remote_ref)
				abort();
			if (r->deletion != git_oid_is_zero(&r->local_oid))
				abort();
		}
	}
	push_plan_release(&plan);
	free(in);
	mp_error_clear();
	return 0;
}
