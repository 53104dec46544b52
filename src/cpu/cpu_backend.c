/* The CPU backend's table and its memory functions. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu.h"
#include "threads.h"

typedef struct cpu_backend {
    clcnn_ctx *ctx;
    cpu_pool *pool;
    int threads;
    size_t scratch_floats; /* per thread */
    size_t scratch_bytes;  /* the size of each scratch block */
    float **scratch;       /* threads pointers */
    size_t shared_floats;
    size_t shared_bytes;
    float *shared;         /* one buffer all threads index into */
} cpu_backend;

/* Every host block of the backend is 64-byte aligned and a multiple of 64
 * bytes, so that the compiler can use aligned vector loads; 0 when bytes
 * has no such size. */
#define CPU_ALIGN 64
static size_t cpu_block_bytes(size_t bytes)
{
    if (bytes > SIZE_MAX - (CPU_ALIGN - 1))
        return 0;
    return bytes ? (bytes + CPU_ALIGN - 1) / CPU_ALIGN * CPU_ALIGN : CPU_ALIGN;
}

static const clcnn_allocator *cpu_allocator(const cpu_backend *be)
{
    return &be->ctx->allocator;
}

static void scratch_release(cpu_backend *be)
{
    for (int t = 0; t < be->threads; t++) {
        clcnn_mem_free(cpu_allocator(be), be->scratch[t], be->scratch_bytes);
        be->scratch[t] = NULL;
    }
    be->scratch_floats = 0;
}

static void cpu_destroy(void *bctx)
{
    cpu_backend *be = bctx;
    const clcnn_allocator *a = cpu_allocator(be);
    scratch_release(be);
    clcnn_mem_free(a, be->scratch, (size_t)be->threads * sizeof *be->scratch);
    clcnn_mem_free(a, be->shared, be->shared_bytes);
    cpu_pool_free(be->pool);
    clcnn_mem_free(a, be, sizeof *be);
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
    scratch_release(be);
    size_t bytes = floats <= SIZE_MAX / sizeof(float) ? cpu_block_bytes(floats * sizeof(float)) : 0;
    be->scratch_bytes = bytes;
    for (int t = 0; t < be->threads; t++) {
        be->scratch[t] = bytes ? clcnn_mem_alloc_aligned(cpu_allocator(be), bytes, CPU_ALIGN) : NULL;
        if (!be->scratch[t]) {
            scratch_release(be);
            return clcnn_error(be->ctx, CLCNN_ERR_NOMEM, "out of host memory for %zu floats of scratch", floats);
        }
    }
    be->scratch_floats = floats;
    return CLCNN_OK;
}

