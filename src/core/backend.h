/*
 * The internal backend interface: a table of functions plus a context
 * pointer (bctx).  The engine (src/ops/, src/model/) validates every
 * argument and computes every shape before calling a backend, so backends may
 * assume well-formed geometry; they report only failures of their own
 * (allocation, OpenCL calls) through clcnn_error() on the owning clcnn_ctx.
 *
 * Buffers are opaque: a host float array on the CPU backend, a cl_mem on the
 * OpenCL backend.  Element types: float32 unless a comment says otherwise.
 * Every "count" below is in elements, every "bytes" in bytes.  Batch sizes
 * passed to an op may be smaller than the buffers, which are then used from
 * their start.
 *
 * Calls may be asynchronous: a device backend queues work and returns; only
 * read() and finish() wait for the device.  write() may return before the
 * device has the data, but the source memory may be reused or freed as soon
 * as it returns (the backend blocks or copies).  Every entry is mandatory
 * unless marked optional.
 */
#ifndef CLCNN_BACKEND_H
#define CLCNN_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "clcnn.h"

typedef struct clcnn_buf clcnn_buf;

/* Geometry of a 2-D convolution, NHWC input, HWIO weights. */
typedef struct conv_geom {
    size_t n, h, w, c;        /* input (batch, height, width, channels) */
    size_t kh, kw, k;         /* kernel height, width, output channels */
    size_t sh, sw;            /* strides */
    size_t oh, ow;            /* output height, width */
    size_t pad_top, pad_left; /* zero padding before row 0 / column 0 */
    /* Tap p of an output row reads padded row i*sh + p*dh; filter f sees
     * input channels [(f / (k/groups)) * (c/groups), ... + c/groups), and w
     * is (kh, kw, c/groups, k).  dh = dw = groups = 1 is the plain case. */
    size_t dh, dw;
    size_t groups;
} conv_geom;

/* Geometry of a pooling window sweep.  Window (i, j) covers padded rows
 * i*sh - pad_top .. + kh - 1 (columns alike); padded cells never win a max,
 * and an average divides by the window's input cells, or with include_pad
 * by its cells within the padded input (h + pad_top + pad_bottom).
 * padded = 0 (no pads, every window inside the input) is the plain case. */
typedef struct pool_geom {
    size_t n, h, w, c;
    size_t kh, kw, sh, sw;
    size_t oh, ow;
    clcnn_pool_mode mode;
    size_t pad_top, pad_bottom, pad_left, pad_right;
    int include_pad, padded;
} pool_geom;

/* Local response normalisation across the c channels of each of the
 * n*h*w pixels: window(c) = c - size/2 .. c + (size-1)/2, clipped. */
typedef struct lrn_geom {
    size_t n, h, w, c;
    size_t size;
    float alpha, beta, k;
} lrn_geom;

/* Inverted dropout over count elements: element i (0-based in the buffers)
 * is number first + i of the draw, h = mix(mix((first + i) ^ key_lo) ^
 * key_hi) with mix the 32-bit lowbias32 finaliser (x ^= x >> 16;
 * x *= 0x7feb352d; x ^= x >> 15; x *= 0x846ca68b; x ^= x >> 16), and it is
 * dropped when (h >> 8) < threshold, else multiplied by scale. */
typedef struct dropout_geom {
    size_t count, first;
    uint32_t key_lo, key_hi;
    uint32_t threshold; /* round(rate * 2^24) */
    float scale;        /* 1 / (1 - rate) */
} dropout_geom;

