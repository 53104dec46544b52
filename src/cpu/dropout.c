/* Inverted dropout on the CPU: the draw of backend.h's dropout_geom,
 * element by element (a few integer operations each, not worth threads). */
#include "cpu.h"

static uint32_t mix(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

/* Element i's multiplier: 0 or g->scale. */
static float multiplier(const dropout_geom *g, size_t i)
{
    const uint32_t h = mix(mix((uint32_t)(g->first + i) ^ g->key_lo) ^ g->key_hi);
    return (h >> 8) < g->threshold ? 0.0f : g->scale;
}

int cpu_dropout_forward(void *bctx, const dropout_geom *g, const clcnn_buf *xb, clcnn_buf *yb, clcnn_buf *maskb)
{
    (void)bctx;
    const float *x = CF32(xb);
    float *y = F32(yb), *mask = maskb ? F32(maskb) : NULL;
    for (size_t i = 0; i < g->count; i++) {
        const float k = multiplier(g, i);
        y[i] = x[i] * k;
        if (mask)
            mask[i] = k;
    }
    return CLCNN_OK;
}

int cpu_dropout_backward(void *bctx, const dropout_geom *g, const clcnn_buf *dyb, clcnn_buf *dxb)
{
    (void)bctx;
    const float *dy = CF32(dyb);
    float *dx = F32(dxb);
    for (size_t i = 0; i < g->count; i++)
        dx[i] = dy[i] * multiplier(g, i);
    return CLCNN_OK;
}
