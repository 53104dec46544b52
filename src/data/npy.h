/* Internal .npy parsing, shared by the .npy API and the .npz reader. */
#ifndef CLCNN_NPY_H
#define CLCNN_NPY_H

#include <stddef.h>

#include "internal.h"

typedef enum npy_dtype { NPY_F32, NPY_F64, NPY_U8, NPY_I32, NPY_I64 } npy_dtype;

typedef struct npy_array {
    npy_dtype dtype;
    int rank; /* 0..CLCNN_MAX_RANK */
    size_t shape[CLCNN_MAX_RANK];
    size_t count;              /* product of shape (1 for rank 0) */
    const unsigned char *data; /* count elements, little-endian, inside the parsed bytes */
} npy_array;

/* Parses a whole .npy held in memory (bytes stays owned by the caller and
 * must outlive out).  name is used in messages (a file or archive member). */
int clcnn_npy_parse(clcnn_ctx *ctx, const char *name, const unsigned char *bytes, size_t len, npy_array *out);

/* Element i converted to double. */
double clcnn_npy_get(const npy_array *a, size_t i);

#endif
