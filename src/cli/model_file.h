/* Loading the model a command names, whichever format it is in. */
#ifndef CLCNN_CLI_MODEL_FILE_H
#define CLCNN_CLI_MODEL_FILE_H

#include "clcnn.h"

/* 1 when path names an ONNX file (ends in .onnx). */
int cli_is_onnx(const char *path);

/* clcnn_model_load_onnx for an ONNX file, else clcnn_model_load. */
int cli_load_model(clcnn_ctx *ctx, clcnn_model **out, const char *path);

#endif
