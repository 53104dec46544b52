/* Private layout of clcnn_dataset and the loaders' shared helpers. */
#ifndef CLCNN_DATASET_H
#define CLCNN_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "class_names.h"
#include "internal.h"

/*
 * A labelled image set held in host memory.
 *
 * Pixels are stored once, contiguous, NHWC (count, h, w, c), in exactly one
 * of two forms, so that the training engine can upload the whole set to the
 * device in its source form and convert there:
 *   u8  — bytes as read from an IDX or a uint8 .npy; the value is u8[i]/255;
 *   f32 — floats already in [0, 1].
 * The other pointer is NULL.  Both hold count*h*w*c elements (no padding).
 * labels holds count class ids in [0, classes); classes is 1 + the largest
 * label (0 for an empty set).  The arrays are owned by the data set and come
 * from its allocator (a copy of the hook of the context that made it), to
 * which clcnn_dataset_free gives them back: their blocks may be larger than
 * count needs (a shrink that could not be had, a file's buffer taken over),
 * so their sizes are kept.
 */
struct clcnn_dataset {
    size_t count, h, w, c;
    uint8_t *u8;
    float *f32;
    int32_t *labels;
    int classes;
    clcnn_allocator allocator;
    size_t pixels_size, labels_size; /* bytes of the blocks of u8 or f32, labels */
    class_names names;               /* none, or at least one per class */
};

/* Labels must lie in [0, CLCNN_MAX_LABEL]. */
#define CLCNN_MAX_LABEL 255

/* What clcnn_dataset_alloc makes the pixels. */
typedef enum dataset_pixels {
    DATASET_F32,
    DATASET_U8,
    DATASET_U8_ADOPT /* none: the caller hands a block over to u8 (and sets pixels_size) */
} dataset_pixels;

/* A data set of the given geometry with room for count examples (contents
 * uninitialised), its memory from a (NULL: malloc); messages go to ctx.
 * Checks the sizes for overflow. */
int clcnn_dataset_alloc(clcnn_ctx *ctx, const clcnn_allocator *a, const char *name, clcnn_dataset **out,
                        size_t count, size_t h, size_t w, size_t c, dataset_pixels pixels);

/* Sets ds->classes from its labels. */
void clcnn_dataset_update_classes(clcnn_dataset *ds);

/* Reads a whole file (raw or gzip, decided by its first two bytes 1f 8b)
 * into a block of *len bytes from ctx's allocator, as clcnn_read_file; at
 * most max_bytes after decompression.  A missing file is
 * CLCNN_ERR_IO with "does not exist". */
int clcnn_read_maybe_gzip(clcnn_ctx *ctx, const char *path, size_t max_bytes, unsigned char **bytes, size_t *len);

/* Fails with CLCNN_ERR_IO "<path>: does not exist" when path is absent;
 * *is_dir tells whether it is a directory (is_dir may be NULL). */
int clcnn_path_check(clcnn_ctx *ctx, const char *path, int *is_dir);

/* The .npz loader behind clcnn_data_load (src/data/npz.c). */
int clcnn_npz_load(clcnn_ctx *ctx, const char *path, clcnn_dataset **train, clcnn_dataset **valid,
                   clcnn_dataset **test);

/* The IDX-directory loader behind clcnn_data_load (src/data/idx.c). */
int clcnn_idx_dir_load(clcnn_ctx *ctx, const char *dir, clcnn_dataset **train, clcnn_dataset **test);

#endif
