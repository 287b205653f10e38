/* What an assertion failure prints about the run it happened in (seed, scenario, event). */
#include "sim/context.h"

#include <stdio.h>

static char run_context[256];

void rs_sim_set_context(const char *context)
{
    snprintf(run_context, sizeof run_context, "%s", context ? context : "");
}

const char *rs_sim_context(void)
{
    return run_context;
}