typedef struct clcnn_backend_ops {
    const char *name; /* "cpu" or "opencl" */

    void (*destroy)(void *bctx);

    /* Memory. alloc returns a zero-filled buffer. */
    int (*alloc)(void *bctx, size_t bytes, clcnn_buf **out);
    void (*release)(void *bctx, clcnn_buf *buf);
    int (*write)(void *bctx, clcnn_buf *dst, size_t offset, const void *src, size_t bytes);
    int (*read)(void *bctx, const clcnn_buf *src, size_t offset, void *dst, size_t bytes);
    int (*fill)(void *bctx, clcnn_buf *dst, size_t count, float value);
    /* (optional, may be NULL) A read-only buffer over bytes of host memory
     * in place, valid while that memory is; it is never released.  Lets a
     * host backend use a data set without copying it. */
    int (*view_host)(void *bctx, const void *host, size_t bytes, clcnn_buf **out);
    /* A view of bytes of parent from offset (a multiple of view_align()
     * bytes), sharing its memory: a pointer offset on the CPU, a sub-buffer
     * on OpenCL.  Released with release_view(), before its parent. */
    int (*sub_buffer)(void *bctx, clcnn_buf *parent, size_t offset, size_t bytes, clcnn_buf **out);
    void (*release_view)(void *bctx, clcnn_buf *view);
    /* The alignment of a view's offset in bytes (a multiple of 4). */
    size_t (*view_align)(void *bctx);
    int (*finish)(void *bctx);
    /* (optional, may be NULL: none) Device commands issued and host waits
     * so far (clcnn_ctx_counters). */
    void (*counters)(void *bctx, uint64_t *launches, uint64_t *waits);

    /* y = act(conv(x, w) + b); x (n,h,w,c), w (kh,kw,c,k), b (k), y (n,oh,ow,k). */
    int (*conv_forward)(void *bctx, const conv_geom *g, const clcnn_buf *x, const clcnn_buf *w, const clcnn_buf *b,
                        clcnn_activation act, clcnn_buf *y);
    /* From dz (n,oh,ow,k): dx (n,h,w,c), dw (kh,kw,c,k), db (k); each is
     * overwritten, and each may be NULL when not wanted.
     * x_act (here and in pool_backward, dense_backward): the element-wise
     * activation whose output x is, IDENTITY, RELU, SIGMOID or TANH (never
     * SOFTMAX).  dx is then the gradient at that activation's input: with
     * e the gradient at x, dx[i] = e[i] * act'(x[i]) exactly as
     * activation_backward(x_act, .., y = x, dy = e) computes it (ReLU:
     * x[i] > 0 ? e[i] : 0).  With IDENTITY dx = e.  Only dx changes; dw
     * and db do not depend on x_act. */
    int (*conv_backward)(void *bctx, const conv_geom *g, const clcnn_buf *dz, const clcnn_buf *x, const clcnn_buf *w,
                         clcnn_activation x_act, clcnn_buf *dx, clcnn_buf *dw, clcnn_buf *db);
    /* (optional, may be NULL) conv_forward into y_conv, then pool_forward
     * (geometry p, whose input is g's output) of y_conv into y_pool, with
     * both outputs bit-identical to those two calls', in fewer launches.
     * With keep_conv 0 the caller will not read y_conv (inference): its
     * contents are then unspecified, and a backend may leave it unwritten.
     * A backend that does not fuse this geometry or act returns
     * CLCNN_ERR_UNSUPPORTED having queued nothing and set no message; the
     * caller then makes the two calls. */
    int (*conv_pool_forward)(void *bctx, const conv_geom *g, const pool_geom *p, const clcnn_buf *x,
                             const clcnn_buf *w, const clcnn_buf *b, clcnn_activation act, clcnn_buf *y_conv,
                             int keep_conv, clcnn_buf *y_pool);

    /* y (n,oh,ow,c) = max or mean of each window of x (n,h,w,c). */
    int (*pool_forward)(void *bctx, const pool_geom *g, const clcnn_buf *x, clcnn_buf *y);
    /* dx (n,h,w,c), overwritten, from dy (n,oh,ow,c); max uses the tie rule:
     * every cell equal to the window maximum receives the full gradient.
     * y is pool_forward's output for this x when the caller kept it (the
     * window maxima, which a backend may then read instead of recomputing),
     * or NULL.  x_act as for conv_backward. */
    int (*pool_backward)(void *bctx, const pool_geom *g, const clcnn_buf *dy, const clcnn_buf *x, const clcnn_buf *y,
                         clcnn_activation x_act, clcnn_buf *dx);

    /* y[c] = x[c] * s[c]^-beta, s[c] = k + alpha * sum_{c' in window(c)} x[c']^2,
     * per pixel; x, y (n,h,w,c). */
    int (*lrn_forward)(void *bctx, const lrn_geom *g, const clcnn_buf *x, clcnn_buf *y);
    /* dx (n,h,w,c), overwritten, from dy: dx[j] = dy[j] s[j]^-beta
     * - 2 alpha beta x[j] sum_{c: j in window(c)} dy[c] x[c] s[c]^(-beta-1). */
    int (*lrn_backward)(void *bctx, const lrn_geom *g, const clcnn_buf *dy, const clcnn_buf *x, clcnn_buf *dx);

    /* y = x * mask, mask (may be NULL: not wanted) = 0 or scale per
     * element by the draw of dropout_geom. */
    int (*dropout_forward)(void *bctx, const dropout_geom *g, const clcnn_buf *x, clcnn_buf *y, clcnn_buf *mask);
    /* dx = dy * mask, the same mask recomputed. */
    int (*dropout_backward)(void *bctx, const dropout_geom *g, const clcnn_buf *dy, clcnn_buf *dx);

    /* y (m,out) = act(x (m,in) @ w (in,out) + b (out)). */
    int (*dense_forward)(void *bctx, size_t m, size_t in, size_t out, const clcnn_buf *x, const clcnn_buf *w,
                         const clcnn_buf *b, clcnn_activation act, clcnn_buf *y);
    /* dx = dz @ w^T (times act'(x) for x_act, as for conv_backward),
     * dw = x^T @ dz, db = column sums of dz; dx may be NULL. */
    int (*dense_backward)(void *bctx, size_t m, size_t in, size_t out, const clcnn_buf *dz, const clcnn_buf *x,
                          const clcnn_buf *w, clcnn_activation x_act, clcnn_buf *dx, clcnn_buf *dw, clcnn_buf *db);

    /* y = act(x) over rows x cols (softmax along each row); x == y allowed. */
    int (*activation_forward)(void *bctx, clcnn_activation act, size_t rows, size_t cols, const clcnn_buf *x,
                              clcnn_buf *y);
    /* dz = dy * act'(z), computed from the activation's output y;
     * dz == dy allowed. */
    int (*activation_backward)(void *bctx, clcnn_activation act, size_t rows, size_t cols, const clcnn_buf *y,
                               const clcnn_buf *dy, clcnn_buf *dz);

    /*
     * Softmax cross-entropy on logits (m,k) with int32 labels (m):
     * dlogits (m,k) = (p - onehot) / grad_scale, p = softmax(logits) (may be NULL);
     * stats (float[2]) += { sum_n -log p[n,label_n] (computed stably, from
     * the logits), number of n with argmax_k p[n,k] == label_n (first maximum) }.
     */
    int (*softmax_xent)(void *bctx, size_t m, size_t k, const clcnn_buf *logits, const clcnn_buf *labels,
                        float grad_scale, clcnn_buf *dlogits, clcnn_buf *stats);

    /* Adam (TensorFlow form) on count parameters, with the bias corrections
     * already folded into lr_t:  m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
     * w -= lr_t * m / (sqrt(v) + eps).  m and v are stored flushed: a
     * subnormal result (|x| < FLT_MIN) becomes 0, as under TensorFlow's
     * flush-to-zero, so that the moments of a parameter whose gradient stays
     * 0 reach 0 rather than decaying through the subnormals, each of whose
     * operations costs x86 a microcode assist (the same for SGD's v). */
    int (*adam_update)(void *bctx, size_t count, clcnn_buf *w, const clcnn_buf *g, clcnn_buf *m, clcnn_buf *v,
                       float lr_t, float b1, float b2, float eps);

    /* SGD with momentum on count parameters (PyTorch's form):
     * d = g + wd w; v = momentum v + d; d = nesterov ? d + momentum v : v;
     * w -= lr d; weight decay applies to elements [0, decayed) only (wd is
     * 0 beyond). */
    int (*sgd_update)(void *bctx, size_t count, size_t decayed, clcnn_buf *w, const clcnn_buf *g, clcnn_buf *v,
                      float lr, float momentum, float wd, int nesterov);

    /*
     * Batch assembly from a data set resident on the device: for r < m,
     * row indices[first + r] (int32) of images (row_len elements per row;
     * uint8 scaled by 1/255 when images_u8, else float32) goes to row r of
     * x, and labels[indices[first + r]] (int32) to y[r].  (indices may
     * hold a whole epoch's order, each batch a window of it.)
     */
    int (*gather_batch)(void *bctx, const clcnn_buf *images, int images_u8, size_t row_len, const clcnn_buf *labels,
                        const clcnn_buf *indices, size_t first, size_t m, clcnn_buf *x, clcnn_buf *y);

    /*
     * The same with augmentation (clcnn_model_set_augment): images are
     * h x w x c (HWC), and row r takes the offsets and flag
     * aug[3(first + r)..3(first + r) + 2] = dy, dx, flip (int32): x[r, i, j, ch] = image(i + dy, jj + dx, ch)
     * with jj = w - 1 - j when flip, else j, and 0 outside the image (a
     * crop of the zero-padded image, then a mirror).
     */
    int (*gather_augment)(void *bctx, const clcnn_buf *images, int images_u8, size_t h, size_t w, size_t c,
                          const clcnn_buf *labels, const clcnn_buf *indices, const clcnn_buf *aug, size_t first,
                          size_t m, clcnn_buf *x, clcnn_buf *y);

    /* (optional, may be NULL) A buffer over an application's device buffer
     * (a cl_mem on OpenCL) of at least bytes, without copying; the backend
     * checks that handle fits (context, size), takes its own reference and
     * drops it in release().  Sets the message on failure. */
    int (*wrap_native)(void *bctx, void *handle, size_t bytes, clcnn_buf **out);
    /* (optional, may be NULL) The device handle of buf (a cl_mem on OpenCL),
     * still owned by buf. */
    void *(*native_handle)(void *bctx, const clcnn_buf *buf);
} clcnn_backend_ops;

