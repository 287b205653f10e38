/* The host's side of RS_ASSERT: report the failure with the run's context, then abort. */
#include "core/base.h"
#include "sim/context.h"

#include <stdio.h>
#include <stdlib.h>

_Noreturn void rs_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "rheasim: assertion failed: %s (%s:%d)\n", expr, file, line);
    const char *context = rs_sim_context();
    if (context[0] != '\0') {
        fprintf(stderr, "rheasim: while running %s\n", context);
    }
    fflush(stderr);
    abort();
}
