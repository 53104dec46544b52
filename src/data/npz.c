/* .npz archives in the MNIST.npz layout: X_train.npy/Y_train.npy, and
 * optionally X_valid/Y_valid and X_test/Y_test. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "data/dataset.h"
#include "data/zip.h"
#include "io.h"
#include "data/npy.h"

#define NPZ_MAX_MEMBER_BYTES ((size_t)1 << 31)

static const char *dtype_name(npy_dtype t)
{
    switch (t) {
    case NPY_F32: return "float32";
    case NPY_F64: return "float64";
    case NPY_U8: return "uint8";
    case NPY_I32: return "int32";
    case NPY_I64: return "int64";
    }
    return "unknown";
}

/* Checks the images array and copies it into a new data set. */
static int npz_images(clcnn_ctx *ctx, const char *name, const npy_array *x, clcnn_dataset **out)
{
    if (x->rank != 3 && x->rank != 4)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: images must have shape (n,h,w) or (n,h,w,c), not rank %d", name,
                           x->rank);
    size_t c = x->rank == 4 ? x->shape[3] : 1;
    if (x->shape[0] == 0 || x->shape[1] == 0 || x->shape[2] == 0 || c == 0)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: holds no images (shape %zux%zux%zux%zu)", name, x->shape[0],
                           x->shape[1], x->shape[2], c);
    int is_u8 = x->dtype == NPY_U8;
    if (!is_u8 && x->dtype != NPY_F32 && x->dtype != NPY_F64)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: images of dtype %s are not supported (use uint8, float32 or "
                           "float64)", name, dtype_name(x->dtype));
    clcnn_dataset *ds = NULL;
    int st = clcnn_dataset_alloc(ctx, clcnn_ctx_allocator(ctx), name, &ds, x->shape[0], x->shape[1], x->shape[2], c,
                                 is_u8 ? DATASET_U8 : DATASET_F32);
    if (st)
        return st;
    if (is_u8) {
        memcpy(ds->u8, x->data, x->count);
    } else {
        for (size_t i = 0; i < x->count; i++) {
            double v = clcnn_npy_get(x, i);
            if (!(v >= 0.0 && v <= 1.0)) { /* also catches NaN */
                clcnn_dataset_free(ds);
                return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: pixel %zu is %g, outside [0, 1]", name, i, v);
            }
            ds->f32[i] = (float)v;
        }
    }
    *out = ds;
    return CLCNN_OK;
}

static int npz_labels(clcnn_ctx *ctx, const char *name, const npy_array *y, clcnn_dataset *ds)
{
    if (y->rank != 1)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: labels must have shape (n,), not rank %d", name, y->rank);
    if (y->shape[0] != ds->count)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: %zu labels for %zu images", name, y->shape[0], ds->count);
    for (size_t i = 0; i < y->count; i++) {
        double v = clcnn_npy_get(y, i);
        if (!(v >= 0.0 && v <= CLCNN_MAX_LABEL && v == floor(v)))
            return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: label %zu is %g, not a class id in [0, %d]", name, i, v,
                               CLCNN_MAX_LABEL);
        ds->labels[i] = (int32_t)v;
    }
    clcnn_dataset_update_classes(ds);
    return CLCNN_OK;
}

/* Loads X_<split>.npy with Y_<split>.npy; *out stays NULL when neither is
 * there (an error when required). */
static int npz_split(clcnn_ctx *ctx, const clcnn_zip *zip, const char *split, int required, clcnn_dataset **out)
{
    char xm[32], ym[32], xname[4200], yname[4200];
    snprintf(xm, sizeof xm, "X_%s.npy", split);
    snprintf(ym, sizeof ym, "Y_%s.npy", split);
    snprintf(xname, sizeof xname, "%s:%s", zip->path, xm);
    snprintf(yname, sizeof yname, "%s:%s", zip->path, ym);
    unsigned char *xb = NULL, *yb = NULL;
    size_t xl = 0, yl = 0;
    int xf = 0, yf = 0;
    npy_array x, y;
    memset(&x, 0, sizeof x);
    memset(&y, 0, sizeof y);
    clcnn_dataset *ds = NULL;
    int st = clcnn_zip_extract(ctx, zip, xm, NPZ_MAX_MEMBER_BYTES, &xb, &xl, &xf);
    if (!st)
        st = clcnn_zip_extract(ctx, zip, ym, NPZ_MAX_MEMBER_BYTES, &yb, &yl, &yf);
    if (!st && !xf && !yf && required)
        st = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: has no member %s (an MNIST.npz layout needs X_train.npy and "
                         "Y_train.npy)", zip->path, xm);
    else if (!st && xf != yf)
        st = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: has %s but no member %s", zip->path, xf ? xm : ym,
                         xf ? ym : xm);
    if (!st && xf) {
        st = clcnn_npy_parse(ctx, xname, xb, xl, &x);
        if (!st)
            st = npz_images(ctx, xname, &x, &ds);
        clcnn_mem_free(clcnn_ctx_allocator(ctx), xb, xl);
        xb = NULL;
        if (!st)
            st = clcnn_npy_parse(ctx, yname, yb, yl, &y);
        if (!st)
            st = npz_labels(ctx, yname, &y, ds);
    }
    clcnn_mem_free(clcnn_ctx_allocator(ctx), xb, xl);
    clcnn_mem_free(clcnn_ctx_allocator(ctx), yb, yl);
    if (st) {
        clcnn_dataset_free(ds);
        return st;
    }
    *out = ds;
    return CLCNN_OK;
}

int clcnn_npz_load(clcnn_ctx *ctx, const char *path, clcnn_dataset **train, clcnn_dataset **valid,
                   clcnn_dataset **test)
{
    unsigned char *bytes = NULL;
    size_t len = 0;
    clcnn_zip zip;
    int st = clcnn_read_file(ctx, path, CLCNN_READ_ANY_SIZE, &bytes, &len);
    if (st)
        return st;
    st = clcnn_zip_open(ctx, path, bytes, len, &zip);
    if (!st)
        st = npz_split(ctx, &zip, "train", 1, train);
    if (!st && valid)
        st = npz_split(ctx, &zip, "valid", 0, valid);
    if (!st && test)
        st = npz_split(ctx, &zip, "test", 0, test);
    clcnn_mem_free(clcnn_ctx_allocator(ctx), bytes, len);
    if (st) {
        clcnn_dataset_free(*train);
        *train = NULL;
        if (valid) {
            clcnn_dataset_free(*valid);
            *valid = NULL;
        }
    }
    return st;
}
