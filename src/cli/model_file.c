/* The model a command is given: a clcnn model file (or checkpoint), or an
 * ONNX file (by its .onnx suffix: docs/onnx.md). */
#include <string.h>

#include "model_file.h"

int cli_is_onnx(const char *path)
{
    size_t n = strlen(path);
    return n >= 5 && strcmp(path + n - 5, ".onnx") == 0;
}

int cli_load_model(clcnn_ctx *ctx, clcnn_model **out, const char *path)
{
    return cli_is_onnx(path) ? clcnn_model_load_onnx(ctx, out, path) : clcnn_model_load(ctx, out, path);
}
