/* onnx_predict MODEL IMAGES.npy OUT.npy: clcnn_model_predict of a clcnn
 * model or an .onnx (by suffix) on NHWC images (n, h, w[, c]) scaled as
 * they are, on the device of CLCNN_DEVICE, written as an (n, outputs)
 * .npy: what the ONNX round-trip tests compare with PyTorch and ONNX
 * Runtime.
 * onnx_predict --every-layer OUT.model: writes a 28x28x1 model with every
 * layer kind and setting ONNX export covers (initialised, seed 5). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clcnn.h"

static int every_layer(const char *path)
{
    clcnn_ctx *ctx = NULL;
    clcnn_model *m = NULL;
    clcnn_conv_params grouped = {.padding = CLCNN_PAD_EXPLICIT,
                                 .pad_top = 2,
                                 .pad_bottom = 1,
                                 .pad_left = 0,
                                 .pad_right = 3,
                                 .stride_h = 1,
                                 .stride_w = 2,
                                 .dilation_h = 2,
                                 .dilation_w = 1,
                                 .groups = 2};
    clcnn_conv_params valid = {.padding = CLCNN_PAD_VALID, .stride_h = 2, .stride_w = 1};
    clcnn_pool_params padded = {.pad_top = 1, .pad_bottom = 1, .pad_left = 1, .pad_right = 0, .ceil_mode = 1};
    clcnn_pool_params avg = {.pad_top = 1, .pad_bottom = 0, .pad_left = 0, .pad_right = 1, .count_include_pad = 1};
    int st = clcnn_ctx_create(&ctx, NULL);
    if (st == CLCNN_OK)
        st = clcnn_model_create(ctx, &m, 28, 28, 1);
    if (st == CLCNN_OK)
        st = clcnn_model_add_conv(m, 8, 3, 3, 1, 1, CLCNN_PAD_SAME, CLCNN_ACT_RELU);
    if (st == CLCNN_OK)
        st = clcnn_model_add_lrn(m, 3, 1e-3f, 0.75f, 2.0f);
    if (st == CLCNN_OK)
        st = clcnn_model_add_pool2d(m, 3, 3, 2, 2, CLCNN_POOL_MAX, &padded);
    if (st == CLCNN_OK)
        st = clcnn_model_add_conv2d(m, 6, 3, 2, CLCNN_ACT_IDENTITY, &grouped);
    if (st == CLCNN_OK)
        st = clcnn_model_add_activation(m, CLCNN_ACT_TANH);
    if (st == CLCNN_OK)
        st = clcnn_model_add_pool2d(m, 2, 2, 2, 2, CLCNN_POOL_AVG, &avg);
    if (st == CLCNN_OK)
        st = clcnn_model_add_conv2d(m, 5, 2, 2, CLCNN_ACT_SIGMOID, &valid);
    if (st == CLCNN_OK)
        st = clcnn_model_add_flatten(m);
    if (st == CLCNN_OK)
        st = clcnn_model_add_dense(m, 12, CLCNN_ACT_IDENTITY);
    if (st == CLCNN_OK)
        st = clcnn_model_add_activation(m, CLCNN_ACT_RELU);
    if (st == CLCNN_OK)
        st = clcnn_model_add_dense(m, 4, CLCNN_ACT_SOFTMAX);
    if (st == CLCNN_OK)
        st = clcnn_model_init(m, 5);
    if (st == CLCNN_OK)
        st = clcnn_model_save(m, path);
    if (st)
        fprintf(stderr, "onnx_predict: %s\n", ctx ? clcnn_errmsg(ctx) : "no context");
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
    return st ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--every-layer") == 0)
        return every_layer(argv[2]);
    if (argc != 4) {
        fprintf(stderr, "usage: onnx_predict MODEL IMAGES.npy OUT.npy\n");
        return 2;
    }
    clcnn_ctx *ctx = NULL;
    clcnn_model *m = NULL;
    float *images = NULL, *out = NULL;
    int rank = 0, rc = 1;
    size_t shape[CLCNN_MAX_RANK] = {0};
    size_t n = strlen(argv[1]);
    int onnx = n >= 5 && strcmp(argv[1] + n - 5, ".onnx") == 0;
    if (clcnn_ctx_create(&ctx, NULL) != CLCNN_OK ||
        (onnx ? clcnn_model_load_onnx(ctx, &m, argv[1]) : clcnn_model_load(ctx, &m, argv[1])) != CLCNN_OK ||
        clcnn_npy_read(ctx, argv[2], &images, &rank, shape) != CLCNN_OK) {
        fprintf(stderr, "onnx_predict: %s\n", ctx ? clcnn_errmsg(ctx) : "no context");
        goto done;
    }
    size_t in[3], count = shape[0], per = 1, k = clcnn_model_classes(m);
    clcnn_model_input_shape(m, in);
    for (int i = 1; i < rank; i++)
        per *= shape[i];
    if (rank < 2 || per != in[0] * in[1] * in[2]) {
        fprintf(stderr,
                "onnx_predict: %s: the images do not fit the model's %zux%zux%zu "
                "input\n",
                argv[2], in[0], in[1], in[2]);
        goto done;
    }
    size_t out_shape[2] = {count, k};
    if (!(out = malloc(count * k * sizeof *out)) || clcnn_model_predict(m, images, count, out) != CLCNN_OK ||
        clcnn_npy_write(ctx, argv[3], out, 2, out_shape) != CLCNN_OK) {
        fprintf(stderr, "onnx_predict: %s\n", out ? clcnn_errmsg(ctx) : "out of memory");
        goto done;
    }
    rc = 0;
done:
    free(out);
    clcnn_free(ctx, images);
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
    return rc;
}
