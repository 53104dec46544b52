/* Image folders (torchvision's ImageFolder layout): DIR/train/<class>/ of
 * .png or .jpg images, and optionally DIR/test/<class>/...; classes are the
 * folder names in byte order, every image of one size and channel count. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "data/image.h"

/* What a split may hold at most: the IDX loader's limit on pixel bytes. */
#define FOLDER_MAX_BYTES ((size_t)1 << 31)
#define FOLDER_MAX_FILES ((size_t)1 << 24)

/* A list of names, each a block of its own. */
typedef struct name_list {
    char **items;
    size_t count, cap;
} name_list;

static void names_free(const clcnn_allocator *a, name_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        clcnn_mem_free(a, l->items[i], strlen(l->items[i]) + 1);
    clcnn_mem_free(a, l->items, l->cap * sizeof *l->items);
    memset(l, 0, sizeof *l);
}

static int names_add(clcnn_ctx *ctx, name_list *l, const char *s, const char *where)
{
    const clcnn_allocator *a = clcnn_ctx_allocator(ctx);
    if (l->count == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        char **n = clcnn_mem_realloc(a, l->items, l->cap * sizeof *n, ncap * sizeof *n);
        if (!n)
            return clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory listing the folder", where);
        l->items = n;
        l->cap = ncap;
    }
    size_t len = strlen(s) + 1;
    char *copy = clcnn_mem_alloc(a, len);
    if (!copy)
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory listing the folder", where);
    memcpy(copy, s, len);
    l->items[l->count++] = copy;
    return CLCNN_OK;
}

static int by_bytes(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* "dir/name" into buf (of room len); CLCNN_ERR_IO when it does not fit. */
static int join(clcnn_ctx *ctx, char *buf, size_t len, const char *dir, const char *name)
{
    int n = snprintf(buf, len, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= len)
        return clcnn_error(ctx, CLCNN_ERR_IO, "%s/%s: the path is too long", dir, name);
    return CLCNN_OK;
}

static int is_image_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (!strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg"));
}

/* The entries of dir, sorted, that are directories (want_dirs) or image
 * files by their names; hidden entries (".*") are left out. */
static int list_dir(clcnn_ctx *ctx, const char *dir, int want_dirs, name_list *out)
{
    DIR *d = opendir(dir);
    if (!d)
        return clcnn_error(ctx, CLCNN_ERR_IO, "%s: cannot open the folder", dir);
    int st = CLCNN_OK;
    struct dirent *e;
    char path[4096];
    while (st == CLCNN_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        struct stat sb;
        if ((st = join(ctx, path, sizeof path, dir, e->d_name)))
            break;
        if (stat(path, &sb) != 0)
            continue; /* a dangling link: not an entry to read */
        if (want_dirs ? S_ISDIR(sb.st_mode) : (S_ISREG(sb.st_mode) && is_image_name(e->d_name))) {
            if (out->count >= FOLDER_MAX_FILES)
                st = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: more than %zu entries", dir, FOLDER_MAX_FILES);
            else
                st = names_add(ctx, out, e->d_name, dir);
        }
    }
    closedir(d);
    if (st == CLCNN_OK && out->count)
        qsort(out->items, out->count, sizeof *out->items, by_bytes);
    return st;
}

/* Label of class folder name: its index in the training classes (given
 * when loading test/), or among the split's own. */
static int class_label(const class_names *train, const name_list *own, size_t k)
{
    if (!train)
        return (int)k;
    for (size_t i = 0; i < train->count; i++)
        if (!strcmp(train->names[i], own->items[k]))
            return (int)i;
    return -1;
}

/* One split: split_dir/<class>/<image>.  With train non-NULL (test/), every
 * class must be one of the training set's, and the images its size. */
static int load_split(clcnn_ctx *ctx, const char *split_dir, const clcnn_dataset *train, clcnn_dataset **out)
{
    const clcnn_allocator *a = clcnn_ctx_allocator(ctx);
    name_list classes = {0}, *files = NULL;
    clcnn_dataset *ds = NULL;
    image_data im = {0};
    char path[4096], first[4096] = "";
    int st = list_dir(ctx, split_dir, 1, &classes);
    if (st == CLCNN_OK && classes.count == 0)
        st = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: no class folders (the layout is %s/<class>/<image>.png|jpg)",
                         split_dir, split_dir);
    if (st == CLCNN_OK && classes.count > CLCNN_MAX_LABEL + 1)
        st = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: %zu class folders, more than the %d clcnn takes", split_dir,
                         classes.count, CLCNN_MAX_LABEL + 1);
    if (st == CLCNN_OK && !(files = clcnn_mem_calloc(a, classes.count, sizeof *files)))
        st = clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory", split_dir);
    size_t total = 0;
    for (size_t k = 0; st == CLCNN_OK && k < classes.count; k++) {
        if ((st = join(ctx, path, sizeof path, split_dir, classes.items[k])))
            break;
        if ((st = clcnn_class_name_valid(ctx, CLCNN_ERR_FORMAT, path, classes.items[k], strlen(classes.items[k]))))
            break;
        if (train && class_label(&train->names, &classes, k) < 0) {
            st = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: class '%s' is not one of the training set's", path,
                             classes.items[k]);
            break;
        }
        if ((st = list_dir(ctx, path, 0, &files[k])))
            break;
        if (files[k].count == 0 && !train) {
            st = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: no .png or .jpg images in the class folder", path);
            break;
        }
        total += files[k].count;
        if (total > FOLDER_MAX_FILES)
            st = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: more than %zu images", split_dir, FOLDER_MAX_FILES);
    }
    if (st == CLCNN_OK && total == 0)
        st = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: no .png or .jpg images in its class folders", split_dir);
    size_t done = 0, per = 0;
    for (size_t k = 0; st == CLCNN_OK && k < classes.count; k++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", split_dir, classes.items[k]); /* fits: checked above */
        for (size_t i = 0; st == CLCNN_OK && i < files[k].count; i++) {
            if ((st = join(ctx, path, sizeof path, dir, files[k].items[i])) || (st = clcnn_image_read(ctx, path, &im)))
                break;
            if (!ds) {
                size_t want_h = train ? train->h : im.h, want_w = train ? train->w : im.w;
                size_t want_c = train ? train->c : im.c;
                if (im.h == want_h && im.w == want_w && im.c == want_c) {
                    if (im.h * im.w * im.c > FOLDER_MAX_BYTES / total)
                        st = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: %zu images of %zux%zux%zu, more than %zu bytes",
                                         split_dir, total, im.h, im.w, im.c, FOLDER_MAX_BYTES);
                    else
                        st = clcnn_dataset_alloc(ctx, a, split_dir, &ds, total, im.h, im.w, im.c, DATASET_U8);
                    per = im.h * im.w * im.c;
                    snprintf(first, sizeof first, "%s", path);
                }
                if (st)
                    break;
            }
            if (!ds || im.h != ds->h || im.w != ds->w || im.c != ds->c) {
                const clcnn_dataset *want = ds ? ds : train; /* no ds yet: test/ against train/ */
                st = clcnn_error(ctx, CLCNN_ERR_FORMAT,
                                 "%s: the image is %zux%zu %s, %s%s%s %zux%zu %s "
                                 "(every image must be one size, all "
                                 "grey or all colour)",
                                 path, im.w, im.h, im.c == 1 ? "grey" : "colour", ds ? "the first (" : "",
                                 ds ? first : "the training images are", ds ? ") is" : "", want->w, want->h,
                                 want->c == 1 ? "grey" : "colour");
                break;
            }
            memcpy(ds->u8 + done * per, im.px, per);
            ds->labels[done++] = class_label(train ? &train->names : NULL, &classes, k);
            clcnn_image_free(ctx, &im);
        }
    }
    clcnn_image_free(ctx, &im);
    if (st == CLCNN_OK) {
        clcnn_dataset_update_classes(ds);
        if (train)
            st = clcnn_class_names_set(ctx, a, CLCNN_ERR_FORMAT, split_dir, &ds->names, train->names.names, NULL,
                                       train->names.count);
        else
            st = clcnn_class_names_set(ctx, a, CLCNN_ERR_FORMAT, split_dir, &ds->names,
                                       (const char *const *)classes.items, NULL, classes.count);
    }
    for (size_t k = 0; files && k < classes.count; k++)
        names_free(a, &files[k]);
    clcnn_mem_free(a, files, classes.count * sizeof *files);
    names_free(a, &classes);
    if (st) {
        clcnn_dataset_free(ds);
        return st;
    }
    *out = ds;
    return CLCNN_OK;
}

