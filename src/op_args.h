/* Argument checks and output handling that the public operations share
 * (src/ops.c's static copies of the same three can move here). */
#ifndef CLCNN_OP_ARGS_H
#define CLCNN_OP_ARGS_H

#include "internal.h"

/* t present, of ctx, and (rank > 0) of that rank; messages name who and
 * the argument. */
int clcnn_op_check_tensor(clcnn_ctx *ctx, const char *who, const char *name, const clcnn_tensor *t, int rank);

/* A known clcnn_activation. */
int clcnn_op_check_activation(clcnn_ctx *ctx, const char *who, clcnn_activation act);

/* Frees *out and sets it to NULL when st is a failure and the operation
 * created *out (clcnn_tensor_prepare's created flag); returns st. */
int clcnn_op_discard_on_failure(int st, int created, clcnn_tensor **out);

/* The n outputs of a backward operation: each one wanted (outs[i] not
 * NULL) is prepared with the shape of likes[i] (clcnn_tensor_prepare);
 * created[i] says which the call made.  Stops at the first failure. */
int clcnn_op_prepare_like(clcnn_ctx *ctx, const char *who, int n, clcnn_tensor **const *outs,
                          const clcnn_tensor *const *likes, int *created);

/* clcnn_op_discard_on_failure for each of the n outputs; returns st. */
int clcnn_op_discard_all_on_failure(int st, int n, clcnn_tensor **const *outs, const int *created);

#endif
