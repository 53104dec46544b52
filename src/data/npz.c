/* .npz archives in the MNIST.npz layout: X_train.npy/Y_train.npy, and
 * optionally X_valid/Y_valid, X_test/Y_test and class_names.npy. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "data/dataset.h"
#include "data/zip.h"
#include "io.h"
#include "data/npy.h"
#include "bytes.h"

#define NPZ_MAX_MEMBER_BYTES ((size_t)1 << 31)

static const char *dtype_name(npy_dtype t)
{
    switch (t) {
    case NPY_F32: return "float32";
    case NPY_F64: return "float64";
    case NPY_U8: return "uint8";
    case NPY_I32: return "int32";
    case NPY_I64: return "int64";
    case NPY_BYTES: return "bytes";
    case NPY_UCS4: return "str";
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
    if (y->dtype == NPY_BYTES || y->dtype == NPY_UCS4)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: labels of dtype %s are not supported (use integer class ids)",
                           name, dtype_name(y->dtype));
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

/* Element i of a string array as UTF-8 into buf (at least
 * CLCNN_CLASS_NAME_MAX + 4 bytes), without numpy's trailing NUL padding;
 * *len its length, CLCNN_CLASS_NAME_MAX + 1 when it is longer than that. */
static int string_element(clcnn_ctx *ctx, const char *who, const npy_array *a, size_t i, char *buf, size_t *len)
{
    const unsigned char *p = a->data + i * a->itemsize;
    size_t n = a->itemsize, o = 0;
    if (a->dtype == NPY_BYTES) {
        while (n > 0 && p[n - 1] == 0)
            n--;
        *len = n > CLCNN_CLASS_NAME_MAX ? CLCNN_CLASS_NAME_MAX + 1 : n;
        memcpy(buf, p, *len);
        return CLCNN_OK;
    }
    n /= 4;
    while (n > 0 && get_le32(p + 4 * (n - 1)) == 0)
        n--;
    for (size_t k = 0; k < n && o <= CLCNN_CLASS_NAME_MAX; k++) {
        uint32_t cp = get_le32(p + 4 * k);
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s holds U+%04X, which is not a Unicode character", who,
                               (unsigned)cp);
        if (cp < 0x80) {
            buf[o++] = (char)cp;
        } else if (cp < 0x800) {
            buf[o++] = (char)(0xc0 | cp >> 6);
            buf[o++] = (char)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            buf[o++] = (char)(0xe0 | cp >> 12);
            buf[o++] = (char)(0x80 | (cp >> 6 & 0x3f));
            buf[o++] = (char)(0x80 | (cp & 0x3f));
        } else {
            buf[o++] = (char)(0xf0 | cp >> 18);
            buf[o++] = (char)(0x80 | (cp >> 12 & 0x3f));
            buf[o++] = (char)(0x80 | (cp >> 6 & 0x3f));
            buf[o++] = (char)(0x80 | (cp & 0x3f));
        }
    }
    *len = o > CLCNN_CLASS_NAME_MAX ? CLCNN_CLASS_NAME_MAX + 1 : o;
    return CLCNN_OK;
}

/* class_names.npy, when the archive has it: a name per class (a 1-D
 * string array, '<U' or '|S'), given to every split loaded. */
static int npz_class_names(clcnn_ctx *ctx, const clcnn_zip *zip, clcnn_dataset *const *splits, size_t nsplits)
{
    static const char member[] = "class_names.npy";
    char who[4200];
    snprintf(who, sizeof who, "%s:%s", zip->path, member);
    unsigned char *b = NULL;
    size_t len = 0;
    int found = 0;
    int st = clcnn_zip_extract(ctx, zip, member, NPZ_MAX_MEMBER_BYTES, &b, &len, &found);
    if (st || !found)
        return st;
    npy_array a;
    const char **names = NULL;
    size_t *lens = NULL;
    char *text = NULL;
    st = clcnn_npy_parse(ctx, who, b, len, &a);
    if (!st && a.dtype != NPY_BYTES && a.dtype != NPY_UCS4)
        st = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: class names of dtype %s are not supported (use strings: '<U' or "
                         "'|S')", who, dtype_name(a.dtype));
    if (!st && (a.rank != 1 || a.count == 0 || a.count > CLCNN_MAX_CLASS_NAMES))
        st = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: must hold 1 to %d names, in shape (n,)", who,
                         CLCNN_MAX_CLASS_NAMES);
    for (size_t k = 0; !st && k < nsplits; k++)
        if (splits[k] && (size_t)splits[k]->classes > a.count)
            st = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: %zu names, but the labels go up to %d", who, a.count,
                             splits[k]->classes - 1);
    const size_t room = CLCNN_CLASS_NAME_MAX + 4;
    if (!st) {
        names = clcnn_mem_array(clcnn_ctx_allocator(ctx), a.count, sizeof *names);
        lens = clcnn_mem_array(clcnn_ctx_allocator(ctx), a.count, sizeof *lens);
        text = clcnn_mem_array(clcnn_ctx_allocator(ctx), a.count, room);
        if (!names || !lens || !text)
            st = clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory", who);
    }
    for (size_t i = 0; !st && i < a.count; i++) {
        char what[4300];
        snprintf(what, sizeof what, "%s: class name %zu", who, i + 1);
        names[i] = text + i * room;
        st = string_element(ctx, what, &a, i, text + i * room, &lens[i]);
    }
    for (size_t k = 0; !st && k < nsplits; k++)
        if (splits[k])
            st = clcnn_class_names_set(ctx, &splits[k]->allocator, CLCNN_ERR_FORMAT, who, &splits[k]->names, names,
                                       lens, a.count);
    clcnn_mem_free(clcnn_ctx_allocator(ctx), (void *)names, names ? a.count * sizeof *names : 0);
    clcnn_mem_free(clcnn_ctx_allocator(ctx), lens, lens ? a.count * sizeof *lens : 0);
    clcnn_mem_free(clcnn_ctx_allocator(ctx), text, text ? a.count * room : 0);
    clcnn_mem_free(clcnn_ctx_allocator(ctx), b, len);
    return st;
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
    if (!st) {
        clcnn_dataset *const splits[3] = {*train, valid ? *valid : NULL, test ? *test : NULL};
        st = npz_class_names(ctx, &zip, splits, 3);
    }
    clcnn_mem_free(clcnn_ctx_allocator(ctx), bytes, len);
    if (st) {
        clcnn_dataset_free(*train);
        *train = NULL;
        clcnn_dataset **others[2] = {valid, test};
        for (int k = 0; k < 2; k++)
            if (others[k]) {
                clcnn_dataset_free(*others[k]);
                *others[k] = NULL;
            }
    }
    return st;
}
