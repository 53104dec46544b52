/* Argument checks shared by the public operations of every family. */
#ifndef CLCNN_OPS_ARGS_H
#define CLCNN_OPS_ARGS_H

#include "internal.h"

/* t present, of ctx, and (rank > 0) of that rank; messages name who and
 * the argument. */
int clcnn_check_tensor(clcnn_ctx *ctx, const char *who, const char *name, const clcnn_tensor *t, int rank);

/* t has rank 4 and exactly this shape. */
int clcnn_same_shape(const clcnn_tensor *t, const size_t *shape);

/* Frees an output the operation created (created set) when st is an error,
 * and sets *out to NULL; returns st. */
int clcnn_discard_on_failure(int st, int created, clcnn_tensor **out);

/* The n outputs of a backward operation: each one wanted (outs[i] not
 * NULL) is prepared with the shape of likes[i] (clcnn_tensor_prepare);
 * created[i] says which the call made.  Stops at the first failure. */
int clcnn_prepare_like(clcnn_ctx *ctx, const char *who, int n, clcnn_tensor **const *outs,
                       const clcnn_tensor *const *likes, int *created);

/* clcnn_discard_on_failure for each of the n outputs; returns st. */
int clcnn_discard_all_on_failure(int st, int n, clcnn_tensor **const *outs, const int *created);

#endif