float *cpu_shared_scratch(void *bctx, size_t floats)
{
    cpu_backend *be = bctx;
    if (floats > be->shared_floats) {
        clcnn_mem_free(cpu_allocator(be), be->shared, be->shared_bytes);
        size_t bytes = floats <= SIZE_MAX / sizeof(float) ? cpu_block_bytes(floats * sizeof(float)) : 0;
        be->shared = bytes ? clcnn_mem_alloc_aligned(cpu_allocator(be), bytes, CPU_ALIGN) : NULL;
        be->shared_bytes = be->shared ? bytes : 0;
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

/* Buffers are the host arrays themselves; release() gets no size, so they
 * are tracked blocks (which keep theirs). */
static int cpu_alloc(void *bctx, size_t bytes, clcnn_buf **out)
{
    cpu_backend *be = bctx;
    size_t rounded = cpu_block_bytes(bytes);
    void *p = rounded ? clcnn_mem_alloc_tracked(cpu_allocator(be), rounded, CPU_ALIGN) : NULL;
    if (!p)
        return clcnn_error(be->ctx, CLCNN_ERR_NOMEM, "out of host memory allocating %zu bytes", bytes);
    memset(p, 0, rounded);
    *out = p;
    return CLCNN_OK;
}

static void cpu_release(void *bctx, clcnn_buf *buf)
{
    clcnn_mem_free_tracked(cpu_allocator(bctx), buf);
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

/* Views are pointers into their parent: nothing to release. */
static int cpu_sub_buffer(void *bctx, clcnn_buf *parent, size_t offset, size_t bytes, clcnn_buf **out)
{
    (void)bctx;
    (void)bytes;
    *out = (clcnn_buf *)((unsigned char *)parent + offset);
    return CLCNN_OK;
}

static void cpu_release_view(void *bctx, clcnn_buf *view)
{
    (void)bctx;
    (void)view;
}

static size_t cpu_view_align(void *bctx)
{
    (void)bctx;
    return CPU_ALIGN;
}

/* The backward ops with x_act (backend.h): the kernels' dx, then the
 * derivative in place, as activation_backward applies it. */
static int times_derivative(void *bctx, int st, clcnn_activation x_act, size_t count, const clcnn_buf *x,
                            clcnn_buf *dx)
{
    if (st || !dx || x_act == CLCNN_ACT_IDENTITY)
        return st;
    return cpu_activation_backward(bctx, x_act, 1, count, x, dx, dx);
}

static int cpu_conv_backward_act(void *bctx, const conv_geom *g, const clcnn_buf *dz, const clcnn_buf *x,
                                 const clcnn_buf *w, clcnn_activation x_act, clcnn_buf *dx, clcnn_buf *dw,
                                 clcnn_buf *db)
{
    int st = cpu_conv_backward(bctx, g, dz, x, w, dx, dw, db);
    return times_derivative(bctx, st, x_act, g->n * g->h * g->w * g->c, x, dx);
}

static int cpu_pool_backward_act(void *bctx, const pool_geom *g, const clcnn_buf *dy, const clcnn_buf *x,
                                 const clcnn_buf *y, clcnn_activation x_act, clcnn_buf *dx)
{
    int st = cpu_pool_backward(bctx, g, dy, x, y, dx);
    return times_derivative(bctx, st, x_act, g->n * g->h * g->w * g->c, x, dx);
}

static int cpu_dense_backward_act(void *bctx, size_t m, size_t in, size_t out, const clcnn_buf *dz,
                                  const clcnn_buf *x, const clcnn_buf *w, clcnn_activation x_act, clcnn_buf *dx,
                                  clcnn_buf *dw, clcnn_buf *db)
{
    int st = cpu_dense_backward(bctx, m, in, out, dz, x, w, dx, dw, db);
    return times_derivative(bctx, st, x_act, m * in, x, dx);
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
    .sub_buffer = cpu_sub_buffer,
    .release_view = cpu_release_view,
    .view_align = cpu_view_align,
    .conv_forward = cpu_conv_forward,
    .conv_backward = cpu_conv_backward_act,
    .conv_pool_forward = cpu_conv_pool_forward,
    .pool_forward = cpu_pool_forward,
    .pool_backward = cpu_pool_backward_act,
    .lrn_forward = cpu_lrn_forward,
    .lrn_backward = cpu_lrn_backward,
    .dropout_forward = cpu_dropout_forward,
    .dropout_backward = cpu_dropout_backward,
    .dense_forward = cpu_dense_forward,
    .dense_backward = cpu_dense_backward_act,
    .activation_forward = cpu_activation_forward,
    .activation_backward = cpu_activation_backward,
    .softmax_xent = cpu_softmax_xent,
    .adam_update = cpu_adam_update,
    .sgd_update = cpu_sgd_update,
    .gather_batch = cpu_gather_batch,
    .gather_augment = cpu_gather_augment,
};

int clcnn_cpu_backend_create(clcnn_ctx *ctx, const clcnn_backend_ops **ops, void **bctx)
{
    const clcnn_allocator *a = &ctx->allocator;
    cpu_backend *be = clcnn_mem_calloc(a, 1, sizeof *be);
    if (!be)
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "out of host memory creating the CPU backend");
    be->ctx = ctx;
    /* The context's setting (validated there), by default one per online CPU. */
    long threads = ctx->config.threads ? ctx->config.threads : sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1)
        threads = 1;
    if (threads > CLCNN_CONFIG_MAX_THREADS)
        threads = CLCNN_CONFIG_MAX_THREADS;
    if (cpu_pool_create(&be->pool, (int)threads, a) != 0) {
        clcnn_mem_free(a, be, sizeof *be);
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "out of host memory creating the CPU backend");
    }
    be->threads = (int)threads;
    be->scratch = clcnn_mem_calloc(a, (size_t)be->threads, sizeof *be->scratch);
    if (!be->scratch) {
        cpu_pool_free(be->pool);
        clcnn_mem_free(a, be, sizeof *be);
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "out of host memory creating the CPU backend");
    }
    *ops = &cpu_ops;
    *bctx = be;
    return CLCNN_OK;
}
