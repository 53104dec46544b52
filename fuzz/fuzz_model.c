/* libFuzzer target: the model-file parser (clcnn_model_load on a CPU
 * context).  Each input is loaded twice: as it is, and with its last four
 * bytes replaced by the right CRC-32, so that the fuzzer also reaches what
 * lies behind the checksum. */
#include <zlib.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void load(clcnn_ctx *ctx, const char *path)
{
    clcnn_model *m = NULL;
    int st = clcnn_model_load(ctx, &m, path);
    fuzz_check_status(ctx, st);
    if (st == CLCNN_OK) {
        if (!m)
            abort();
        /* Walk what a loaded model offers without running it. */
        char buf[256];
        for (size_t i = 0; i < clcnn_model_layer_count(m); i++)
            if (clcnn_model_layer_describe(m, i, buf, sizeof buf) != CLCNN_OK)
                abort();
        (void)clcnn_model_param_count(m);
        (void)clcnn_model_classes(m);
    } else if (m) {
        abort();
    }
    clcnn_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *path;
    if (!path)
        path = fuzz_temp_path(".model");
    clcnn_ctx *ctx = fuzz_cpu_ctx();
    fuzz_write(path, data, size);
    load(ctx, path);
    if (size >= 4) {
        uint8_t *fixed = malloc(size);
        if (!fixed)
            abort();
        memcpy(fixed, data, size);
        uint32_t crc = (uint32_t)crc32(0L, fixed, (uInt)(size - 4));
        for (int i = 0; i < 4; i++)
            fixed[size - 4 + i] = (uint8_t)(crc >> (8 * i));
        if (memcmp(fixed, data, size) != 0) {
            fuzz_write(path, fixed, size);
            load(ctx, path);
        }
        free(fixed);
    }
    return 0;
}
