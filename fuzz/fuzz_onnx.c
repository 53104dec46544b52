/* libFuzzer target: the ONNX reader (clcnn_model_load_onnx on a CPU
 * context, docs/onnx.md): any bytes load as a model or are refused with a
 * status and a message.  A model that loads is walked and, since it holds
 * only what the reader checked, exported again and re-read, which must
 * succeed. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *path, *again;
    if (!path) {
        path = fuzz_temp_path(".onnx");
        again = fuzz_temp_path(".onnx");
    }
    clcnn_ctx *ctx = fuzz_cpu_ctx();
    fuzz_write(path, data, size);
    clcnn_model *m = NULL;
    int st = clcnn_model_load_onnx(ctx, &m, path);
    fuzz_check_status(ctx, st);
    if (st != CLCNN_OK) {
        if (m)
            abort();
        return 0;
    }
    if (!m)
        abort();
    char buf[256];
    for (size_t i = 0; i < clcnn_model_layer_count(m); i++)
        if (clcnn_model_layer_describe(m, i, buf, sizeof buf) != CLCNN_OK)
            abort();
    /* What was read can be written (an even LRN window aside, which the
     * reader refuses too) and read back. */
    st = clcnn_model_save_onnx(m, again);
    fuzz_check_status(ctx, st);
    clcnn_model_free(m);
    m = NULL;
    if (st == CLCNN_OK && clcnn_model_load_onnx(ctx, &m, again) != CLCNN_OK)
        abort();
    clcnn_model_free(m);
    return 0;
}
