/* libFuzzer target: the PNG and JPEG decoders (libpng, libjpeg-turbo)
 * through clcnn_dataset_load_image, what image folders and predict read.
 * The input is one image file. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *path;
    if (!path)
        path = fuzz_temp_path(".img");
    fuzz_write(path, data, size);

    clcnn_ctx *ctx = fuzz_cpu_ctx();
    clcnn_dataset *ds = NULL;
    int st = clcnn_dataset_load_image(ctx, &ds, path);
    fuzz_check_status(ctx, st);
    if (st == CLCNN_OK) {
        /* One grey or colour image within the decoders' limits, every
         * pixel in [0, 1]. */
        size_t shape[3];
        clcnn_dataset_image_shape(ds, shape);
        if (clcnn_dataset_count(ds) != 1 || (shape[2] != 1 && shape[2] != 3) || !shape[0] || !shape[1] ||
            shape[0] > 16384 || shape[1] > 16384 || shape[0] * shape[1] > ((size_t)1 << 24))
            abort();
        size_t n = shape[0] * shape[1] * shape[2];
        float *img = malloc(n * sizeof *img);
        int32_t label = -1;
        if (!img || clcnn_dataset_get(ctx, ds, 0, 1, img, &label) != CLCNN_OK || label != 0)
            abort();
        for (size_t i = 0; i < n; i++)
            if (!(img[i] >= 0.0f && img[i] <= 1.0f))
                abort();
        free(img);
    } else if (ds) {
        abort(); /* a failure must not hand back an object */
    }
    clcnn_dataset_free(ds);
    return 0;
}
