/*
 * train_custom — builds its own layer list, trains it for one epoch,
 * evaluates it and saves it.
 *
 *   train_custom [--data PATH | --synthetic] [--count N] [--save FILE]
 *
 * The network: conv 8 3x3 same relu -> max pool 2x2 -> flatten ->
 * dense 10 softmax, on 28x28 grey images.  The data is the first N (default
 * 5000) training images of PATH (default /usr/share/datasets/fashion-mnist,
 * Debian's dataset-fashion-mnist), evaluated on the first N/5 test images;
 * or, with --synthetic, a generated task (the class is which horizontal
 * band of the image holds a bright bar).  The model is saved to FILE
 * (default custom.model), which `classify` and `clcnn eval` can load.
 *
 * Build:  cc -o train_custom train_custom.c $(pkg-config --cflags --libs clcnn)
 */
#include <clcnn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIDE 28
#define CLASSES 10

/* A reproducible pseudo-random number in [0, 1). */
static float next_uniform(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return (float)(*state >> 8) / 16777216.0f;
}

/* count synthetic examples: noise, plus a bright bar across rows
 * [2 + 2k, 4 + 2k) for class k.  Returns a data set on ctx. */
static int synthetic(clcnn_ctx *ctx, clcnn_dataset **out, size_t count, uint32_t seed)
{
    float *images = malloc(count * SIDE * SIDE * sizeof *images);
    int32_t *labels = malloc(count * sizeof *labels);
    int st = CLCNN_ERR_NOMEM;
    if (images && labels) {
        for (size_t n = 0; n < count; n++) {
            int k = (int)(next_uniform(&seed) * CLASSES) % CLASSES;
            labels[n] = k;
            float *img = images + n * SIDE * SIDE;
            for (int i = 0; i < SIDE * SIDE; i++)
                img[i] = 0.3f * next_uniform(&seed);
            for (int r = 2 + 2 * k; r < 4 + 2 * k; r++)
                for (int c = 4; c < SIDE - 4; c++)
                    img[r * SIDE + c] = 0.7f + 0.3f * next_uniform(&seed);
        }
        st = clcnn_dataset_create(ctx, out, count, SIDE, SIDE, 1, images, labels);
    }
    free(images);
    free(labels);
    return st;
}

/* A new data set holding the first count examples of ds (all when count
 * is larger), through host memory: clcnn_dataset_get + clcnn_dataset_create. */
static int head(clcnn_ctx *ctx, const clcnn_dataset *ds, size_t count, clcnn_dataset **out)
{
    size_t shape[3];
    clcnn_dataset_image_shape(ds, shape);
    if (count > clcnn_dataset_count(ds))
        count = clcnn_dataset_count(ds);
    float *images = malloc(count * shape[0] * shape[1] * shape[2] * sizeof *images);
    int32_t *labels = malloc(count * sizeof *labels);
    int st = CLCNN_ERR_NOMEM;
    if (images && labels) {
        st = clcnn_dataset_get(ctx, ds, 0, count, images, labels);
        if (st == CLCNN_OK)
            st = clcnn_dataset_create(ctx, out, count, shape[0], shape[1], shape[2], images, labels);
    }
    free(images);
    free(labels);
    return st;
}

/* Prints a progress line now and then (clcnn_progress_fn). */
static int progress(void *user, size_t done, size_t total, double loss, double accuracy)
{
    (void)user;
    fprintf(stderr, "\r  %zu/%zu images  loss %.4f  accuracy %.4f", done, total, loss, accuracy);
    if (done == total)
        fputc('\n', stderr);
    return 0; /* non-zero would stop the epoch */
}

