/* libFuzzer target: the .npz (zip + .npy, MNIST.npz layout) loader through
 * clcnn_data_load on a temporary file. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void touch(clcnn_ctx *ctx, const clcnn_dataset *ds)
{
    if (!ds)
        return;
    size_t shape[3];
    clcnn_dataset_image_shape(ds, shape);
    size_t per = shape[0] * shape[1] * shape[2];
    float *img = malloc(per * sizeof *img);
    int32_t label;
    if (!img)
        abort();
    for (size_t i = 0; i < clcnn_dataset_count(ds); i++)
        if (clcnn_dataset_get(ctx, ds, i, 1, img, &label) != CLCNN_OK || label < 0 || label > 255 ||
            !(img[0] >= 0.0f && img[0] <= 1.0f))
            abort();
    free(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *path;
    if (!path)
        path = fuzz_temp_path(".npz");
    fuzz_write(path, data, size);
    clcnn_ctx *ctx = fuzz_cpu_ctx();
    clcnn_dataset *train = NULL, *valid = NULL, *test = NULL;
    int st = clcnn_data_load(ctx, path, &train, &valid, &test);
    fuzz_check_status(ctx, st);
    if (st == CLCNN_OK) {
        if (!train)
            abort();
        touch(ctx, train);
        touch(ctx, valid);
        touch(ctx, test);
    } else if (train || valid || test) {
        abort(); /* a failure must not hand back objects */
    }
    clcnn_dataset_free(train);
    clcnn_dataset_free(valid);
    clcnn_dataset_free(test);
    return 0;
}
