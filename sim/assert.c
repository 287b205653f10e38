/* The host's side of RS_ASSERT: report the failure with the run's context, then abort. */
#include "core/base.h"
#include "sim/context.h"

#include <stdio.h>
#include <stdlib.h>

static char assert_context[256];

void rs_sim_set_context(const char *context)
{
    snprintf(assert_context, sizeof assert_context, "%s", context ? context : "");
}

_Noreturn void rs_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "rheasim: assertion failed: %s (%s:%d)\n", expr, file, line);
    if (assert_context[0] != '\0') {
        fprintf(stderr, "rheasim: while running %s\n", assert_context);
    }
    fflush(stderr);
    abort();
}
