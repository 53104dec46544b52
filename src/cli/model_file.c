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

int cli_load_classifier(clcnn_ctx *ctx, clcnn_model **out, const char *path)
{
    int st = cli_load_model(ctx, out, path);
    if (st)
        return st;
    /* A graph that ends in logits (PyTorch's usually do) gets the softmax
     * that classifying and cross-entropy training take; the argmax and
     * the loss are the same. */
    clcnn_model *m = *out;
    clcnn_layer_config last;
    clcnn_model_layer_config(m, clcnn_model_layer_count(m) - 1, &last);
    if (last.out_shape[0] == 1 && last.out_shape[1] == 1 && last.activation == CLCNN_ACT_IDENTITY &&
        (last.kind == CLCNN_LAYER_DENSE || last.kind == CLCNN_LAYER_ACTIVATION) &&
        (st = clcnn_model_add_activation(m, CLCNN_ACT_SOFTMAX))) {
        clcnn_model_free(m);
        *out = NULL;
    }
    return st;
}
