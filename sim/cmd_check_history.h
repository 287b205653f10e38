/* The check-history command: checks a history.jsonl file for linearizability. */
#ifndef RS_SIM_CMD_CHECK_HISTORY_H
#define RS_SIM_CMD_CHECK_HISTORY_H

/*
 * argv[0] = "check-history", then FILE and options (see the usage line in the .c file).
 * Exit codes: 0 linearizable, 1 not, 2 unknown (budget exhausted), 64 bad usage,
 * 65 malformed input ("FILE:LINE:COL: message" on stderr), 66 cannot open the file,
 * 70 internal error (out of memory).
 */
int rs_cmd_check_history(int argc, char **argv);

#endif
