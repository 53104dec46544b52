/* The ONNX calls in a build without -Donnx (no protobuf-c). */
#include "model/model.h"

int clcnn_model_load_onnx(clcnn_ctx *ctx, clcnn_model **out, const char *path)
{
    if (out)
        *out = NULL;
    int st = clcnn_check_ctx(ctx, "clcnn_model_load_onnx");
    if (st)
        return st;
    return clcnn_error(ctx, CLCNN_ERR_UNSUPPORTED,
                       "%s: this clcnn was built without ONNX support (-Donnx needs protobuf-c)",
                       path ? path : "(null)");
}

int clcnn_model_save_onnx(clcnn_model *m, const char *path)
{
    if (!m)
        return CLCNN_ERR_ARGUMENT;
    return clcnn_error(m->ctx, CLCNN_ERR_UNSUPPORTED,
                       "%s: this clcnn was built without ONNX support (-Donnx needs protobuf-c)",
                       path ? path : "(null)");
}