/* Backend constructors; on failure they set the message on ctx. */
int clcnn_cpu_backend_create(clcnn_ctx *ctx, const clcnn_backend_ops **ops, void **bctx);

/*
 * spec: NULL for "auto" (a GPU first, then any device), or "P:D".
 * Returns CLCNN_ERR_NO_DEVICE when there is no ICD, platform or device,
 * CLCNN_ERR_BUILD when the kernels fail to build (with the log).
 * desc receives a one-line description of the device.
 */
int clcnn_opencl_backend_create(clcnn_ctx *ctx, const char *spec, const clcnn_backend_ops **ops, void **bctx,
                                char *desc, size_t desc_len);

/*
 * The OpenCL backend on an application's own context, device and queue
 * (clcnn_ctx_create_opencl): the same setup as above on these handles
 * instead of discovered ones.  It retains context and queue (released by
 * destroy).  CLCNN_ERR_ARGUMENT for a NULL handle, an out-of-order queue, or
 * handles that do not belong together.  The handle types are the Khronos
 * headers' (cl_context is `struct _cl_context *`), spelled here so that this
 * header needs no OpenCL headers.
 */
struct _cl_context;
struct _cl_device_id;
struct _cl_command_queue;
struct _cl_mem;
int clcnn_opencl_backend_create_shared(clcnn_ctx *ctx, struct _cl_context *context, struct _cl_device_id *device,
                                       struct _cl_command_queue *queue, const clcnn_backend_ops **ops, void **bctx,
                                       char *desc, size_t desc_len);

#endif
