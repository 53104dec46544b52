/* The CPU backend's table and its memory functions. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"

#include <unistd.h>

#include "pool_threads.h"

typedef struct cpu_backend {
    clcnn_ctx *ctx;
    cpu_pool *pool;
    int threads;
    size_t scratch_floats; /* per thread */
    float **scratch;       /* threads pointers */
    size_t shared_floats;
    float *shared;         /* one buffer all threads index into */
} cpu_backend;

static void cpu_destroy(void *bctx)
{
    cpu_backend *be = bctx;
    for (int t = 0; t < be->threads; t++)
        free(be->scratch[t]);
    free(be->scratch);
    free(be->shared);
    cpu_pool_free(be->pool);
    free(be);
}

void cpu_parallel(void *bctx, size_t count, cpu_task_fn fn, void *arg)
{
    cpu_pool_run(((cpu_backend *)bctx)->pool, count, fn, arg);
}

int cpu_threads(void *bctx)
{
    return ((cpu_backend *)bctx)->threads;
}

int cpu_scratch_reserve(void *bctx, size_t floats)
{
    cpu_backend *be = bctx;
    if (floats <= be->scratch_floats)
        return CLCNN_OK;
    size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    for (int t = 0; t < be->threads; t++) {
        free(be->scratch[t]);
        be->scratch[t] = aligned_alloc(64, bytes);
        if (!be->scratch[t]) {
            be->scratch_floats = 0;
            return clcnn_error(be->ctx, CLCNN_ERR_NOMEM, "out of host memory for %zu bytes of scratch", bytes);
        }
    }
    be->scratch_floats = floats;
    return CLCNN_OK;
}

float *cpu_shared_scratch(void *bctx, size_t floats)
{
    cpu_backend *be = bctx;
    if (floats > be->shared_floats) {
        free(be->shared);
        be->shared = aligned_alloc(64, (floats * sizeof(float) + 63) / 64 * 64);
        be->shared_floats = be->shared ? floats : 0;
        if (!be->shared)
            clcnn_error(be->ctx, CLCNN_ERR_NOMEM, "out of host memory for %zu floats of scratch", floats);
    }
    return be->shared;
}

float *cpu_scratch_of(void *bctx, int t)
{
    return ((cpu_backend *)bctx)->scratch[t];
}


static int cpu_alloc(void *bctx, size_t bytes, clcnn_buf **out)
{
    cpu_backend *be = bctx;
    /* 64-byte alignment lets the compiler use aligned vector loads. */
    size_t rounded = (bytes + 63) / 64 * 64;
    if (rounded < bytes)
        return clcnn_error(be->ctx, CLCNN_ERR_NOMEM, "cannot allocate %zu bytes", bytes);
    void *p = aligned_alloc(64, rounded ? rounded : 64);
    if (!p)
        return clcnn_error(be->ctx, CLCNN_ERR_NOMEM, "out of host memory allocating %zu bytes", bytes);
    memset(p, 0, rounded);
    *out = p;
    return CLCNN_OK;
}

static void cpu_release(void *bctx, clcnn_buf *buf)
{
    (void)bctx;
    free(buf);
}

static int cpu_write(void *bctx, clcnn_buf *dst, size_t offset, const void *src, size_t bytes)
{
    (void)bctx;
    memcpy((unsigned char *)dst + offset, src, bytes);
    return CLCNN_OK;
}

static int cpu_read(void *bctx, const clcnn_buf *src, size_t offset, void *dst, size_t bytes)
{
    (void)bctx;
    memcpy(dst, (const unsigned char *)src + offset, bytes);
    return CLCNN_OK;
}

static int cpu_fill(void *bctx, clcnn_buf *dst, size_t count, float value)
{
    (void)bctx;
    float *d = F32(dst);
    for (size_t i = 0; i < count; i++)
        d[i] = value;
    return CLCNN_OK;
}

static int cpu_view_host(void *bctx, const void *host, size_t bytes, clcnn_buf **out)
{
    (void)bctx;
    (void)bytes;
    *out = (clcnn_buf *)(uintptr_t)host;
    return CLCNN_OK;
}

static int cpu_finish(void *bctx)
{
    (void)bctx;
    return CLCNN_OK;
}

static const clcnn_backend_ops cpu_ops = {
    .name = "cpu",
    .destroy = cpu_destroy,
    .alloc = cpu_alloc,
    .release = cpu_release,
    .write = cpu_write,
    .read = cpu_read,
    .fill = cpu_fill,
    .view_host = cpu_view_host,
    .finish = cpu_finish,
    .conv_forward = cpu_conv_forward,
    .conv_backward = cpu_conv_backward,
    .pool_forward = cpu_pool_forward,
    .pool_backward = cpu_pool_backward,
    .dense_forward = cpu_dense_forward,
    .dense_backward = cpu_dense_backward,
    .activation_forward = cpu_activation_forward,
    .activation_backward = cpu_activation_backward,
    .softmax_xent = cpu_softmax_xent,
    .adam_update = cpu_adam_update,
    .gather_batch = cpu_gather_batch,
};

int clcnn_cpu_backend_create(clcnn_ctx *ctx, const clcnn_backend_ops **ops, void **bctx)
{
    cpu_backend *be = calloc(1, sizeof *be);
    if (!be)
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "out of host memory creating the CPU backend");
    be->ctx = ctx;
    /* CLCNN_THREADS caps the threads; by default one per online CPU. */
    long threads = sysconf(_SC_NPROCESSORS_ONLN);
    const char *env = getenv("CLCNN_THREADS");
    if (env && *env) {
        char *end;
        long v = strtol(env, &end, 10);
        if (*end == '\0' && v >= 1)
            threads = v;
    }
    if (threads < 1)
        threads = 1;
    if (threads > 256)
        threads = 256;
    if (cpu_pool_create(&be->pool, (int)threads) != 0) {
        free(be);
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "out of host memory creating the CPU backend");
    }
    be->threads = (int)threads;
    be->scratch = calloc((size_t)be->threads, sizeof *be->scratch);
    if (!be->scratch) {
        cpu_pool_free(be->pool);
        free(be);
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "out of host memory creating the CPU backend");
    }
    *ops = &cpu_ops;
    *bctx = be;
    return CLCNN_OK;
}
