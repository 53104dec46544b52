/* Argument checks shared by the public operations of every family. */
#ifndef CLCNN_OPS_ARGS_H
#define CLCNN_OPS_ARGS_H

#include "internal.h"

/* t present, of ctx, and of rank 4 (NHWC); messages name who and name. */
int clcnn_check_input(clcnn_ctx *ctx, const char *who, const char *name, const clcnn_tensor *t);

/* t has rank 4 and exactly this shape. */
int clcnn_same_shape(const clcnn_tensor *t, const size_t *shape);

/* Frees an output the operation created (created set) when st is an error,
 * and sets *out to NULL; returns st. */
int clcnn_discard_on_failure(int st, int created, clcnn_tensor **out);

#endif
