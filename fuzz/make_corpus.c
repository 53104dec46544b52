/* Writes the seed inputs that cannot be copied from tests/: small models
 * saved with the API (fuzz/corpus/model/) and IDX pairs in the fuzz_idx
 * input layout (fuzz/corpus/idx/).  Run from fuzz/run.sh --make-corpus;
 * its output is committed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "clcnn.h"

static void fail(clcnn_ctx *ctx, const char *what)
{
    fprintf(stderr, "make_corpus: %s: %s\n", what, ctx ? clcnn_errmsg(ctx) : "");
    exit(1);
}

/* Variant 4 is variant 0 with class names (format version 3's section). */
static void save_model(clcnn_ctx *ctx, const char *dir, const char *name, int variant)
{
    clcnn_model *m = NULL;
    if (clcnn_model_create(ctx, &m, variant == 2 ? 1 : 6, variant == 2 ? 1 : 6, variant == 2 ? 5 : 1))
        fail(ctx, name);
    int st = 0;
    if (variant == 0 || variant == 4) {
        st = clcnn_model_add_conv(m, 2, 3, 3, 1, 1, CLCNN_PAD_SAME, CLCNN_ACT_RELU) ||
             clcnn_model_add_pool(m, 2, 2, 2, 2, CLCNN_POOL_MAX) || clcnn_model_add_flatten(m) ||
             clcnn_model_add_dense(m, 3, CLCNN_ACT_SOFTMAX);
    } else if (variant == 3) { /* float fields (lrn) */
        st = clcnn_model_add_conv(m, 3, 3, 3, 1, 1, CLCNN_PAD_SAME, CLCNN_ACT_RELU) ||
             clcnn_model_add_lrn(m, 5, 1e-4f, 0.75f, 2.0f) || clcnn_model_add_flatten(m) ||
             clcnn_model_add_dense(m, 2, CLCNN_ACT_SOFTMAX);
    } else if (variant == 1) {
        st = clcnn_model_add_conv(m, 1, 2, 3, 2, 1, CLCNN_PAD_VALID, CLCNN_ACT_TANH) ||
             clcnn_model_add_pool(m, 2, 2, 1, 1, CLCNN_POOL_AVG) ||
             clcnn_model_add_activation(m, CLCNN_ACT_SIGMOID) || clcnn_model_add_flatten(m) ||
             clcnn_model_add_dense(m, 2, CLCNN_ACT_IDENTITY) || clcnn_model_add_activation(m, CLCNN_ACT_SOFTMAX);
    } else {
        st = clcnn_model_add_flatten(m) || clcnn_model_add_dense(m, 2, CLCNN_ACT_SOFTMAX);
    }
    static const char *const names[3] = {"T-shirt/top", "b\xc3\xa4nd", "the \"third\""};
    if (st || clcnn_model_init(m, 7) || (variant == 4 && clcnn_model_set_class_names(m, names, 3)))
        fail(ctx, name);
    char path[1024];
    snprintf(path, sizeof path, "%s/model/%s", dir, name);
    if (clcnn_model_save(m, path))
        fail(ctx, path);
    clcnn_model_free(m);
}

/* The fuzz_idx layout: u16le images length, images, labels. */
static void save_idx(const char *dir, const char *name, const unsigned char *im, size_t il, const unsigned char *lb,
                     size_t ll)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/idx/%s", dir, name);
    FILE *f = fopen(path, "wb");
    unsigned char len[2] = {(unsigned char)(il & 0xff), (unsigned char)(il >> 8)};
    if (!f || fwrite(len, 1, 2, f) != 2 || fwrite(im, 1, il, f) != il || fwrite(lb, 1, ll, f) != ll || fclose(f))
        fail(NULL, path);
}

static size_t gzip_bytes(const unsigned char *in, size_t n, unsigned char *out, size_t cap)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        fail(NULL, "deflateInit2");
    zs.next_in = (unsigned char *)in;
    zs.avail_in = (unsigned)n;
    zs.next_out = out;
    zs.avail_out = (unsigned)cap;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
        fail(NULL, "deflate");
    size_t got = zs.total_out;
    deflateEnd(&zs);
    return got;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_corpus DIR (with DIR/model and DIR/idx)\n");
        return 2;
    }
    clcnn_ctx *ctx = NULL;
    if (clcnn_ctx_create_with_log(&ctx, "cpu", NULL, NULL))
        fail(ctx, "cpu context");
    save_model(ctx, argv[1], "conv_pool_dense.model", 0);
    save_model(ctx, argv[1], "valid_avg_activation.model", 1);
    save_model(ctx, argv[1], "dense_only.model", 2);
    save_model(ctx, argv[1], "conv_lrn_dense.model", 3);
    save_model(ctx, argv[1], "class_names.model", 4);
    clcnn_ctx_free(ctx);

    /* 3 images of 2x3, labels 0..2. */
    unsigned char im[16 + 18] = {0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 3};
    for (int i = 0; i < 18; i++)
        im[16 + i] = (unsigned char)(i * 14);
    unsigned char lb[8 + 3] = {0, 0, 8, 1, 0, 0, 0, 3, 0, 1, 2};
    save_idx(argv[1], "raw.idx", im, sizeof im, lb, sizeof lb);
    unsigned char gi[256], gl[256];
    size_t gil = gzip_bytes(im, sizeof im, gi, sizeof gi), gll = gzip_bytes(lb, sizeof lb, gl, sizeof gl);
    save_idx(argv[1], "gzip.idx", gi, gil, gl, gll);
    save_idx(argv[1], "gzip_images_raw_labels.idx", gi, gil, lb, sizeof lb);
    return 0;
}
