/* Subcommands of the clcnn program; each returns the process exit status. */
#ifndef CLCNN_CLI_H
#define CLCNN_CLI_H

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_devices(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_tune(int argc, char **argv);
/* onnx: clcnn import / clcnn export (cmd_onnx.c) */
int cmd_import(int argc, char **argv);
int cmd_export(int argc, char **argv);

#endif