int clcnn_image_folder_is(const char *dir)
{
    char path[4096];
    struct stat sb;
    int n = snprintf(path, sizeof path, "%s/train", dir);
    return n > 0 && (size_t)n < sizeof path && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int clcnn_image_folder_load(clcnn_ctx *ctx, const char *dir, clcnn_dataset **train, clcnn_dataset **test)
{
    char path[4096];
    int st = join(ctx, path, sizeof path, dir, "train");
    if (st || (st = load_split(ctx, path, NULL, train)))
        return st;
    struct stat sb;
    if ((st = join(ctx, path, sizeof path, dir, "test")) == CLCNN_OK && stat(path, &sb) == 0 && test) {
        if (!S_ISDIR(sb.st_mode))
            st = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: not a folder", path);
        else
            st = load_split(ctx, path, *train, test);
    }
    if (st) {
        clcnn_dataset_free(*train);
        *train = NULL;
    }
    return st;
}

int clcnn_dataset_load_image(clcnn_ctx *ctx, clcnn_dataset **out, const char *path)
{
    if (!out || !path)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_dataset_load_image: out and path must not be NULL");
    *out = NULL;
    image_data im;
    int st = clcnn_image_read(ctx, path, &im);
    clcnn_dataset *ds = NULL;
    if (st == CLCNN_OK && (st = clcnn_dataset_alloc(ctx, clcnn_ctx_allocator(ctx), path, &ds, 1, im.h, im.w, im.c,
                                                    DATASET_U8)) == CLCNN_OK) {
        memcpy(ds->u8, im.px, im.size);
        ds->labels[0] = 0;
        clcnn_dataset_update_classes(ds);
        *out = ds;
    }
    clcnn_image_free(ctx, &im);
    return st;
}
