/* Loading the model a command names, whichever format it is in. */
#ifndef CLCNN_CLI_MODEL_FILE_H
#define CLCNN_CLI_MODEL_FILE_H

#include "clcnn.h"

/* 1 when path names an ONNX file (ends in .onnx). */
int cli_is_onnx(const char *path);

/* clcnn_model_load_onnx for an ONNX file, else clcnn_model_load. */
int cli_load_model(clcnn_ctx *ctx, clcnn_model **out, const char *path);

/* cli_load_model for eval, predict and train --init: a model that ends in
 * logits (a flat layer with no activation, as an ONNX graph without a
 * Softmax) gets a softmax layer, so that it classifies with probabilities
 * and trains with cross-entropy. */
int cli_load_classifier(clcnn_ctx *ctx, clcnn_model **out, const char *path);

#endif
