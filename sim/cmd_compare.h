/* The compare command: one setting varied over configurations, all run on the same seeds. */
#ifndef RS_SIM_CMD_COMPARE_H
#define RS_SIM_CMD_COMPARE_H

/*
 * argv[0] = "compare", then SCENARIO and options (see docs/compare.md):
 *   --vary SETTING=v1,v2[,...] | --policies a,b[,...]   --seeds FIRST..LAST
 *   [--out DIR] [--set KEY=VALUE]... [--bug NAME]... [--no-plots] [--quiet]
 * Exit codes: 0 every run's checks held, 1 a run found a safety or linearizability violation,
 * 2 a run failed a liveness or expectation check (the comparison is written in every case),
 * 64 bad usage (the message names the flag), 65 bad scenario file, 73 cannot create a file.
 */
int rs_cmd_compare(int argc, char **argv);

#endif
