/* The clcnn program: dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "clcnn.h"
#include "cli.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *what;
} commands[] = {
    {"train", cmd_train, "train a network (LeNet-5, alexnet-mini, a spec file) on a data set"},
    {"eval", cmd_eval, "loss, accuracy, per-class figures and confusion matrix"},
    {"predict", cmd_predict, "classify PGM, PNG, JPEG or IDX images with a saved model"},
    {"info", cmd_info, "a saved model's layers, parameters and training state"},
    {"summary", cmd_info, "the same as info"},
    {"devices", cmd_devices, "list OpenCL platforms and devices"},
    {"bench", cmd_bench, "time every layer, training and inference"},
    {"tune", cmd_tune, "measure and store the fastest kernel settings for a device"},
    {"import", cmd_import, "convert an ONNX model to a clcnn model"},
    {"export", cmd_export, "convert a clcnn model to ONNX"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: clcnn COMMAND [OPTIONS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].what);
    fprintf(f, "\n'clcnn COMMAND --help' describes a command's options.\n"
               "CLCNN_DEVICE=auto|cpu|opencl|opencl:P:D chooses the device of every command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("clcnn %s\n", clcnn_version());
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "clcnn: unknown command '%s'; try 'clcnn --help'\n", argv[1]);
    return 2;
}
