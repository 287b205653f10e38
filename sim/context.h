/* What an assertion failure prints about the run it happened in (seed, scenario, event). */
#ifndef RS_SIM_CONTEXT_H
#define RS_SIM_CONTEXT_H

void rs_sim_set_context(const char *context);
const char *rs_sim_context(void);

#endif
