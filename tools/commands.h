/* commands.h — one entry point per subcommand; argv[0] is the subcommand's name.
 * Each returns the process exit status: 0 success, 1 failure, 2 bad usage. */
#ifndef TC_TOOLS_COMMANDS_H
#define TC_TOOLS_COMMANDS_H

int tc_cmd_train(int argc, char **argv);
int tc_cmd_sample(int argc, char **argv);
int tc_cmd_conform(int argc, char **argv);
int tc_cmd_gradcheck(int argc, char **argv);
int tc_cmd_bench(int argc, char **argv);
int tc_cmd_inspect(int argc, char **argv);

#endif
