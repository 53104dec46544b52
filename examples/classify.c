/*
 * classify — loads a saved clcnn model (for instance LeNet-5 trained with
 * `clcnn train --save lenet5.model`) and prints the most probable class of
 * each image given on the command line.
 *
 *   classify MODEL IMAGE...
 *
 * An IMAGE is a binary PGM (P5) file with the model's input size, or an IDX
 * image file (t10k-images-idx3-ubyte[.gz]) holding any number of images.
 * One line per image: "PATH[INDEX]: class K (p = 0.9731)".  The device
 * follows CLCNN_DEVICE (default: auto).
 *
 * Build:  cc -o classify classify.c $(pkg-config --cflags --libs clcnn)
 */
#include <clcnn.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Images per clcnn_model_predict call for IDX files. */
#define BATCH 256

/* ---------------------------------------------------------------- PGM (P5) */

/* The next number of a PGM header, skipping white space and # comments;
 * -1 on a malformed header. */
static long pgm_number(FILE *f)
{
    int c = fgetc(f);
    while (c == '#' || isspace(c)) {
        if (c == '#')
            while (c != '\n' && c != EOF)
                c = fgetc(f);
        c = fgetc(f);
    }
    long v = 0;
    if (!isdigit(c))
        return -1;
    while (isdigit(c)) {
        v = v * 10 + (c - '0');
        if (v > 65535)
            return -1;
        c = fgetc(f);
    }
    return isspace(c) ? v : -1; /* exactly one white space ends the header */
}

/* Reads a P5 PGM into *pixels (malloc'd, scaled to [0, 1]).  Returns 0, or
 * -1 with a message in err. */
static int pgm_read(const char *path, float **pixels, size_t *w, size_t *h, char *err, size_t errlen)
{
    *pixels = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open");
        return -1;
    }
    long width, height, maxval;
    if (fgetc(f) != 'P' || fgetc(f) != '5' || (width = pgm_number(f)) <= 0 || (height = pgm_number(f)) <= 0 ||
        (maxval = pgm_number(f)) <= 0) {
        snprintf(err, errlen, "not a binary PGM (P5) image");
        fclose(f);
        return -1;
    }
    size_t n = (size_t)width * (size_t)height;
    float *px = malloc(n * sizeof *px);
    if (!px) {
        snprintf(err, errlen, "out of memory");
        fclose(f);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        int hi = maxval > 255 ? fgetc(f) : 0, lo = fgetc(f);
        if (hi == EOF || lo == EOF) {
            snprintf(err, errlen, "truncated pixel data (%zu of %zu pixels)", i, n);
            free(px);
            fclose(f);
            return -1;
        }
        px[i] = (float)(hi * 256 + lo) / (float)maxval;
    }
    fclose(f);
    *pixels = px;
    *w = (size_t)width;
    *h = (size_t)height;
    return 0;
}

static int is_pgm(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    int ok = fgetc(f) == 'P' && fgetc(f) == '5';
    fclose(f);
    return ok;
}

/* ---------------------------------------------------------------- classify */

/* Prints the top class of each of count images (probs: count x classes). */
static void print_top(const char *path, size_t first, size_t count, const float *probs, size_t classes,
                      int indexed)
{
    for (size_t n = 0; n < count; n++) {
        const float *p = probs + n * classes;
        size_t best = 0;
        for (size_t k = 1; k < classes; k++)
            if (p[k] > p[best])
                best = k;
        if (indexed)
            printf("%s[%zu]: class %zu (p = %.4f)\n", path, first + n, best, (double)p[best]);
        else
            printf("%s: class %zu (p = %.4f)\n", path, best, (double)p[best]);
    }
}

/* Classifies one file; returns 0, or 1 after printing why it failed. */
static int classify_file(clcnn_ctx *ctx, clcnn_model *m, const char *path)
{
    size_t in[3], classes = clcnn_model_classes(m);
    clcnn_model_input_shape(m, in);
    size_t per_image = in[0] * in[1] * in[2];
    float *images = NULL, *probs = NULL;
    clcnn_dataset *ds = NULL;
    int st, ret = 1;

    if (is_pgm(path)) {
        size_t w = 0, h = 0;
        char err[256];
        if (pgm_read(path, &images, &w, &h, err, sizeof err) != 0) {
            fprintf(stderr, "classify: %s: %s\n", path, err);
            goto out;
        }
        if (h != in[0] || w != in[1] || in[2] != 1) {
            fprintf(stderr, "classify: %s: a %zux%zu grey image, but the model takes %zux%zux%zu\n", path, w, h,
                    in[0], in[1], in[2]);
            goto out;
        }
        probs = malloc(classes * sizeof *probs);
        if (!probs) {
            fprintf(stderr, "classify: out of memory\n");
            goto out;
        }
        if ((st = clcnn_model_predict(m, images, 1, probs)) != CLCNN_OK) {
            fprintf(stderr, "classify: %s: %s\n", path, clcnn_errmsg(ctx));
            goto out;
        }
        print_top(path, 0, 1, probs, classes, 0);
        ret = 0;
        goto out;
    }

    /* Anything else should be an IDX image file; no labels are needed. */
    if ((st = clcnn_dataset_load_idx(ctx, &ds, path, NULL)) != CLCNN_OK) {
        fprintf(stderr, "classify: %s\n", clcnn_errmsg(ctx));
        goto out;
    }
    size_t shape[3], count = clcnn_dataset_count(ds);
    clcnn_dataset_image_shape(ds, shape);
    if (memcmp(shape, in, sizeof shape) != 0) {
        fprintf(stderr, "classify: %s: images are %zux%zux%zu, but the model takes %zux%zux%zu\n", path, shape[0],
                shape[1], shape[2], in[0], in[1], in[2]);
        goto out;
    }
    images = malloc(BATCH * per_image * sizeof *images);
    probs = malloc(BATCH * classes * sizeof *probs);
    if (!images || !probs) {
        fprintf(stderr, "classify: out of memory\n");
        goto out;
    }
    for (size_t first = 0; first < count; first += BATCH) {
        size_t n = count - first < BATCH ? count - first : BATCH;
        if ((st = clcnn_dataset_get(ctx, ds, first, n, images, NULL)) != CLCNN_OK ||
            (st = clcnn_model_predict(m, images, n, probs)) != CLCNN_OK) {
            fprintf(stderr, "classify: %s: %s\n", path, clcnn_errmsg(ctx));
            goto out;
        }
        print_top(path, first, n, probs, classes, 1);
    }
    ret = 0;
out:
    clcnn_dataset_free(ds);
    free(images);
    free(probs);
    return ret;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: classify MODEL IMAGE...   (IMAGE: a P5 .pgm, or an IDX image file)\n");
        return 2;
    }
    clcnn_ctx *ctx = NULL;
    clcnn_model *m = NULL;
    /* Like sqlite3_open: a failed context still carries the message. */
    if (clcnn_ctx_create(&ctx, NULL) != CLCNN_OK) {
        fprintf(stderr, "classify: %s\n", ctx ? clcnn_errmsg(ctx) : "out of memory");
        clcnn_ctx_free(ctx);
        return 1;
    }
    if (clcnn_model_load(ctx, &m, argv[1]) != CLCNN_OK) {
        fprintf(stderr, "classify: %s\n", clcnn_errmsg(ctx));
        clcnn_ctx_free(ctx);
        return 1;
    }
    int failures = 0;
    for (int i = 2; i < argc; i++)
        failures += classify_file(ctx, m, argv[i]);
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
    return failures ? 1 : 0;
}
