/* clcnn_dataset: creation, splitting, access, and the clcnn_data_load entry. */
#include "data/dataset.h"
#include "data/image.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

int clcnn_path_check(clcnn_ctx *ctx, const char *path, int *is_dir)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return clcnn_error(ctx, CLCNN_ERR_IO, "%s: does not exist", path);
        return clcnn_error(ctx, CLCNN_ERR_IO, "%s: %s", path, strerror(errno));
    }
    if (is_dir)
        *is_dir = S_ISDIR(st.st_mode) ? 1 : 0;
    return CLCNN_OK;
}

int clcnn_dataset_alloc(clcnn_ctx *ctx, const clcnn_allocator *a, const char *name, clcnn_dataset **out,
                        size_t count, size_t h, size_t w, size_t c, dataset_pixels pixels)
{
    int ovf = 0;
    size_t n = clcnn_mul_size(clcnn_mul_size(clcnn_mul_size(count, h, &ovf), w, &ovf), c, &ovf);
    size_t bytes = clcnn_mul_size(n, pixels == DATASET_F32 ? sizeof(float) : 1, &ovf);
    size_t label_bytes = clcnn_mul_size(count, sizeof(int32_t), &ovf);
    if (ovf)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: %zu images of %zux%zux%zu do not fit in memory", name, count,
                           h, w, c);
    clcnn_dataset *ds = clcnn_mem_calloc(a, 1, sizeof *ds);
    if (!ds)
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory", name);
    if (a)
        ds->allocator = *a;
    ds->count = count;
    ds->h = h;
    ds->w = w;
    ds->c = c;
    void *px = NULL;
    if (pixels == DATASET_U8)
        px = ds->u8 = clcnn_mem_alloc(a, bytes);
    else if (pixels == DATASET_F32)
        px = ds->f32 = clcnn_mem_alloc(a, bytes);
    ds->pixels_size = px ? bytes : 0;
    ds->labels = clcnn_mem_alloc(a, label_bytes);
    ds->labels_size = ds->labels ? label_bytes : 0;
    if ((pixels != DATASET_U8_ADOPT && !px) || !ds->labels) {
        clcnn_dataset_free(ds);
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory for %zu images of %zux%zux%zu", name, count, h, w,
                           c);
    }
    *out = ds;
    return CLCNN_OK;
}

void clcnn_dataset_update_classes(clcnn_dataset *ds)
{
    int32_t max = -1;
    for (size_t i = 0; i < ds->count; i++)
        if (ds->labels[i] > max)
            max = ds->labels[i];
    ds->classes = (int)max + 1;
}

int clcnn_dataset_create(clcnn_ctx *ctx, clcnn_dataset **out, size_t count, size_t h, size_t w, size_t c,
                         const float *images, const int32_t *labels)
{
    if (!out || !images || !labels)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_dataset_create: out, images and labels must not be NULL");
    *out = NULL;
    if (!count || !h || !w || !c)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT,
                           "clcnn_dataset_create: count and shape must be positive (got %zu images of %zux%zux%zu)",
                           count, h, w, c);
    clcnn_dataset *ds = NULL; /* allocating first also checks the sizes */
    int st = clcnn_dataset_alloc(ctx, clcnn_ctx_allocator(ctx), "clcnn_dataset_create", &ds, count, h, w, c,
                                 DATASET_F32);
    if (st)
        return st == CLCNN_ERR_FORMAT ? CLCNN_ERR_ARGUMENT : st;
    for (size_t i = 0; i < count; i++)
        if (labels[i] < 0 || labels[i] > CLCNN_MAX_LABEL) {
            clcnn_dataset_free(ds);
            return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_dataset_create: label %zu is %d, not in [0, %d]", i,
                               (int)labels[i], CLCNN_MAX_LABEL);
        }
    size_t n = count * h * w * c;
    for (size_t i = 0; i < n; i++) {
        float v = images[i];
        if (!(v >= 0.0f && v <= 1.0f)) { /* also catches NaN */
            clcnn_dataset_free(ds);
            return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_dataset_create: pixel %zu is %g, not in [0, 1]", i,
                               (double)v);
        }
    }
    memcpy(ds->f32, images, n * sizeof(float));
    memcpy(ds->labels, labels, count * sizeof(int32_t));
    clcnn_dataset_update_classes(ds);
    *out = ds;
    return CLCNN_OK;
}

