/* The CPU backend: C tuned for speed (a thread pool, register-blocked
 * kernels).  It is not the oracle: every backend, this one included, is
 * tested against the naive reference in tests/ref/. */
#ifndef CLCNN_CPU_H
#define CLCNN_CPU_H

#include <float.h>
#include <math.h>

#include "internal.h"

/* For functions whose each call with constant arguments is to be its own
 * unrolled, vectorised copy (a block size, a window width). */
#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

/* Buffers are host arrays; these casts say which element type is meant. */
#define F32(buf) ((float *)(void *)(buf))
#define CF32(buf) ((const float *)(const void *)(buf))

#include "threads.h"

/* x, or 0 when it is subnormal (|x| < FLT_MIN): how the optimizers store
 * their moments (backend.h).  On x86 every operation on a subnormal takes
 * a microcode assist (about a hundred cycles), and the moments of a
 * parameter whose gradient stays 0 decay into that range. */
static inline float cpu_flush_subnormal(float x)
{
    return fabsf(x) < FLT_MIN ? 0.0f : x;
}

/* Threads the backend runs its parallel loops on. */
int cpu_threads(void *bctx);
/* Calls fn(arg, i, thread) for every i < count on the backend's threads. */
void cpu_parallel(void *bctx, size_t count, cpu_task_fn fn, void *arg);
/* cpu_parallel for loops whose whole work is macs multiply-adds: below
 * CPU_INLINE_MACS (a microsecond or two of work, about what handing it to
 * the other threads and waiting for them costs) every index runs on the
 * caller, as thread 0.  Which thread runs an index changes no result. */
#define CPU_INLINE_MACS 65536
static inline void cpu_parallel_work(void *bctx, size_t count, size_t macs, cpu_task_fn fn, void *arg)
{
    if (macs >= CPU_INLINE_MACS) {
        cpu_parallel(bctx, count, fn, arg);
        return;
    }
    for (size_t i = 0; i < count; i++)
        fn(arg, i, 0);
}
/* Makes every thread's scratch hold at least floats floats (grown, never
 * shrunk, so steady-state steps allocate nothing). */
int cpu_scratch_reserve(void *bctx, size_t floats);
/* One scratch buffer of at least floats floats shared by all threads, or
 * NULL (message set) when it cannot be had. */
float *cpu_shared_scratch(void *bctx, size_t floats);
/* Thread t's scratch. */
float *cpu_scratch_of(void *bctx, int t);

/* A grid of n x n1 x n2 rows (n1, n2: 0 counts as 1): row
 * r = (r0 * n1 + r1) * n2 + r2 starts at base + r0*ld + r1*ld1 + r2*ld2.
 * Rows may overlap (a convolution's taps are shifted views of one plane). */
typedef struct cpu_rows {
    const float *base;
    size_t n, ld, n1, ld1, n2, ld2;
} cpu_rows;

/* The number of rows of a grid. */
static inline size_t cpu_rows_count(const cpu_rows *g)
{
    return g->n * (g->n1 ? g->n1 : 1) * (g->n2 ? g->n2 : 1);
}

/* Row r of a grid. */
static inline const float *cpu_row(const cpu_rows *g, size_t r)
{
    const size_t n1 = g->n1 ? g->n1 : 1, n2 = g->n2 ? g->n2 : 1;
    return g->base + r / (n1 * n2) * g->ld + r / n2 % n1 * g->ld1 + r % n2 * g->ld2;
}

/* Linear combinations of rows: output o at column m is
 *   bias_cols[m], else bias[o] (0 when both are NULL)
 *   + sum over rows r of coef[r * coef_r + o * coef_o] * row_r[m]. */
typedef struct cpu_combination {
    cpu_rows rows;
    const float *coef;
    size_t coef_r, coef_o;
    const float *bias, *bias_cols;
} cpu_combination;
/* Writes outputs o < nout, columns m < M, to out[o * ldo + m]. */
void cpu_combine_rows(const cpu_combination *cb, size_t nout, size_t M, float *out, size_t ldo);
/* Floats of the build's vector registers: the kernels' vectors (vec.h)
 * and cpu_dots's lanes. */
#if defined(__AVX512F__)
#define CPU_VEC 16 /* zmm */
#else
#define CPU_VEC 8 /* ymm */
#endif

/* c[a * ldc + b] = sum_{s < segs} sum_{t < len} A_a[s * seg_a + t] *
 * B[b * ldb + s * seg_b + t] for the rows A_a of grid A and b < nb: dot
 * products of rows, in tiles, over segs segments of each (one convolution
 * image after another).  The sums run in steps of CPU_DOTS_LANES, each
 * lane its own sum, added up in lane order, then the len % CPU_DOTS_LANES
 * products left one by one: a len that is a multiple of it leaves none. */
#define CPU_DOTS_LANES CPU_VEC
void cpu_dots(float *restrict c, size_t ldc, const cpu_rows *A, const float *B, size_t ldb, size_t nb, size_t len,
              size_t segs, size_t seg_a, size_t seg_b);

/* sums[c] = the sum of x[r * cols + c] over the rows, row after row (a
 * bias gradient: the order of a plain loop over the rows, so the same
 * bits), VEC columns at a time. */
void cpu_column_sums(const float *restrict x, size_t rows, size_t cols, float *restrict sums);

/* Applies act in place to rows x cols (softmax along each row). */
void cpu_activate(clcnn_activation act, size_t rows, size_t cols, float *y);

