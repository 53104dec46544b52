/* clcnn import / clcnn export: ONNX files to clcnn models and back
 * (docs/onnx.md). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "common.h"
#include "model_file.h"

static const char import_usage[] =
    "usage: clcnn import MODEL.onnx -o FILE.model [--device D]\n"
    "Reads an ONNX model (a chain of Conv, pooling, LRN, activations, "
    "Flatten,\n"
    "Gemm/MatMul; BatchNormalization folded, Dropout dropped; docs/onnx.md), "
    "prints\n"
    "its layers and saves it as a clcnn model.  It takes NHWC images: the "
    "same\n"
    "pixels as the ONNX graph's NCHW input.\n\n"
    "  -o, --output FILE   the clcnn model to write\n"
    "  --device D          auto, cpu, opencl or opencl:P:D (default auto)\n"
    "  --help              show this help\n";

static const char export_usage[] =
    "usage: clcnn export MODEL -o FILE.onnx [--device D]\n"
    "Writes a clcnn model (or checkpoint, or .onnx) as an ONNX model, opset "
    "13:\n"
    "input 'input' NCHW (N, C, H, W), output 'output' (N, classes), the class\n"
    "names in the metadata entry 'class_names' (docs/onnx.md).\n\n"
    "  -o, --output FILE   the ONNX file to write\n"
    "  --device D          auto, cpu, opencl or opencl:P:D (default auto)\n"
    "  --help              show this help\n";

static int convert(int argc, char **argv, const char *cmd, const char *usage, int to_onnx)
{
    enum { O_OUTPUT = 'o', O_DEVICE = 1, O_HELP };
    static const struct option longopts[] = {
        {"output", required_argument, 0, O_OUTPUT},
        {"device", required_argument, 0, O_DEVICE},
        {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    const char *output = NULL, *device = NULL;
    opterr = 0;
    optind = 0;
    int c;
    while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
        switch (c) {
        case O_OUTPUT: output = optarg; break;
        case O_DEVICE: device = optarg; break;
        case O_HELP: fputs(usage, stdout); return 0;
        default: return cli_usage_error(cmd, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage_error(cmd, "no input model given");
    if (optind + 1 < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
    if (!output)
        return cli_usage_error(cmd, "-o FILE is required");
    const char *input = argv[optind];
    clcnn_ctx *ctx = cli_open_ctx(device);
    if (!ctx)
        return 1;
    clcnn_model *m = NULL;
    int rc = 0;
    if (cli_load_model(ctx, &m, input) != CLCNN_OK ||
        (to_onnx ? clcnn_model_save_onnx(m, output) : clcnn_model_save(m, output)) != CLCNN_OK) {
        rc = cli_fail("%s", clcnn_errmsg(ctx));
    } else {
        size_t shape[3];
        clcnn_model_input_shape(m, shape);
        printf("%s: %zux%zux%zu input, %zu parameters, %zu classes\n", input, shape[0], shape[1], shape[2],
               clcnn_model_param_count(m), clcnn_model_classes(m));
        char line[256];
        for (size_t i = 0; i < clcnn_model_layer_count(m); i++)
            if (clcnn_model_layer_describe(m, i, line, sizeof line) == CLCNN_OK)
                printf("  %2zu  %s\n", i + 1, line);
        printf("wrote %s\n", output);
    }
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
    return rc;
}

int cmd_import(int argc, char **argv)
{
    return convert(argc, argv, "import", import_usage, 0);
}

int cmd_export(int argc, char **argv)
{
    return convert(argc, argv, "export", export_usage, 1);
}