int clcnn_dataset_split_tail(clcnn_ctx *ctx, clcnn_dataset *ds, size_t tail_count, clcnn_dataset **tail)
{
    if (!ds || !tail)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_dataset_split_tail: ds and tail must not be NULL");
    *tail = NULL;
    if (tail_count == 0 || tail_count >= ds->count)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT,
                           "clcnn_dataset_split_tail: cannot move %zu of %zu examples (both parts must be non-empty)",
                           tail_count, ds->count);
    clcnn_dataset *t = NULL;
    int st = clcnn_dataset_alloc(ctx, &ds->allocator, "clcnn_dataset_split_tail", &t, tail_count, ds->h, ds->w,
                                 ds->c, ds->u8 ? DATASET_U8 : DATASET_F32);
    if (st)
        return st;
    size_t keep = ds->count - tail_count;
    /* Sizes fit: checked when ds was made. */
    size_t per = ds->h * ds->w * ds->c * (ds->u8 ? 1 : sizeof(float));
    unsigned char *px = ds->u8 ? (unsigned char *)ds->u8 : (unsigned char *)ds->f32;
    memcpy(t->u8 ? (void *)t->u8 : (void *)t->f32, px + keep * per, tail_count * per);
    memcpy(t->labels, ds->labels + keep, tail_count * sizeof(int32_t));
    if ((st = clcnn_class_names_set(ctx, &t->allocator, CLCNN_ERR_ARGUMENT, "clcnn_dataset_split_tail", &t->names,
                                    ds->names.names, NULL, ds->names.count))) {
        clcnn_dataset_free(t);
        return st;
    }
    /* Shrink ds's blocks; one that cannot be had just keeps the larger block. */
    px = clcnn_mem_realloc(&ds->allocator, px, ds->pixels_size, keep * per);
    if (px) {
        ds->pixels_size = keep * per;
        if (ds->u8)
            ds->u8 = px;
        else
            ds->f32 = (float *)(void *)px;
    }
    int32_t *l = clcnn_mem_realloc(&ds->allocator, ds->labels, ds->labels_size, keep * sizeof(int32_t));
    if (l) {
        ds->labels = l;
        ds->labels_size = keep * sizeof(int32_t);
    }
    ds->count = keep;
    clcnn_dataset_update_classes(ds);
    clcnn_dataset_update_classes(t);
    *tail = t;
    return CLCNN_OK;
}

size_t clcnn_dataset_count(const clcnn_dataset *ds)
{
    return ds ? ds->count : 0;
}

void clcnn_dataset_image_shape(const clcnn_dataset *ds, size_t *shape)
{
    if (!shape)
        return;
    shape[0] = ds ? ds->h : 0;
    shape[1] = ds ? ds->w : 0;
    shape[2] = ds ? ds->c : 0;
}

int clcnn_dataset_classes(const clcnn_dataset *ds)
{
    return ds ? ds->classes : 0;
}

int clcnn_dataset_get(clcnn_ctx *ctx, const clcnn_dataset *ds, size_t first, size_t count, float *images,
                      int32_t *labels)
{
    if (!ds)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_dataset_get: ds must not be NULL");
    if (first > ds->count || count > ds->count - first)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT,
                           "clcnn_dataset_get: examples [%zu, %zu + %zu) are outside the %zu of the data set", first,
                           first, count, ds->count);
    size_t per = ds->h * ds->w * ds->c;
    if (images) {
        size_t n = count * per, off = first * per;
        if (ds->u8)
            for (size_t i = 0; i < n; i++)
                images[i] = ds->u8[off + i] / 255.0f;
        else
            memcpy(images, ds->f32 + off, n * sizeof(float));
    }
    if (labels)
        memcpy(labels, ds->labels + first, count * sizeof(int32_t));
    return CLCNN_OK;
}

int clcnn_dataset_set_class_names(clcnn_ctx *ctx, clcnn_dataset *ds, const char *const *names, size_t count)
{
    if (!ds)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_dataset_set_class_names: ds must not be NULL");
    if (count && (count < (size_t)ds->classes || count > CLCNN_MAX_CLASS_NAMES))
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT,
                           "clcnn_dataset_set_class_names: %zu names for a data set of %d classes (at most %d names)",
                           count, ds->classes, CLCNN_MAX_CLASS_NAMES);
    return clcnn_class_names_set(ctx, &ds->allocator, CLCNN_ERR_ARGUMENT, "clcnn_dataset_set_class_names",
                                 &ds->names, names, NULL, count);
}

size_t clcnn_dataset_class_name_count(const clcnn_dataset *ds)
{
    return ds ? ds->names.count : 0;
}

const char *clcnn_dataset_class_name(const clcnn_dataset *ds, size_t i)
{
    return ds ? clcnn_class_names_get(&ds->names, i) : NULL;
}

void clcnn_dataset_free(clcnn_dataset *ds)
{
    if (!ds)
        return;
    const clcnn_allocator a = ds->allocator; /* read before ds's block goes */
    clcnn_mem_free(&a, ds->u8 ? (void *)ds->u8 : (void *)ds->f32, ds->pixels_size);
    clcnn_mem_free(&a, ds->labels, ds->labels_size);
    clcnn_class_names_free(&a, &ds->names);
    clcnn_mem_free(&a, ds, sizeof *ds);
}

int clcnn_data_load(clcnn_ctx *ctx, const char *path, clcnn_dataset **train, clcnn_dataset **valid,
                    clcnn_dataset **test)
{
    if (valid)
        *valid = NULL;
    if (test)
        *test = NULL;
    if (!path || !train)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_data_load: path and train must not be NULL");
    *train = NULL;
    int is_dir = 0;
    int st = clcnn_path_check(ctx, path, &is_dir);
    if (st)
        return st;
    if (is_dir && clcnn_image_folder_is(path))
        return clcnn_image_folder_load(ctx, path, train, test);
    if (is_dir)
        return clcnn_idx_dir_load(ctx, path, train, test);
    return clcnn_npz_load(ctx, path, train, valid, test);
}