/* Direct convolution over output channels (conv_direct.c), where
 * cpu_conv_direct_fits(g): one image x (h, w, c) into y (oh, ow, k), conv
 * + b (b NULL for none, no activation), the same values as the other
 * paths'.  scratch: cpu_conv_direct_floats(g). */
int cpu_conv_direct_fits(const conv_geom *g);
size_t cpu_conv_direct_floats(const conv_geom *g);
void cpu_conv_direct(const conv_geom *g, const float *x, const float *w, const float *b, float *y, float *scratch);

int cpu_conv_forward(void *bctx, const conv_geom *g, const clcnn_buf *x, const clcnn_buf *w, const clcnn_buf *b,
                     clcnn_activation act, clcnn_buf *y);
int cpu_conv_backward(void *bctx, const conv_geom *g, const clcnn_buf *dz, const clcnn_buf *x, const clcnn_buf *w,
                      clcnn_buf *dx, clcnn_buf *dw, clcnn_buf *db);
int cpu_pool_forward(void *bctx, const pool_geom *g, const clcnn_buf *x, clcnn_buf *y);
/* Pools count images of x (from its first) into y on the calling thread,
 * whose scratch from float scratch_at on holds cpu_pool_forward_floats(g)
 * (reserved by the caller). */
void cpu_pool_forward_images(void *bctx, const pool_geom *g, const float *x, float *y, size_t count, int thread,
                             size_t scratch_at);
size_t cpu_pool_forward_floats(const pool_geom *g);
/* Max pooling g of c planes z (plane floats apart, rows ld apart) into c
 * planes of oh*ow in out, the same comparisons as pool_forward's: where
 * cpu_pool_planes_fits(g) (windows that tile the input). */
int cpu_pool_planes_fits(const pool_geom *g);
void cpu_pool_planes(const pool_geom *g, const float *restrict z, size_t plane, size_t ld, float *restrict out);
/* conv_forward into y_conv and pool_forward of it into y_pool (backend.h),
 * each image pooled while its convolution output is in cache; without
 * keep_conv, max pooling over tiled windows after a stride-1 convolution
 * on the wide path (not cpu_conv_direct_fits) pools its planes before they
 * become pixels, and y_conv is not written. */
int cpu_conv_pool_forward(void *bctx, const conv_geom *g, const pool_geom *p, const clcnn_buf *x, const clcnn_buf *w,
                          const clcnn_buf *b, clcnn_activation act, clcnn_buf *y_conv, int keep_conv,
                          clcnn_buf *y_pool);
int cpu_pool_backward(void *bctx, const pool_geom *g, const clcnn_buf *dy, const clcnn_buf *x, const clcnn_buf *y,
                      clcnn_buf *dx);
int cpu_dropout_forward(void *bctx, const dropout_geom *g, const clcnn_buf *x, clcnn_buf *y, clcnn_buf *mask);
int cpu_dropout_backward(void *bctx, const dropout_geom *g, const clcnn_buf *dy, clcnn_buf *dx);
int cpu_sgd_update(void *bctx, size_t count, size_t decayed, clcnn_buf *w, const clcnn_buf *g, clcnn_buf *v,
                   float lr, float momentum, float wd, int nesterov);
int cpu_lrn_forward(void *bctx, const lrn_geom *g, const clcnn_buf *x, clcnn_buf *y);
int cpu_lrn_backward(void *bctx, const lrn_geom *g, const clcnn_buf *dy, const clcnn_buf *x, clcnn_buf *dx);
int cpu_dense_forward(void *bctx, size_t m, size_t in, size_t out, const clcnn_buf *x, const clcnn_buf *w,
                      const clcnn_buf *b, clcnn_activation act, clcnn_buf *y);
int cpu_dense_backward(void *bctx, size_t m, size_t in, size_t out, const clcnn_buf *dz, const clcnn_buf *x,
                       const clcnn_buf *w, clcnn_buf *dx, clcnn_buf *dw, clcnn_buf *db);
int cpu_activation_forward(void *bctx, clcnn_activation act, size_t rows, size_t cols, const clcnn_buf *x,
                           clcnn_buf *y);
int cpu_activation_backward(void *bctx, clcnn_activation act, size_t rows, size_t cols, const clcnn_buf *y,
                            const clcnn_buf *dy, clcnn_buf *dz);
int cpu_softmax_xent(void *bctx, size_t m, size_t k, const clcnn_buf *logits, const clcnn_buf *labels,
                     float grad_scale, clcnn_buf *dlogits, clcnn_buf *stats);
int cpu_adam_update(void *bctx, size_t count, clcnn_buf *w, const clcnn_buf *g, clcnn_buf *m, clcnn_buf *v,
                    float lr_t, float b1, float b2, float eps);
int cpu_gather_batch(void *bctx, const clcnn_buf *images, int images_u8, size_t row_len, const clcnn_buf *labels,
                     const clcnn_buf *indices, size_t first, size_t m, clcnn_buf *x, clcnn_buf *y);
/* augment.c */
int cpu_gather_augment(void *bctx, const clcnn_buf *images, int images_u8, size_t h, size_t w, size_t c,
                       const clcnn_buf *labels, const clcnn_buf *indices, const clcnn_buf *aug, size_t first,
                       size_t m, clcnn_buf *x, clcnn_buf *y);

#endif