static int usage(void)
{
    fprintf(stderr, "usage: train_custom [--data PATH | --synthetic] [--count N] [--save FILE]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *data = "/usr/share/datasets/fashion-mnist", *save = "custom.model";
    size_t count = 5000;
    int use_synthetic = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--synthetic") == 0) {
            use_synthetic = 1;
        } else if (i + 1 < argc && strcmp(argv[i], "--data") == 0) {
            data = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--save") == 0) {
            save = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--count") == 0) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 10)
                return usage();
            count = (size_t)v;
        } else {
            return usage();
        }
    }

    clcnn_ctx *ctx = NULL;
    clcnn_model *m = NULL;
    clcnn_dataset *all_train = NULL, *all_test = NULL, *train = NULL, *test = NULL;
    int st;
    /* The sqlite3_open rule: even a failed clcnn_ctx_create hands back a
     * context holding the message (unless memory ran out). */
    if ((st = clcnn_ctx_create(&ctx, NULL)) != CLCNN_OK)
        goto fail;
    printf("device: %s (%s backend)\n", clcnn_ctx_device_name(ctx), clcnn_ctx_backend(ctx));

    if (use_synthetic) {
        if ((st = synthetic(ctx, &train, count, 1)) != CLCNN_OK ||
            (st = synthetic(ctx, &test, count / 5, 2)) != CLCNN_OK)
            goto fail;
    } else {
        if ((st = clcnn_data_load(ctx, data, &all_train, NULL, &all_test)) != CLCNN_OK)
            goto fail;
        if (!all_test) {
            fprintf(stderr, "train_custom: %s has no test split\n", data);
            st = CLCNN_ERR_FORMAT;
            goto fail_quiet;
        }
        if ((st = head(ctx, all_train, count, &train)) != CLCNN_OK ||
            (st = head(ctx, all_test, count / 5, &test)) != CLCNN_OK)
            goto fail;
        clcnn_dataset_free(all_train);
        clcnn_dataset_free(all_test);
        all_train = all_test = NULL;
    }
    size_t shape[3];
    clcnn_dataset_image_shape(train, shape);
    printf("data: %zu training and %zu test images of %zux%zux%zu\n", clcnn_dataset_count(train),
           clcnn_dataset_count(test), shape[0], shape[1], shape[2]);

    /* The layer list; each append checks its shape against the one before. */
    if ((st = clcnn_model_create(ctx, &m, shape[0], shape[1], shape[2])) != CLCNN_OK ||
        (st = clcnn_model_add_conv(m, 8, 3, 3, 1, 1, CLCNN_PAD_SAME, CLCNN_ACT_RELU)) != CLCNN_OK ||
        (st = clcnn_model_add_pool(m, 2, 2, 2, 2, CLCNN_POOL_MAX)) != CLCNN_OK ||
        (st = clcnn_model_add_flatten(m)) != CLCNN_OK ||
        (st = clcnn_model_add_dense(m, CLASSES, CLCNN_ACT_SOFTMAX)) != CLCNN_OK ||
        (st = clcnn_model_init(m, 42)) != CLCNN_OK)
        goto fail;
    for (size_t i = 0; i < clcnn_model_layer_count(m); i++) {
        char line[128];
        if (clcnn_model_layer_describe(m, i, line, sizeof line) == CLCNN_OK)
            printf("  layer %zu: %s\n", i + 1, line);
    }
    printf("  %zu parameters\n", clcnn_model_param_count(m));

    double loss, accuracy;
    if ((st = clcnn_model_train_epoch(m, train, 32, 1, progress, NULL, 0, &loss, &accuracy)) != CLCNN_OK)
        goto fail;
    printf("train: loss %.4f accuracy %.4f\n", loss, accuracy);
    if ((st = clcnn_model_evaluate(m, test, 0, &loss, &accuracy)) != CLCNN_OK)
        goto fail;
    printf("test: loss %.4f accuracy %.4f\n", loss, accuracy);
    if ((st = clcnn_model_save(m, save)) != CLCNN_OK)
        goto fail;
    printf("saved %s\n", save);

    clcnn_model_free(m);
    clcnn_dataset_free(train);
    clcnn_dataset_free(test);
    clcnn_ctx_free(ctx);
    return 0;

fail:
    fprintf(stderr, "train_custom: %s (%s)\n", ctx ? clcnn_errmsg(ctx) : "out of memory", clcnn_status_str(st));
fail_quiet:
    clcnn_model_free(m);
    clcnn_dataset_free(all_train);
    clcnn_dataset_free(all_test);
    clcnn_dataset_free(train);
    clcnn_dataset_free(test);
    clcnn_ctx_free(ctx);
    return 1;
}
