/* Internal .npy parsing, shared by the .npy API and the .npz reader. */
#ifndef CLCNN_NPY_H
#define CLCNN_NPY_H

#include <stddef.h>

#include "internal.h"

/* NPY_BYTES ('|S<n>', NUL-padded bytes) and NPY_UCS4 ('<U<n>', NUL-padded
 * UTF-32LE) hold strings (an .npz's class names), not numbers. */
typedef enum npy_dtype { NPY_F32, NPY_F64, NPY_U8, NPY_I32, NPY_I64, NPY_BYTES, NPY_UCS4 } npy_dtype;

/* The longest string element accepted, in characters. */
#define NPY_MAX_STRING 65536

typedef struct npy_array {
    npy_dtype dtype;
    int rank; /* 0..CLCNN_MAX_RANK */
    size_t shape[CLCNN_MAX_RANK];
    size_t count;              /* product of shape (1 for rank 0) */
    size_t itemsize;           /* bytes per element */
    const unsigned char *data; /* count elements, little-endian, inside the parsed bytes */
} npy_array;

/* Parses a whole .npy held in memory (bytes stays owned by the caller and
 * must outlive out).  name is used in messages (a file or archive member). */
int clcnn_npy_parse(clcnn_ctx *ctx, const char *name, const unsigned char *bytes, size_t len, npy_array *out);

/* Element i converted to double (0 for a string dtype). */
double clcnn_npy_get(const npy_array *a, size_t i);

#endif
