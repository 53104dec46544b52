/* SGD with momentum on the CPU (backend.h's sgd_update). */
#include "cpu.h"

int cpu_sgd_update(void *bctx, size_t count, size_t decayed, clcnn_buf *wb, const clcnn_buf *gb, clcnn_buf *vb,
                   float lr, float momentum, float wd, int nesterov)
{
    (void)bctx;
    float *restrict w = F32(wb), *restrict v = F32(vb);
    const float *restrict g = CF32(gb);
    for (size_t i = 0; i < count; i++) {
        const float d = g[i] + (i < decayed ? wd : 0.0f) * w[i];
        const float vi = cpu_flush_subnormal(momentum * v[i] + d);
        v[i] = vi;
        w[i] -= lr * (nesterov ? d + momentum * vi : vi);
    }
    return CLCNN_OK;
}
