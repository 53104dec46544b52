/* libFuzzer target: the IDX loader (raw or gzip) through its file API.
 * The input is an images file and a labels file: the first two bytes give
 * the images file's length (little-endian, clamped), the rest follows. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *ipath, *lpath;
    if (!ipath) {
        ipath = fuzz_temp_path("-images-idx3-ubyte");
        lpath = fuzz_temp_path("-labels-idx1-ubyte");
    }
    if (size < 2)
        return 0;
    size_t ilen = (size_t)data[0] | (size_t)data[1] << 8;
    if (ilen > size - 2)
        ilen = size - 2;
    fuzz_write(ipath, data + 2, ilen);
    fuzz_write(lpath, data + 2 + ilen, size - 2 - ilen);

    clcnn_ctx *ctx = fuzz_cpu_ctx();
    for (int with_labels = 0; with_labels < 2; with_labels++) {
        clcnn_dataset *ds = NULL;
        int st = clcnn_dataset_load_idx(ctx, &ds, ipath, with_labels ? lpath : NULL);
        fuzz_check_status(ctx, st);
        if (st == CLCNN_OK) {
            /* Touch every example the way training does. */
            size_t shape[3];
            clcnn_dataset_image_shape(ds, shape);
            size_t per = shape[0] * shape[1] * shape[2];
            float *img = malloc(per * sizeof *img);
            int32_t label;
            if (!img)
                abort();
            for (size_t i = 0; i < clcnn_dataset_count(ds); i++)
                if (clcnn_dataset_get(ctx, ds, i, 1, img, &label) != CLCNN_OK || label < 0 || label > 255)
                    abort();
            free(img);
        } else if (ds) {
            abort(); /* a failure must not hand back an object */
        }
        clcnn_dataset_free(ds);
    }
    return 0;
}
