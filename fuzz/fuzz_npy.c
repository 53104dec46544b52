/* libFuzzer target: the .npy parser on an in-memory buffer, then every
 * element read back (what clcnn_npy_read and the .npz loader do). */
#include "fuzz_common.h"
#include "data/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clcnn_ctx *ctx = fuzz_cpu_ctx();
    npy_array a;
    int st = clcnn_npy_parse(ctx, "fuzz.npy", data, size, &a);
    fuzz_check_status(ctx, st);
    if (st == CLCNN_OK) {
        if (a.rank < 0 || a.rank > CLCNN_MAX_RANK)
            abort();
        double sum = 0.0;
        for (size_t i = 0; i < a.count; i++)
            sum += clcnn_npy_get(&a, i);
        volatile double sink = sum;
        (void)sink;
    }
    /* The same bytes through the file API (NULL ctx: no message). */
    static const char *path;
    if (!path)
        path = fuzz_temp_path(".npy");
    fuzz_write(path, data, size);
    float *x = NULL;
    int rank = 0;
    size_t shape[CLCNN_MAX_RANK];
    int st2 = clcnn_npy_read(NULL, path, &x, &rank, shape);
    /* The two paths agree, except that clcnn_npy_read refuses the string
     * dtypes the parser accepts (an .npz's class names). */
    int strings = st == CLCNN_OK && (a.dtype == NPY_BYTES || a.dtype == NPY_UCS4);
    if ((st2 == CLCNN_OK) != (st == CLCNN_OK && !strings))
        abort();
    clcnn_free(NULL, x);
    return 0;
}
