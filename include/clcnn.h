/*
 * clcnn — a portable OpenCL compute engine for convolutional neural networks.
 *
 * Conventions of the whole API:
 * - Every fallible function returns an int status: CLCNN_OK (0) on success,
 *   a negative clcnn_status on failure.  After a failure, clcnn_errmsg(ctx)
 *   holds one human-readable line saying what went wrong (with the OpenCL
 *   build log when a kernel failed to compile).
 * - Objects are opaque handles.  Constructors hand the object back through an
 *   out-parameter; whoever receives it owns it and frees it with the matching
 *   *_free function.  Every *_free accepts NULL.
 * - Tensors are float32, row-major, contiguous, NHWC: (m, h, w, c).  Dense
 *   layers use rank-2 tensors (m, features).  Convolution weights are
 *   (kh, kw, c_prev, c_new), biases (1, 1, 1, c_new).
 * - Objects belong to the context that made them (tensors, models; data
 *   sets belong to no context) and are freed before it.  A model or tensor
 *   reports its errors on its context.
 * - Threads: a context and its objects may be used from one thread at a
 *   time; distinct contexts are independent and may be used from different
 *   threads at once (the library has no mutable global state).  Functions
 *   that take no context, or a NULL one (clcnn_version, clcnn_status_str,
 *   the *_from_name parsers, clcnn_npy_read/write and clcnn_devices_list
 *   with ctx NULL), may be called from any thread.
 * - Strings the library returns are static or belong to the object they
 *   came from; the caller never frees them.
 * - Host memory: every block the library allocates comes from the
 *   allocator hook of the context the call is on (clcnn_allocator; malloc
 *   and free when there is none, or no context).
 * - Environment: the settings of clcnn_ctx_options (device, threads,
 *   kernels, cache, OpenCL paths) default to CLCNN_* variables, read once
 *   when a context is created; see clcnn_ctx_options and docs/api.md.
 * - The library never calls exit(), abort() or assert() on run-time failures.
 */
#ifndef CLCNN_H
#define CLCNN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CLCNN_VERSION_MAJOR 0
#define CLCNN_VERSION_MINOR 1
#define CLCNN_VERSION_PATCH 0
#define CLCNN_VERSION_STRING "0.1.0"

#if defined(_WIN32)
#define CLCNN_API __declspec(dllexport)
#elif defined(__GNUC__)
#define CLCNN_API __attribute__((visibility("default")))
#else
#define CLCNN_API
#endif

/* ------------------------------------------------------------------ status */

typedef enum clcnn_status {
    CLCNN_OK = 0,
    CLCNN_ERR_ARGUMENT = -1,    /* a NULL pointer, zero size, bad enum, ... */
    CLCNN_ERR_SHAPE = -2,       /* shapes that do not fit together */
    CLCNN_ERR_NOMEM = -3,       /* host or device allocation failed */
    CLCNN_ERR_IO = -4,          /* a file could not be opened/read/written */
    CLCNN_ERR_FORMAT = -5,      /* a file is malformed */
    CLCNN_ERR_NO_DEVICE = -6,   /* no usable OpenCL platform/device */
    CLCNN_ERR_BUILD = -7,       /* an OpenCL program failed to build */
    CLCNN_ERR_OPENCL = -8,      /* an OpenCL call failed (see message) */
    CLCNN_ERR_NUMERIC = -9,     /* NaN or Inf where a finite value is needed */
    CLCNN_ERR_UNSUPPORTED = -10 /* valid request this build cannot do */
} clcnn_status;

/* A static English name for a status code ("success", "shape mismatch",
 * ...; "unknown status" for a code that is none of these). */
CLCNN_API const char *clcnn_status_str(int status);

/* The library's version as "MAJOR.MINOR.PATCH" (static string). */
CLCNN_API const char *clcnn_version(void);

/* ----------------------------------------------------------------- context */

typedef struct clcnn_ctx clcnn_ctx;

/* Receives notices (such as the CPU fallback); msg has no trailing newline
 * and is valid only during the call.  user is the pointer given with the
 * hook.  Called on the thread that made the call on the context. */
typedef void (*clcnn_log_fn)(void *user, const char *msg);

/*
 * Creates a context on a device:
 *   "auto" (or NULL) — an OpenCL GPU, else any OpenCL device, else the CPU
 *                      backend with a one-line notice through the log hook;
 *   "cpu"            — the CPU backend (plain C);
 *   "opencl"         — the device "auto" would pick, but never the fallback;
 *   "opencl:P:D"     — device D of platform P (indices as `clcnn devices`).
 * When device is NULL, "" or "auto", the environment variable CLCNN_DEVICE, if
 * set and not empty, is used instead; the other settings also come from
 * the environment, as for a zeroed clcnn_ctx_options.  Notices go to stderr, as one line
 * "clcnn: ...".  "auto" falls back to the CPU backend on any OpenCL failure
 * (no ICD, platform or device, a kernel that fails to build) except
 * running out of memory.
 * Errors: CLCNN_ERR_ARGUMENT (out NULL, unknown device name),
 * CLCNN_ERR_NOMEM, and for "opencl"/"opencl:P:D" CLCNN_ERR_NO_DEVICE,
 * CLCNN_ERR_BUILD or CLCNN_ERR_OPENCL.
 * As with sqlite3_open, a failure (other than out NULL) still sets *out to a
 * context that holds only the error message: read it with clcnn_errmsg()
 * and free it with clcnn_ctx_free().  Only when the context itself cannot
 * be allocated is *out NULL (with CLCNN_ERR_NOMEM).  The caller owns the
 * context either way.
 */
CLCNN_API int clcnn_ctx_create(clcnn_ctx **out, const char *device);

/* Like clcnn_ctx_create, with the log hook installed before the device is
 * chosen, so the fallback notice goes through it (log NULL: no notices). */
CLCNN_API int clcnn_ctx_create_with_log(clcnn_ctx **out, const char *device, clcnn_log_fn log, void *log_user);

/*
 * An allocator hook: where a context, and everything made on it, gets its
 * host memory.
 *   alloc(user, size, align): size bytes (size >= 1) aligned to align, a
 *     power of two (alignof(max_align_t) for most blocks, 64 for the CPU
 *     backend's tensor buffers and scratch); NULL when it cannot, and the
 *     call that needed the memory then fails with CLCNN_ERR_NOMEM (and
 *     frees what it had allocated).
 *   free(user, ptr, size): gives back a block alloc returned, with the
 *     size it was asked for; ptr is never NULL.
 *   user: passed to both, never looked at.
 * Both functions are called on the thread that makes the call on the
 * context or its objects (or frees a data set), never on the library's own
 * worker threads; one allocator may serve several contexts only if it is
 * safe to call from their threads at once.  It must stay usable until the
 * last block it gave out is back: after clcnn_ctx_free, and after
 * clcnn_dataset_free of every data set loaded with the context.
 * Not covered: memory allocated inside the OpenCL driver (device buffers
 * included), CLBlast and the C library itself (stdio's FILE buffers,
 * thread stacks of the CPU backend's workers).
 */
typedef struct clcnn_allocator {
    void *(*alloc)(void *user, size_t size, size_t align);
    void (*free)(void *user, void *ptr, size_t size);
    void *user;
} clcnn_allocator;

/* The OpenCL handle types of <CL/cl.h> (cl_context is
 * `struct _cl_context *`, ...), declared so that this header needs no
 * OpenCL headers; see clcnn_opencl.h. */
struct _cl_context;
struct _cl_device_id;
struct _cl_command_queue;

/* How the OpenCL backend computes convolutions or dense layers
 * (clcnn_ctx_options.conv_path, .dense_path). */
typedef enum clcnn_path {
    CLCNN_PATH_DEFAULT = 0, /* the environment variable's choice, else auto */
    CLCNN_PATH_AUTO = 1,    /* by size: clcnn's direct kernels for small layers
                               (all of LeNet-5), GEMM for large ones */
    CLCNN_PATH_DIRECT = 2,  /* always the direct kernels */
    CLCNN_PATH_GEMM = 3     /* always im2col + CLBlast GEMM; in a build without
                               CLBlast, the direct kernels */
} clcnn_path;

/*
 * Everything a context can be created with.  Zero-initialise it
 * (`clcnn_ctx_options o = {0};`) and set what you need: fields added in
 * later versions are zero by default.
 *
 * Settings and the environment: a field left at zero (NULL, "") takes the
 * value of the environment variable named with it, if that is set and not
 * empty, else the default given there; a field that is set wins over the
 * environment.  Variables are read once, when the context is created
 * (clcnn_ctx_create and clcnn_ctx_create_with_log read them the same way;
 * there, every field is zero).  A value that is not valid, set or from the
 * environment (CLCNN_THREADS=abc, CLCNN_OCL_CONV=fast, a path longer than
 * 4095 bytes), fails the creation with CLCNN_ERR_ARGUMENT and a message
 * naming the field or the variable.
 */
typedef struct clcnn_ctx_options {
    const char *device;               /* as for clcnn_ctx_create; NULL, "" or
                                         "auto": $CLCNN_DEVICE, else "auto" */
    clcnn_log_fn log;                 /* notices; NULL: none (not even stderr) */
    void *log_user;                   /* passed to log */
    const clcnn_allocator *allocator; /* NULL: malloc/free; copied, so the
                                         struct itself need not outlive the
                                         call (its user pointer must) */
    /* An application's OpenCL context, device and in-order queue to run on
     * (all three, with device NULL; see clcnn_ctx_create_opencl), or NULL. */
    struct _cl_context *cl_context;
    struct _cl_device_id *cl_device;
    struct _cl_command_queue *cl_queue;
    /* 1: read no CLCNN_* variable; every field left at zero takes its
     * default.  (The cache's default location still follows
     * XDG_CACHE_HOME and HOME, the platform's convention.) */
    int ignore_environment;
    /* CPU backend: worker threads, 1 to 256.  0: $CLCNN_THREADS, else one
     * per online CPU (at most 256). */
    int threads;
    /* OpenCL: read the kernel sources (common.cl, conv.cl, ...) from this
     * directory instead of the copies embedded in the library (kernel
     * development).  NULL: $CLCNN_KERNEL_DIR, else the embedded copies. */
    const char *kernel_dir;
    /* OpenCL: the directory of the compiled-program cache (created when
     * missing).  NULL: $CLCNN_CACHE_DIR, else $XDG_CACHE_HOME/clcnn, else
     * $HOME/.cache/clcnn, else no cache. */
    const char *cache_dir;
    /* OpenCL: the compiled-program cache, 1 on, -1 off.  0: $CLCNN_CACHE
     * ("0" off, "1" on), else on. */
    int cache;
    /* OpenCL: extra options for every program build (up to 2047 bytes),
     * e.g. "-DCOLSUM_WG=128 -cl-mad-enable".  A -D of one of the kernels'
     * tunables (CONV_PB, CONV_CB, CONV_DW_WG, DENSE_RB, COLSUM_WG, XENT_WG)
     * sets the value the host also sizes its launch grids with; it must be
     * a whole number from 1 to 65536, a power of two for the work-group
     * sizes (*_WG), else CLCNN_ERR_ARGUMENT.  CONV_KB and DENSE_OB, the
     * float8 width of the kernels, cannot be set (CLCNN_ERR_ARGUMENT).
     * NULL: $CLCNN_BUILD_OPTIONS, else none. */
    const char *build_options;
    /* OpenCL: convolutions' path.  CLCNN_PATH_DEFAULT: $CLCNN_OCL_CONV
     * ("auto", "direct", "gemm"; CLCNN_OCL_DIRECT_CONV=1 is an older
     * spelling of "direct"), else auto. */
    clcnn_path conv_path;
    /* OpenCL: dense layers' path.  CLCNN_PATH_DEFAULT: $CLCNN_OCL_DENSE
     * (as for conv_path), else auto. */
    clcnn_path dense_path;
    /* OpenCL, GEMM path: the largest im2col scratch buffer in bytes; larger
     * batches are processed in chunks of images.  0: $CLCNN_OCL_COL_LIMIT,
     * else 64 MiB. */
    size_t col_limit;
    /* OpenCL: limits below the device's own, so that the code paths of a
     * smaller device run on this one (testing on a CPU what a GPU's limits
     * require).  Each is the smaller of the setting and the device's figure:
     * the work-group size (CL_DEVICE_MAX_WORK_GROUP_SIZE and
     * CL_DEVICE_MAX_WORK_ITEM_SIZES[0]; every kernel's own
     * CL_KERNEL_WORK_GROUP_SIZE applies too), local memory per work-group
     * in bytes (CL_DEVICE_LOCAL_MEM_SIZE) and the largest single buffer in
     * bytes (CL_DEVICE_MAX_MEM_ALLOC_SIZE; larger im2col work is chunked,
     * a larger tensor or data set is CLCNN_ERR_NOMEM with a message).
     * 0: $CLCNN_OCL_MAX_WORK_GROUP, $CLCNN_OCL_MAX_LOCAL_MEM,
     * $CLCNN_OCL_MAX_ALLOC, else the device's own. */
    size_t max_work_group;
    size_t max_local_mem;
    size_t max_alloc;
    /* OpenCL: the kernel tunables clcnn_tune stored for this device (in the
     * cache directory, keyed by platform, device, driver and kernel
     * sources), 1 used, -1 ignored (the built-in defaults).  A tunable the
     * build options set wins over both; with kernel_dir set they are never
     * used.  0: $CLCNN_TUNED ("0" ignored, "1" used), else used. */
    int tuned;
} clcnn_ctx_options;

/*
 * Creates a context as described by options (NULL: all defaults, as a
 * zeroed struct).  The allocator and the log hook are installed before
 * anything else happens: the context itself is the allocator's first block,
 * and the fallback notice of "auto" goes to the log hook.
 * Errors and the failed context that holds the message: as for
 * clcnn_ctx_create, or clcnn_ctx_create_opencl when handles are given;
 * also CLCNN_ERR_ARGUMENT for a device name together with OpenCL handles.
 * An allocator with alloc or free NULL is CLCNN_ERR_ARGUMENT with *out
 * NULL (there is nothing to allocate the message with).
 */
CLCNN_API int clcnn_ctx_create_with_options(clcnn_ctx **out, const clcnn_ctx_options *options);

/* Frees ctx and its device resources (NULL: nothing).  Free the tensors and
 * models made on ctx first; data sets do not depend on it. */
CLCNN_API void clcnn_ctx_free(clcnn_ctx *ctx);

/* Frees memory the library handed to the caller (today only the array of
 * clcnn_npy_read) through the allocator of ctx, which must be the context
 * given to the call that returned it (NULL if that was NULL), before
 * clcnn_ctx_free.  p NULL: nothing.  Where ctx is NULL or has no allocator
 * hook the memory is malloc's, and free() frees it as well. */
CLCNN_API void clcnn_free(clcnn_ctx *ctx, void *p);

/* The last error message of ctx ("" if none; a static message when ctx is
 * NULL).  Belongs to ctx; valid until the next call on ctx or its objects.
 * A successful call does not clear it: test the status, not the message. */
CLCNN_API const char *clcnn_errmsg(const clcnn_ctx *ctx);

/* "cpu" or "opencl" ("none" for a context that holds only an error, or
 * NULL); a static string. */
CLCNN_API const char *clcnn_ctx_backend(const clcnn_ctx *ctx);

/* A description of the device in use, e.g. "OpenCL 0:0 pthread-... (CPU)"
 * ("" for a failed context).  Belongs to ctx, valid until clcnn_ctx_free. */
CLCNN_API const char *clcnn_ctx_device_name(const clcnn_ctx *ctx);

/* Replaces the log hook and its user pointer (log NULL silences notices;
 * ctx NULL: nothing happens).  Does not affect other contexts. */
CLCNN_API void clcnn_ctx_set_log(clcnn_ctx *ctx, clcnn_log_fn log, void *user);

/* Waits for all queued device work of ctx to finish.  Errors:
 * CLCNN_ERR_ARGUMENT (NULL or failed context), CLCNN_ERR_OPENCL. */
CLCNN_API int clcnn_ctx_finish(clcnn_ctx *ctx);

/* ----------------------------------------------------------------- tensors */

typedef struct clcnn_tensor clcnn_tensor;

#define CLCNN_MAX_RANK 4

/* A tensor of the given rank (1..4) and shape, contents zero, on ctx's
 * device; the caller owns *out (clcnn_tensor_free).  Errors:
 * CLCNN_ERR_ARGUMENT (NULL pointer, rank out of range, a zero dimension,
 * a size that overflows), CLCNN_ERR_NOMEM. */
CLCNN_API int clcnn_tensor_create(clcnn_ctx *ctx, clcnn_tensor **out, int rank, const size_t *shape);
/* Frees t (NULL: nothing).  Must come before clcnn_ctx_free of its context. */
CLCNN_API void clcnn_tensor_free(clcnn_tensor *t);

/* Copies count floats from host memory; count must equal the element count
 * (else CLCNN_ERR_ARGUMENT).  The caller keeps src. */
CLCNN_API int clcnn_tensor_write(clcnn_tensor *t, const float *src, size_t count);
/* Copies the tensor to host memory (waiting for queued work); count must
 * equal the element count (else CLCNN_ERR_ARGUMENT). */
CLCNN_API int clcnn_tensor_read(const clcnn_tensor *t, float *dst, size_t count);

/* Rank (1..4), shape and element count of t. */
CLCNN_API int clcnn_tensor_rank(const clcnn_tensor *t);
/* Writes rank() sizes to shape (which must hold CLCNN_MAX_RANK entries). */
CLCNN_API void clcnn_tensor_shape(const clcnn_tensor *t, size_t *shape);
CLCNN_API size_t clcnn_tensor_count(const clcnn_tensor *t);

/* -------------------------------------------------------------- operations */

typedef enum clcnn_activation {
    CLCNN_ACT_IDENTITY = 0,
    CLCNN_ACT_RELU = 1,
    CLCNN_ACT_SIGMOID = 2,
    CLCNN_ACT_TANH = 3,
    CLCNN_ACT_SOFTMAX = 4 /* over the last (channel) axis */
} clcnn_activation;

/* CLCNN_PAD_EXPLICIT: the pads of a clcnn_conv_params (clcnn_conv2d_*);
 * the seed calls take same or valid only. */
typedef enum clcnn_padding { CLCNN_PAD_SAME = 0, CLCNN_PAD_VALID = 1, CLCNN_PAD_EXPLICIT = 2 } clcnn_padding;

typedef enum clcnn_pool_mode { CLCNN_POOL_MAX = 0, CLCNN_POOL_AVG = 1 } clcnn_pool_mode;

/* Parses "identity"/"linear", "relu", "sigmoid", "tanh", "softmax";
 * "same"/"valid"; "max"/"avg".  Return the enum value, or -1 for an
 * unknown name or NULL. */
CLCNN_API int clcnn_activation_from_name(const char *name);
CLCNN_API int clcnn_padding_from_name(const char *name);
CLCNN_API int clcnn_pool_mode_from_name(const char *name);

/*
 * The four operations (exact semantics: README.md, DESIGN.md §1).
 * Output tensors: pass a pointer to NULL to have the operation create the
 * output (the caller then owns it), or a pointer to an existing tensor of
 * exactly the output shape, on the same context, to have it overwritten.
 * On failure an output the call created is freed and *out is NULL again;
 * a caller-given output keeps its place, its contents unspecified.
 * Errors: CLCNN_ERR_ARGUMENT (NULL input, stride or kernel < 1, unknown
 * enum value, tensor of another context), CLCNN_ERR_SHAPE (rank, channel
 * mismatch, kernel larger than the (padded) input, wrong output shape),
 * CLCNN_ERR_NOMEM, CLCNN_ERR_OPENCL.
 *
 * conv_forward: A = activation(b + conv(A_prev, W)), with A_prev
 * (m, h, w, c_prev), W (kh, kw, c_prev, c_new), b (1, 1, 1, c_new) (or
 * rank 1 (c_new)); "same" padding follows TensorFlow exactly.
 */
CLCNN_API int clcnn_conv_forward(clcnn_ctx *ctx, const clcnn_tensor *A_prev, const clcnn_tensor *W,
                                 const clcnn_tensor *b, clcnn_activation activation, clcnn_padding padding,
                                 int stride_h, int stride_w, clcnn_tensor **A_out);

/* conv_backward: dZ is the gradient at the un-activated output.  Any of
 * dA_prev, dW, db may be NULL when that gradient is not wanted. */
CLCNN_API int clcnn_conv_backward(clcnn_ctx *ctx, const clcnn_tensor *dZ, const clcnn_tensor *A_prev,
                                  const clcnn_tensor *W, const clcnn_tensor *b, clcnn_padding padding,
                                  int stride_h, int stride_w, clcnn_tensor **dA_prev, clcnn_tensor **dW,
                                  clcnn_tensor **db);

/* pool_forward: no padding; windows may overlap or leave gaps. */
CLCNN_API int clcnn_pool_forward(clcnn_ctx *ctx, const clcnn_tensor *A_prev, int kernel_h, int kernel_w,
                                 int stride_h, int stride_w, clcnn_pool_mode mode, clcnn_tensor **A_out);

/* pool_backward: overlapping contributions add up; for max, every cell equal
 * to its window's maximum receives the full gradient. */
CLCNN_API int clcnn_pool_backward(clcnn_ctx *ctx, const clcnn_tensor *dA, const clcnn_tensor *A_prev,
                                  int kernel_h, int kernel_w, int stride_h, int stride_w,
                                  clcnn_pool_mode mode, clcnn_tensor **dA_prev);

/*
 * The dense (fully connected) operations, under the same rules for outputs
 * and errors as the four above.  A_prev is (m, in), or (m, h, w, c), which
 * is read as (m, h*w*c) in NHWC order (what a flatten layer does, so a
 * pooling output feeds a dense operation directly); W is (in, out), as
 * clcnn_model_read_param gives a dense layer's weights; b is (out) or
 * (1, out).
 *
 * dense_forward: A (m, out) = activation(A_prev W + b); softmax is taken
 * over each row.
 */
CLCNN_API int clcnn_dense_forward(clcnn_ctx *ctx, const clcnn_tensor *A_prev, const clcnn_tensor *W,
                                  const clcnn_tensor *b, clcnn_activation activation, clcnn_tensor **A_out);

/* dense_backward: from dZ (m, out), the gradient at the un-activated
 * output, dA_prev = dZ W^T (with the shape of A_prev, rank 2 or 4),
 * dW = A_prev^T dZ (in, out) and db = the column sums of dZ (with the
 * shape of b).  Any of dA_prev, dW, db may be NULL when that gradient is
 * not wanted (a wanted dA_prev costs a matrix product; an unwanted dW or
 * db is still computed, into scratch memory the call frees). */
CLCNN_API int clcnn_dense_backward(clcnn_ctx *ctx, const clcnn_tensor *dZ, const clcnn_tensor *A_prev,
                                   const clcnn_tensor *W, const clcnn_tensor *b, clcnn_tensor **dA_prev,
                                   clcnn_tensor **dW, clcnn_tensor **db);

/*
 * Local response normalisation across channels (Krizhevsky et al. 2012,
 * section 3.3), under the same rules for outputs and errors as the
 * operations above.  For each example and pixel of A_prev (m, h, w, c):
 *   A[c] = A_prev[c] / (k + alpha * sum_{c' in window(c)} A_prev[c']^2)^beta
 * where window(c) is the channels c - size/2 .. c + (size-1)/2 (integer
 * division) that exist: the paper's n = size channels centred on c (for an
 * even size, one more below than above, as PyTorch has it).  alpha is the
 * paper's (and TensorFlow's): PyTorch's LocalResponseNorm, Caffe and ONNX
 * divide their alpha by size, so their alpha is clcnn's alpha * size
 * (docs/alexnet.md).  The paper's values: size 5, alpha 1e-4, beta 0.75,
 * k 2.  Ranges: size 1..4096, alpha 0..1e6, beta 0..4, k 1e-3..1e6
 * (else CLCNN_ERR_ARGUMENT).
 */
CLCNN_API int clcnn_lrn_forward(clcnn_ctx *ctx, const clcnn_tensor *A_prev, int size, float alpha, float beta,
                                float k, clcnn_tensor **A_out);

/* lrn_backward: dA_prev (the shape of A_prev) from dA, the gradient at the
 * output (the shape of A_prev too). */
CLCNN_API int clcnn_lrn_backward(clcnn_ctx *ctx, const clcnn_tensor *dA, const clcnn_tensor *A_prev, int size,
                                 float alpha, float beta, float k, clcnn_tensor **dA_prev);

/* ------------------------------------------------------------------- .npy */

/* Reads a little-endian C-order .npy (float32/float64/uint8/int32/int64) as
 * float32.  *data holds the elements; the caller owns it and frees it with
 * clcnn_free(ctx, *data) (the same ctx; free() also does where ctx is NULL
 * or has no allocator hook).  *rank and shape receive the rank and up to
 * CLCNN_MAX_RANK sizes.  ctx may be NULL (then no message is kept); the
 * message names the file and what is wrong.  Errors: CLCNN_ERR_ARGUMENT, CLCNN_ERR_IO, CLCNN_ERR_FORMAT,
 * CLCNN_ERR_NOMEM; *data is NULL after a failure. */
CLCNN_API int clcnn_npy_read(clcnn_ctx *ctx, const char *path, float **data, int *rank, size_t *shape);
/* Writes product(shape) floats as a float32 .npy, atomically (temp file +
 * rename); ctx may be NULL.  Errors: CLCNN_ERR_ARGUMENT, CLCNN_ERR_IO. */
CLCNN_API int clcnn_npy_write(clcnn_ctx *ctx, const char *path, const float *data, int rank, const size_t *shape);

/* ----------------------------------------------------------------- devices */

/* One OpenCL device as seen by discovery. */
typedef struct clcnn_device_info {
    int platform_index, device_index; /* as in "opencl:P:D" */
    char platform_name[128];
    char device_name[128];
    char device_type[16]; /* "GPU", "CPU", "ACCELERATOR", "OTHER" */
    char opencl_c_version[64];
    char driver_version[64];
    unsigned compute_units;
    uint64_t global_mem_bytes;
    int is_auto_choice; /* 1 for the device "auto" would pick */
} clcnn_device_info;

/*
 * Lists every OpenCL device of every platform into list (up to max
 * entries); *count receives the number found (which may exceed max).
 * No devices (or no OpenCL in this build) is not an error: *count is 0.
 * ctx may be NULL; when not, failures leave a message on it.
 */
CLCNN_API int clcnn_devices_list(clcnn_ctx *ctx, clcnn_device_info *list, size_t max, size_t *count);

/* ---------------------------------------------------------------- datasets */

/* Images (count, h, w, c) in [0, 1] and integer class labels, in host
 * memory (uint8 pixels are kept as uint8 and scaled on use).  A data set
 * belongs to no context: any context may read it, and it may outlive the
 * context that loaded it.  The ctx arguments below receive messages, and a
 * data set loaded or created with a ctx takes its memory from that
 * context's allocator hook and keeps a copy of the hook, to give the memory
 * back in clcnn_dataset_free (malloc/free with ctx NULL); the tail of
 * clcnn_dataset_split_tail takes the hook of the data set it came from.
 * The caller owns it and frees it with clcnn_dataset_free. */
typedef struct clcnn_dataset clcnn_dataset;

/* Loads IDX image and label files (raw or .gz, chosen by content).  Images
 * are uint8 (count, rows, cols) -> (count, rows, cols, 1), scaled to [0,1];
 * labels uint8.  The counts must agree.  labels_path may be NULL (images to
 * classify): every label is then 0.  Errors: CLCNN_ERR_ARGUMENT,
 * CLCNN_ERR_IO, CLCNN_ERR_FORMAT (a malformed or truncated file, counts
 * that disagree), CLCNN_ERR_NOMEM. */
CLCNN_API int clcnn_dataset_load_idx(clcnn_ctx *ctx, clcnn_dataset **out, const char *images_path,
                                     const char *labels_path);

/*
 * Loads a data source for training: path is a directory holding the
 * MNIST-named IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte,
 * t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each optionally .gz), or an
 * .npz in the MNIST.npz layout (X_train, Y_train, X_valid, Y_valid, X_test,
 * Y_test; images float in [0,1] or uint8, (n,h,w) or (n,h,w,c); labels
 * integer class ids), or an image folder: path/train/<class>/<image> and
 * optionally path/test/<class>/<image>, PNG or JPEG (.png, .jpg, .jpeg),
 * every image of one size, all grey or all colour (clcnn_dataset_load_image),
 * the classes the folder names in byte order (the data sets' class names;
 * test/'s classes must be among train/'s).  *valid is set to NULL when the source has no
 * validation split, *test to NULL when it has no test split; valid and test
 * may be NULL pointers when not wanted.  The caller owns what it receives.
 * Errors as clcnn_dataset_load_idx; after a failure every out-parameter is
 * NULL.
 */
CLCNN_API int clcnn_data_load(clcnn_ctx *ctx, const char *path, clcnn_dataset **train, clcnn_dataset **valid,
                              clcnn_dataset **test);

/* A data set copied from host memory: images (count*h*w*c floats in
 * [0, 1]), labels (count ints in [0, 255]); the caller keeps its arrays.
 * Errors: CLCNN_ERR_ARGUMENT (NULL, zero size, label out of range),
 * CLCNN_ERR_NOMEM. */
CLCNN_API int clcnn_dataset_create(clcnn_ctx *ctx, clcnn_dataset **out, size_t count, size_t h, size_t w, size_t c,
                                   const float *images, const int32_t *labels);

/* Moves the last tail_count examples of ds into a new data set *tail
 * (ds keeps the first count - tail_count; both parts must be non-empty,
 * else CLCNN_ERR_ARGUMENT).  The caller owns *tail. */
CLCNN_API int clcnn_dataset_split_tail(clcnn_ctx *ctx, clcnn_dataset *ds, size_t tail_count, clcnn_dataset **tail);

CLCNN_API size_t clcnn_dataset_count(const clcnn_dataset *ds);
/* shape receives (h, w, c). */
CLCNN_API void clcnn_dataset_image_shape(const clcnn_dataset *ds, size_t *shape);
/* 1 + the largest label. */
CLCNN_API int clcnn_dataset_classes(const clcnn_dataset *ds);
/* Copies examples [first, first+count) as floats in [0,1] (count*h*w*c)
 * and int labels (count); either destination may be NULL.  A range past
 * the end is CLCNN_ERR_ARGUMENT. */
CLCNN_API int clcnn_dataset_get(clcnn_ctx *ctx, const clcnn_dataset *ds, size_t first, size_t count, float *images,
                                int32_t *labels);
/* Frees ds (NULL: nothing). */
CLCNN_API void clcnn_dataset_free(clcnn_dataset *ds);

/* ------------------------------------------------------------------ models */

/* A model: an ordered list of layers over a fixed example shape (h, w, c),
 * with its parameters, gradients and Adam state on the context's device.
 * The context must outlive the model; the model's functions leave their
 * error messages on it (a NULL model gives CLCNN_ERR_ARGUMENT with no
 * message). */
typedef struct clcnn_model clcnn_model;

typedef enum clcnn_layer_kind {
    CLCNN_LAYER_CONV = 1,
    CLCNN_LAYER_POOL = 2,
    CLCNN_LAYER_FLATTEN = 3,
    CLCNN_LAYER_DENSE = 4,
    CLCNN_LAYER_ACTIVATION = 5,
    CLCNN_LAYER_LRN = 6,
    CLCNN_LAYER_DROPOUT = 7 /* clcnn_model_add_dropout */
} clcnn_layer_kind;

/* An empty model for examples of shape (h, w, c); the caller owns *out.
 * Errors: CLCNN_ERR_ARGUMENT (NULL, zero size, failed context),
 * CLCNN_ERR_NOMEM. */
CLCNN_API int clcnn_model_create(clcnn_ctx *ctx, clcnn_model **out, size_t h, size_t w, size_t c);
/* Frees m and its device memory (NULL: nothing); before its context. */
CLCNN_API void clcnn_model_free(clcnn_model *m);

/* Appending layers.  Each infers its output shape from the layer before and
 * fails (CLCNN_ERR_SHAPE, message naming the layer) on an impossible shape;
 * the model is unchanged by a failed append.  New parameters are zero until
 * clcnn_model_init. */
CLCNN_API int clcnn_model_add_conv(clcnn_model *m, size_t filters, int kernel_h, int kernel_w, int stride_h,
                                   int stride_w, clcnn_padding padding, clcnn_activation activation);
CLCNN_API int clcnn_model_add_pool(clcnn_model *m, int kernel_h, int kernel_w, int stride_h, int stride_w,
                                   clcnn_pool_mode mode);
CLCNN_API int clcnn_model_add_flatten(clcnn_model *m);
/* Dense layers take a flat input (after a flatten or a dense layer). */
CLCNN_API int clcnn_model_add_dense(clcnn_model *m, size_t units, clcnn_activation activation);
CLCNN_API int clcnn_model_add_activation(clcnn_model *m, clcnn_activation activation);
/* Local response normalisation across channels (clcnn_lrn_forward); the
 * shape is unchanged, no parameters. */
CLCNN_API int clcnn_model_add_lrn(clcnn_model *m, int size, float alpha, float beta, float k);

/* LeNet-5 of DESIGN.md §2 for 28x28x1 inputs and 10 classes (parameters
 * zero until clcnn_model_init). */
CLCNN_API int clcnn_model_lenet5(clcnn_ctx *ctx, clcnn_model **out);

/* He-normal initialisation (Keras he_normal: normal truncated at two
 * standard deviations, stddev sqrt(2/fan_in)/0.87962566103423978), biases
 * zero, Adam state reset.  The same seed gives the same weights on every
 * backend. */
CLCNN_API int clcnn_model_init(clcnn_model *m, uint64_t seed);

/* The example shape (h, w, c) the model takes. */
CLCNN_API void clcnn_model_input_shape(const clcnn_model *m, size_t *shape);
CLCNN_API size_t clcnn_model_layer_count(const clcnn_model *m);
/* Kind of layer i, and its output shape per example (h, w, c); a flat
 * output has h = w = 1. */
CLCNN_API int clcnn_model_layer_info(const clcnn_model *m, size_t i, clcnn_layer_kind *kind, size_t *out_shape);
/* A one-line description of layer i ("conv 6 5x5 stride 1x1 same relu
 * -> 28x28x6 (156 parameters)") into buf, cut to len - 1 characters. */
CLCNN_API int clcnn_model_layer_describe(const clcnn_model *m, size_t i, char *buf, size_t len);
/* Everything that defines layer i: its settings as the clcnn_model_add_*
 * call gave them (zero where the kind has no such setting) and its shapes
 * per example.  With it an application can run a model's layers one by one
 * through the public operations (clcnn bench does). */
typedef struct clcnn_layer_config {
    clcnn_layer_kind kind;
    const char *name;             /* the kind's name: "conv", "pool", ... (static) */
    const char *type;             /* Keras's name for it: "Conv2D", "MaxPooling2D", ... (static) */
    size_t units;                 /* conv filters, dense units */
    int kernel_h, kernel_w;       /* conv, pool */
    int stride_h, stride_w;       /* conv, pool */
    clcnn_padding padding;        /* conv */
    clcnn_activation activation;  /* conv, dense, activation */
    clcnn_pool_mode mode;         /* pool */
    size_t in_shape[3];           /* (h, w, c); a flat shape has h = w = 1 */
    size_t out_shape[3];
    struct {
        int size;
        float alpha, beta, k;
    } lrn;                        /* lrn (clcnn_model_add_lrn) */
    struct {
        int pad_top, pad_bottom, pad_left, pad_right; /* padding CLCNN_PAD_EXPLICIT; else 0 */
        int dilation_h, dilation_w, groups;
    } conv; /* conv (clcnn_model_add_conv2d; 0 pads, 1, 1, 1 for clcnn_model_add_conv) */
    struct {
        int pad_top, pad_bottom, pad_left, pad_right, ceil_mode, count_include_pad;
    } pool; /* pool (clcnn_model_add_pool2d; all 0 for clcnn_model_add_pool) */
    struct {
        float rate;
    } dropout; /* dropout (clcnn_model_add_dropout) */
} clcnn_layer_config;

/* Fills *config for layer i.  Errors: CLCNN_ERR_ARGUMENT (NULL, i out of
 * range; no message). */
CLCNN_API int clcnn_model_layer_config(const clcnn_model *m, size_t i, clcnn_layer_config *config);
/* Total number of trainable parameters. */
CLCNN_API size_t clcnn_model_param_count(const clcnn_model *m);
/* Number of classes (the last layer's width). */
CLCNN_API size_t clcnn_model_classes(const clcnn_model *m);

/* Parameters of layer i (which: 0 = weights, 1 = bias): element count (0 if
 * the layer has none), and copies to/from host memory.  Weights are
 * (kh, kw, c_prev, c_new) for convolution and (in, out) for dense layers.
 * read_grad gives the gradient of the last training step. */
CLCNN_API size_t clcnn_model_param_size(const clcnn_model *m, size_t i, int which);
CLCNN_API int clcnn_model_read_param(clcnn_model *m, size_t i, int which, float *dst, size_t count);
CLCNN_API int clcnn_model_write_param(clcnn_model *m, size_t i, int which, const float *src, size_t count);
CLCNN_API int clcnn_model_read_grad(clcnn_model *m, size_t i, int which, float *dst, size_t count);

/* Adam settings (defaults: lr 0.001, beta1 0.9, beta2 0.999, eps 1e-7). */
CLCNN_API int clcnn_model_set_adam(clcnn_model *m, float lr, float beta1, float beta2, float epsilon);
/* The Adam settings in use (a loaded checkpoint's own); any pointer may be
 * NULL.  Errors: CLCNN_ERR_ARGUMENT (m NULL; no message). */
CLCNN_API int clcnn_model_get_adam(const clcnn_model *m, float *lr, float *beta1, float *beta2, float *epsilon);

/* Probabilities (count x classes, into probs, which the caller provides)
 * for count >= 1 examples (count x h x w x c floats, NHWC).  Errors:
 * CLCNN_ERR_ARGUMENT, CLCNN_ERR_NOMEM, CLCNN_ERR_OPENCL. */
CLCNN_API int clcnn_model_predict(clcnn_model *m, const float *images, size_t count, float *probs);

/* One training step on a batch from host memory: forward, softmax
 * cross-entropy (mean over the batch), backward, Adam.  loss and accuracy
 * (may be NULL) receive the batch's figures before the update.  The model's
 * last layer must end in softmax, and labels lie in [0, classes) (else
 * CLCNN_ERR_ARGUMENT).  A non-finite loss is CLCNN_ERR_NUMERIC. */
CLCNN_API int clcnn_model_train_step(clcnn_model *m, const float *images, const int32_t *labels, size_t count,
                                     float *loss, float *accuracy);

/* Progress of an epoch: examples done of total, running mean loss and
 * accuracy.  Return non-zero to stop the epoch early (then
 * clcnn_model_train_epoch returns CLCNN_OK with the figures so far). */
typedef int (*clcnn_progress_fn)(void *user, size_t done, size_t total, double loss, double accuracy);

/* One epoch over ds: shuffled with shuffle_seed, in batches of batch_size
 * (the last may be smaller).  The data set, the shuffled order (and the
 * augmentation's draws) are uploaded to the device once; progress (may be
 * NULL) is called after every report_every examples (0: a sensible default)
 * and at the end, each report reading the running sums (a wait for the
 * device).  With progress NULL (and no reducer) the host waits only once,
 * at the end, for the epoch's figures.  loss/accuracy (may be NULL) receive
 * the epoch's means.  A non-finite loss stops training with
 * CLCNN_ERR_NUMERIC: at the report that sees it, or at the end when
 * progress is NULL. */
CLCNN_API int clcnn_model_train_epoch(clcnn_model *m, const clcnn_dataset *ds, size_t batch_size,
                                      uint64_t shuffle_seed, clcnn_progress_fn progress, void *user,
                                      size_t report_every, double *loss, double *accuracy);

/* Where a training run stands: what a checkpoint records beside the model
 * and its Adam state, so that a resumed run repeats the shuffles and steps
 * of an uninterrupted one. */
typedef struct clcnn_train_state {
    uint64_t seed;       /* the run's seed; epoch e shuffles with seed*1000003+e */
    uint32_t epoch;      /* the epoch in progress, from 1 */
    uint32_t batch_size;
    uint64_t done;       /* examples of that epoch already trained */
    double loss_sum;     /* sum of their losses */
    double correct;      /* how many of them were classified right */
    uint64_t data_count; /* the training set's size and label fingerprint, */
    uint32_t data_crc;   /* to refuse resuming on other data */
    uint64_t step;       /* Adam steps the model has taken, earlier runs
                            included: set by clcnn_model_train_run and
                            clcnn_model_load_checkpoint, never read (the
                            checkpoint keeps the model's own count) */
    /* Set by clcnn_model_train_run at EPOCH_END when options->valid is
     * set (validated 1): the model's figures on it after the epoch. */
    int validated;
    double valid_loss, valid_accuracy;
} clcnn_train_state;

/* The shuffle seed of epoch e of a run with this seed. */
CLCNN_API uint64_t clcnn_epoch_seed(uint64_t seed, uint32_t epoch);

/* Like clcnn_model_train_epoch, starting after the first from->done
 * examples of the epoch's shuffle, with the running figures from->loss_sum
 * and from->correct (from NULL: from the start). */
CLCNN_API int clcnn_model_train_epoch_from(clcnn_model *m, const clcnn_dataset *ds, size_t batch_size,
                                           uint64_t shuffle_seed, const clcnn_train_state *from,
                                           clcnn_progress_fn progress, void *user, size_t report_every,
                                           double *loss, double *accuracy);

/* Saves a checkpoint: the model, its Adam state and the run position, in
 * the model-file format with the training-state flag, atomically (temp
 * file, fsync, rename).  Refuses (CLCNN_ERR_NUMERIC) to save NaN or Inf. */
CLCNN_API int clcnn_model_save_checkpoint(clcnn_model *m, const char *path, const clcnn_train_state *state);
/* Loads a checkpoint written by clcnn_model_save_checkpoint. */
CLCNN_API int clcnn_model_load_checkpoint(clcnn_ctx *ctx, clcnn_model **out, const char *path,
                                          clcnn_train_state *state);

/* A CRC-32 of the data set's labels: a cheap fingerprint of which data a
 * checkpoint was trained on. */
CLCNN_API uint32_t clcnn_dataset_fingerprint(const clcnn_dataset *ds);

/* The state of a new run on ds: epoch 1, nothing done yet, the given seed
 * (for the shuffles; clcnn_model_init takes its own) and batch size, ds's
 * size and fingerprint.  Errors: CLCNN_ERR_ARGUMENT (NULL, batch_size 0 or
 * above UINT32_MAX; no message). */
CLCNN_API int clcnn_train_state_init(clcnn_train_state *state, const clcnn_dataset *ds, uint64_t seed,
                                     size_t batch_size);

/* What clcnn_model_train_run tells its callback, in this order for every
 * epoch: BEGIN, PROGRESS (several times, the last at the epoch's last
 * step), END. */
typedef enum clcnn_train_event {
    CLCNN_TRAIN_EPOCH_BEGIN = 0, /* before the epoch's first step (state->done > 0 when resuming) */
    CLCNN_TRAIN_PROGRESS = 1,    /* every report_every steps of the epoch, and after its last */
    CLCNN_TRAIN_EPOCH_END = 2    /* the epoch is complete (state->done == data_count), after its checkpoint */
} clcnn_train_event;

/* A training run's callback.  state is the exact position of the run after
 * the event (what a checkpoint written there records; loss_sum / done and
 * correct / done are the epoch's running mean loss and accuracy); it
 * belongs to the library and is valid during the call only.  The callback
 * may use the model read-only (evaluate it, predict, save it) but not train
 * it.  Return non-zero to stop the run: clcnn_model_train_run then returns
 * CLCNN_OK with its state where the run stopped, from which a later call
 * continues exactly. */
typedef int (*clcnn_train_fn)(void *user, clcnn_train_event event, const clcnn_train_state *state);

/* How clcnn_model_train_run proceeds.  Zero-initialise it and set what you
 * need (fields added later are zero by default). */
typedef struct clcnn_train_options {
    uint32_t epochs;           /* the run ends after epoch `epochs` (from 1) */
    size_t report_every;       /* steps between PROGRESS calls (0: 10) */
    clcnn_train_fn callback;   /* NULL: none */
    void *user;                /* passed to callback */
    const char *checkpoint;    /* NULL: no checkpoints; else the path of one,
                                  rewritten atomically (clcnn_model_save_checkpoint) */
    uint64_t checkpoint_every; /* checkpoint after every step whose Adam step
                                  count is a multiple of this (0: never
                                  within an epoch), and always at the end of
                                  each epoch */
    /* NULL: none.  Else evaluated after every epoch, before its
     * checkpoint: the figures reach EPOCH_END's state and the model's
     * learning-rate schedule (clcnn_model_set_lr_schedule; a plateau
     * schedule needs it). */
    const clcnn_dataset *valid;
} clcnn_train_options;

/*
 * Trains m on ds from *state until epoch options->epochs has finished:
 * each epoch shuffled with clcnn_epoch_seed(state->seed, epoch) and walked
 * in batches of state->batch_size, the checkpoints and calls of *options
 * along the way.  *state is a new run's (clcnn_train_state_init) or the one
 * clcnn_model_load_checkpoint returned with the model: a run resumed from a
 * checkpoint takes the same steps and ends with the same model, bit for bit
 * on the CPU backend, as one never interrupted.  On return *state is where
 * the run stands (after the last epoch: the next epoch, nothing done).
 * Errors: CLCNN_ERR_ARGUMENT (NULL, a state of other data, a position past
 * the epoch's end), CLCNN_ERR_NUMERIC (a non-finite loss), those of
 * clcnn_model_train_epoch and of clcnn_model_save_checkpoint (a failed
 * checkpoint leaves the previous one in place).  After an error, *state
 * need not match the model: resume from the last checkpoint.
 */
CLCNN_API int clcnn_model_train_run(clcnn_model *m, const clcnn_dataset *ds, clcnn_train_state *state,
                                    const clcnn_train_options *options);

/* Mean loss and accuracy over ds, in batches of batch_size (0: 64); the
 * model is not changed.  Errors as clcnn_model_predict, and
 * CLCNN_ERR_SHAPE when ds's images or labels do not fit the model. */
CLCNN_API int clcnn_model_evaluate(clcnn_model *m, const clcnn_dataset *ds, size_t batch_size, double *loss,
                                   double *accuracy);

/* Saves the layer list and weights (docs/model-format.md), atomically: a
 * failure (CLCNN_ERR_IO) leaves any existing file at path as it was. */
CLCNN_API int clcnn_model_save(clcnn_model *m, const char *path);
/* Loads a saved model (or the model of a checkpoint) onto ctx's device;
 * the caller owns *out.  Errors:
 * CLCNN_ERR_IO, CLCNN_ERR_FORMAT (not a model file, a bad checksum, an
 * unknown version), CLCNN_ERR_NOMEM. */
CLCNN_API int clcnn_model_load(clcnn_ctx *ctx, clcnn_model **out, const char *path);

/* What a model or checkpoint file holds besides the model itself. */
typedef struct clcnn_model_file_info {
    uint32_t version;        /* the file's format version (docs/model-format.md) */
    int checkpoint;          /* 1: a checkpoint (with training state), 0: a model */
    clcnn_train_state state; /* a checkpoint's training state; zero for a model */
} clcnn_model_file_info;

/* Loads a model file or a checkpoint, whichever path holds (as
 * clcnn_model_load does), and fills *info (NULL: not wanted) with its
 * version, its kind and a checkpoint's training state.  The caller owns
 * *out.  Errors as clcnn_model_load. */
CLCNN_API int clcnn_model_load_file(clcnn_ctx *ctx, clcnn_model **out, const char *path,
                                    clcnn_model_file_info *info);

/* ------------------------------------------------------------ self-check */

/* One line of a device check: an op family (and code path) over its cases. */
typedef struct clcnn_check_row {
    char name[32];      /* "build", "conv (direct)", "conv (gemm)", "pool", ... */
    int passed;         /* 1: every case agreed with the CPU backend */
    int skipped;        /* 1: not run (message says why); counts as passed */
    unsigned cases;     /* cases run */
    double worst_error; /* the largest max|got - want| / max|want| of any output */
    double seconds;     /* the device's time for its cases (uploads and reads included) */
    char message[256];  /* the first failure ("" when passed) */
} clcnn_check_row;

#define CLCNN_CHECK_MAX_ROWS 16

typedef struct clcnn_check_report {
    char backend[16];  /* "opencl" or "cpu" */
    char device[256];  /* as clcnn_ctx_device_name */
    int passed;        /* 1: every row passed (or was skipped) */
    size_t count;      /* rows used */
    clcnn_check_row rows[CLCNN_CHECK_MAX_ROWS];
} clcnn_check_report;

/*
 * Checks a device: opens a context with options (NULL: defaults, device
 * "auto"), builds its kernels (row "build"), then runs every op family on
 * small cases (LeNet-5's layer shapes, odd sizes, strides, every
 * activation, explicit padding, dilation, groups, padded and ceil-mode
 * pooling; forward and backward) and compares each output with the CPU
 * backend's on the same inputs: a case passes when max|got - want| is at
 * most 1e-4 of max|want| for each of its outputs, and every value is
 * finite.  On OpenCL, convolution and dense run once per path (direct
 * kernels, and im2col + CLBlast GEMM where the build has CLBlast; options'
 * conv_path/dense_path are overridden for those rows).  The families
 * without a public operation (activation, loss, Adam, batch gather) go
 * through the backend as the engine calls them; "training step" runs one
 * LeNet-5 step and compares the loss and every gradient.
 * Returns CLCNN_OK when the check ran (the verdict is report->passed; a
 * context that cannot be created is a failed "build" row with its message),
 * CLCNN_ERR_ARGUMENT when report is NULL.
 */
CLCNN_API int clcnn_device_check(const clcnn_ctx_options *options, clcnn_check_report *report);

/* ------------------------------------------------------------------ tuning */

/* Called after each measured candidate: the tunable, the value tried, its
 * training images/s (median of the rounds; 0 when not measured) and the
 * verdict ("default", "kept", "slower", "wrong results", "does not build"). */
typedef void (*clcnn_tune_progress_fn)(void *user, const char *tunable, size_t value, double images_per_s,
                                       const char *verdict);

typedef struct clcnn_tune_options {
    const char *model; /* a model file whose layers set the shapes; NULL: LeNet-5 */
    size_t batch;      /* training batch; 0: 32 */
    int rounds;        /* interleaved rounds per candidate; 0: 3 */
    double seconds;    /* the least timed training per measurement; 0: 0.25 */
    int dry_run;       /* 1: measure and report, store nothing */
    const char *only;  /* tune only these tunables ("XENT_WG,COLSUM_WG"); NULL: all */
    clcnn_tune_progress_fn progress; /* NULL: none */
    void *user;
} clcnn_tune_options;

typedef struct clcnn_tune_report {
    char options[512];   /* the chosen values as build options, "-DCONV_PB=8 ..." */
    double default_rate; /* training images/s with the defaults (median of interleaved rounds) */
    double tuned_rate;   /* with the chosen values, in the same rounds */
    unsigned measured;   /* candidate values measured */
    unsigned rejected;   /* candidates that did not build or whose step disagreed */
    int stored;          /* 1: written to the cache; new contexts on the device use it */
} clcnn_tune_report;

/*
 * Tunes the OpenCL kernels of ctx's device for a training workload: for
 * each kernel tunable (work-group sizes and register blocks; not those the
 * build options fix), one at a time, builds a context per candidate value
 * (others at their best so far), checks that one training step from the
 * same weights gives the default's loss and gradients (clcnn_device_check's
 * tolerance) and measures training images/s in interleaved rounds; keeps a
 * value that is at least 3% faster than the best so far.  Last, the
 * defaults and the choice are measured side by side, and the defaults are
 * kept unless the choice wins there too.  Then stores the choice in the
 * program cache, keyed by platform, device, driver and the
 * kernel sources; every context created afterwards on that device uses it
 * (clcnn_ctx_options.tuned).  ctx itself keeps the values it was built with.
 * Errors: CLCNN_ERR_ARGUMENT (NULL, not an OpenCL context, or an
 * application's shared one), CLCNN_ERR_IO (no cache to store in, unless
 * dry_run), the errors of loading the model, with the message on ctx.
 */
CLCNN_API int clcnn_tune(clcnn_ctx *ctx, const clcnn_tune_options *options, clcnn_tune_report *report);

/* ------------------------------------- convolution: padding, dilation, groups */

/*
 * Every setting of a convolution, as PyTorch's Conv2d and ONNX's Conv define
 * them.  padding: CLCNN_PAD_SAME or CLCNN_PAD_VALID as in the seed calls
 * (TensorFlow's rules, with the dilated kernel's extent under same), or
 * CLCNN_PAD_EXPLICIT: pad_top, pad_bottom, pad_left, pad_right zero rows and
 * columns (asymmetric allowed; they must be 0 under same and valid).  Tap
 * (p, q) of output (i, j) reads the padded input at (i*stride_h +
 * p*dilation_h, j*stride_w + q*dilation_w), so under explicit padding
 *   out_h = floor((h + pad_top + pad_bottom - dilation_h*(kh-1) - 1) / stride_h) + 1
 * (the same for w).  groups splits the c_prev input channels and the c_new
 * filters into groups of c_prev/groups and c_new/groups: filter f sees only
 * the input channels of its group, f / (c_new/groups), and W is
 * (kh, kw, c_prev/groups, c_new) (HWIO; groups = c_prev is depthwise).
 * A field left 0 among stride_*, dilation_*, groups means 1, so
 * (clcnn_conv_params){.groups = 2} is a same-padded, stride-1 grouped
 * convolution.  Errors (besides those of clcnn_conv_forward):
 * CLCNN_ERR_ARGUMENT for a negative pad, stride, dilation or groups, pads
 * with same or valid padding, or groups that do not divide c_prev and
 * c_new; CLCNN_ERR_SHAPE for a dilated kernel larger than the padded input
 * or W of the wrong shape.
 */
typedef struct clcnn_conv_params {
    clcnn_padding padding;
    int pad_top, pad_bottom, pad_left, pad_right;
    int stride_h, stride_w;
    int dilation_h, dilation_w;
    int groups;
} clcnn_conv_params;

/* clcnn_conv_forward and clcnn_conv_backward with every setting of p (NULL:
 * same padding, stride 1, no dilation, one group); the same rules for
 * outputs and errors. */
CLCNN_API int clcnn_conv2d_forward(clcnn_ctx *ctx, const clcnn_tensor *A_prev, const clcnn_tensor *W,
                                   const clcnn_tensor *b, clcnn_activation activation, const clcnn_conv_params *p,
                                   clcnn_tensor **A_out);
CLCNN_API int clcnn_conv2d_backward(clcnn_ctx *ctx, const clcnn_tensor *dZ, const clcnn_tensor *A_prev,
                                    const clcnn_tensor *W, const clcnn_tensor *b, const clcnn_conv_params *p,
                                    clcnn_tensor **dA_prev, clcnn_tensor **dW, clcnn_tensor **db);
/* A conv layer with every setting of p (as clcnn_conv2d_forward); its
 * weights are (kh, kw, c_prev/groups, filters). */
CLCNN_API int clcnn_model_add_conv2d(clcnn_model *m, size_t filters, int kernel_h, int kernel_w,
                                     clcnn_activation activation, const clcnn_conv_params *p);

/* ------------------------------------------ pooling: padding, ceil mode */

/*
 * The settings of pooling beyond window, stride and mode, as PyTorch's
 * MaxPool2d/AvgPool2d and ONNX's MaxPool/AveragePool define them (ONNX's
 * asymmetric pads included).  Window (i, j) covers the input rows
 * i*stride_h - pad_top .. + kernel_h - 1 (columns alike), and
 *   out_h = floor_or_ceil((h + pad_top + pad_bottom - kernel_h) / stride_h) + 1
 * where ceil_mode rounds up (the partial last window counts), less one when
 * that last window would start beyond the input and pad_top (PyTorch's
 * rule).  Max: padded cells never win; the tie rule is the seed's (every
 * input cell equal to its window's maximum receives the full gradient).
 * Avg: the sum of the window's input cells divided by their number, or with
 * count_include_pad by the number of its cells within the padded input
 * (h + pad_top + pad_bottom rows).  Every pad must be smaller than the
 * window (so that each window holds an input cell): else, or for a negative
 * pad, CLCNN_ERR_ARGUMENT; a window larger than the padded input is
 * CLCNN_ERR_SHAPE.  All zero is the seed's pooling.
 */
typedef struct clcnn_pool_params {
    int pad_top, pad_bottom, pad_left, pad_right;
    int ceil_mode;         /* 0 floor, 1 ceil */
    int count_include_pad; /* avg: 0 divides by the input cells, 1 by the padded window's */
} clcnn_pool_params;

/* clcnn_pool_forward and clcnn_pool_backward with the settings of p (NULL:
 * all zero); the same rules for outputs and errors. */
CLCNN_API int clcnn_pool2d_forward(clcnn_ctx *ctx, const clcnn_tensor *A_prev, int kernel_h, int kernel_w,
                                   int stride_h, int stride_w, clcnn_pool_mode mode, const clcnn_pool_params *p,
                                   clcnn_tensor **A_out);
CLCNN_API int clcnn_pool2d_backward(clcnn_ctx *ctx, const clcnn_tensor *dA, const clcnn_tensor *A_prev,
                                    int kernel_h, int kernel_w, int stride_h, int stride_w, clcnn_pool_mode mode,
                                    const clcnn_pool_params *p, clcnn_tensor **dA_prev);
/* A pool layer with the settings of p. */
CLCNN_API int clcnn_model_add_pool2d(clcnn_model *m, int kernel_h, int kernel_w, int stride_h, int stride_w,
                                     clcnn_pool_mode mode, const clcnn_pool_params *p);
/* ------------------------------------------------------------ class names */

/* A model or a data set may hold one name per class ("T-shirt/top",
 * "Trouser", ...): the model file keeps a model's (docs/model-format.md),
 * and clcnn_data_load gives a data set those of its source (an .npz's
 * class_names array).  A name is 1 to CLCNN_CLASS_NAME_MAX bytes of UTF-8
 * with no control characters (U+0000 to U+001F, U+007F: so no newline or
 * tab); names need not be distinct. */
#define CLCNN_CLASS_NAME_MAX 255

/* Checks one NUL-terminated name as the setters below do.  Errors:
 * CLCNN_ERR_ARGUMENT with a message on ctx (may be NULL) that starts
 * "class name" ("class name is empty", "class name is 300 bytes long (at
 * most 255)", "... holds the control character 0x09 (byte 4)", "... is not
 * valid UTF-8 (byte 5)"). */
CLCNN_API int clcnn_class_name_check(clcnn_ctx *ctx, const char *name);

/* Gives m the names names[0 .. count-1], copied (the caller keeps its
 * strings); count must equal clcnn_model_classes(m).  count 0 (names may
 * then be NULL) removes them.  Adding a layer that changes the number of
 * classes removes them too.  Errors: CLCNN_ERR_ARGUMENT (NULL, a count
 * that is not the model's classes, a bad name: the message numbers it
 * from 1), CLCNN_ERR_NOMEM; the model keeps its names on failure. */
CLCNN_API int clcnn_model_set_class_names(clcnn_model *m, const char *const *names, size_t count);
/* The name of class i; NULL when the model has none or i is not a class.
 * The string belongs to m, valid until its names change or it is freed. */
CLCNN_API const char *clcnn_model_class_name(const clcnn_model *m, size_t i);

/* The same for a data set: count must be at least clcnn_dataset_classes(ds)
 * (a name for every label; a split may lack some classes), and at most
 * CLCNN_MAX_CLASS_NAMES.  Messages go to ctx (may be NULL); the copy comes
 * from the data set's allocator.  clcnn_dataset_split_tail gives the tail
 * the same names. */
#define CLCNN_MAX_CLASS_NAMES 256
CLCNN_API int clcnn_dataset_set_class_names(clcnn_ctx *ctx, clcnn_dataset *ds, const char *const *names,
                                            size_t count);
/* How many names ds holds (0: none), and name i (NULL when there is none). */
CLCNN_API size_t clcnn_dataset_class_name_count(const clcnn_dataset *ds);
CLCNN_API const char *clcnn_dataset_class_name(const clcnn_dataset *ds, size_t i);
/* ------------------------------------- data-parallel training (reducer) */

/*
 * A gradient-reduction hook (docs/distributed.md): with one set, the model
 * trains as rank `rank` of `size` processes that each hold the same model
 * and data set and together take every step of one run.  The library knows
 * no communicator; the application brings one (the clcnn program brings
 * MPI's).  With a reducer set:
 * - clcnn_model_train_run and clcnn_model_train_epoch(_from) split every
 *   batch of the shuffle into `size` shares that differ by at most one
 *   example, and this process computes the gradient of share `rank`, scaled
 *   by 1 / (the whole batch's examples).  `gradients` then receives every
 *   parameter gradient of the step in one contiguous host buffer (the
 *   layers in order, weights then bias, the layout clcnn_model_read_grad
 *   gives them; `count` floats) with the share's and the batch's example
 *   counts, and must replace it by the sum of all processes' buffers (an
 *   all-reduce); the library then writes it back and takes the update.
 *   The buffer is host memory on every backend: it is staged through the
 *   host once per step (the OpenCL backend keeps each parameter's gradient
 *   in a buffer of its own).
 * - The loss and accuracy sums (progress, checkpoints, epoch figures) and
 *   clcnn_model_evaluate, which evaluates share `rank` of the data set,
 *   go through `sums`, which must replace its `count` doubles by their sum
 *   over all processes.
 * - Only rank 0 writes checkpoints (options->checkpoint); a resumed state's
 *   sums count once, on rank 0.
 * Every process must make the same calls in the same order (the hooks are
 * collective).  A hook returns 0, or non-zero to fail the call that made
 * it with CLCNN_ERR_IO and a message naming the hook.
 * Without a reducer (the default) training is one process's, unchanged.
 */
typedef struct clcnn_reducer {
    unsigned rank, size; /* this process's share, 0 <= rank < size */
    int (*gradients)(void *user, float *grad, size_t count, size_t examples, size_t batch_examples);
    int (*sums)(void *user, double *sums, size_t count);
    void *user; /* passed to both */
} clcnn_reducer;

/* Installs a copy of *reducer on m (NULL: none, one process again).
 * Errors: CLCNN_ERR_ARGUMENT (m NULL; a reducer with a hook NULL, size 0
 * or rank >= size). */
CLCNN_API int clcnn_model_set_reducer(clcnn_model *m, const clcnn_reducer *reducer);

/* ------------------------------------- dropout, SGD and learning-rate schedules */

/*
 * Inverted dropout (Srivastava et al. 2014): each element of A_prev (any
 * rank) is kept with probability 1 - rate and then scaled by 1/(1 - rate),
 * or set to 0, so that evaluation is the identity.  The draw is a pure
 * function of (seed, element index), the same on every backend: element i
 * is dropped when (hash(i, key) >> 8) < round(rate * 2^24), hash and key
 * as docs/api.md ("Dropout") gives them, with key derived from seed.
 * *A receives the output and *mask (NULL: not wanted) the multiplier of
 * each element, 0 or 1/(1 - rate), so that A = A_prev * mask; both have
 * A_prev's shape and follow the output rules of the operations above.
 * rate lies in [0, 0.999] (else CLCNN_ERR_ARGUMENT); rate 0 copies.
 */
CLCNN_API int clcnn_dropout_forward(clcnn_ctx *ctx, const clcnn_tensor *A_prev, float rate, uint64_t seed,
                                    clcnn_tensor **A, clcnn_tensor **mask);
/* dropout_backward: dA_prev = dA * mask for the mask clcnn_dropout_forward
 * draws with the same rate and seed (recomputed, not stored). */
CLCNN_API int clcnn_dropout_backward(clcnn_ctx *ctx, const clcnn_tensor *dA, float rate, uint64_t seed,
                                     clcnn_tensor **dA_prev);
/* A dropout layer (the shape is unchanged, no parameters).  In training
 * (clcnn_model_train_step, _train_epoch, _train_run) layer i at optimizer
 * step t draws its mask from clcnn_noise_seed(seed, t, i), seed being
 * clcnn_model_init's, so a run resumed from a checkpoint draws the same
 * masks; clcnn_model_predict and clcnn_model_evaluate pass values through
 * unchanged. */
CLCNN_API int clcnn_model_add_dropout(clcnn_model *m, float rate);
/* The dropout seed of layer `layer` (from 0) at step `step` of a model
 * initialised with seed: what that layer passes to clcnn_dropout_forward. */
CLCNN_API uint64_t clcnn_noise_seed(uint64_t seed, uint64_t step, uint64_t layer);

/*
 * Stochastic gradient descent with momentum in PyTorch's form (dampening
 * 0): for each parameter w with gradient g,
 *   d = g + weight_decay * w   (weights only: biases take d = g)
 *   v = momentum * v + d
 *   d = nesterov ? d + momentum * v : v
 *   w -= lr * d
 * which, at a constant lr, is the update of Krizhevsky et al. (2012) with
 * their velocity equal to -lr * v.  The paper's values: lr 0.01, momentum
 * 0.9, weight decay 5e-4.  Replaces the model's optimizer (Adam by
 * default) from the next step; the velocity starts at zero (as after
 * clcnn_model_init).  Ranges: lr > 0, 0 <= momentum < 1, 0 <= weight_decay
 * < 1, nesterov 0 or 1 and only with momentum > 0 (else
 * CLCNN_ERR_ARGUMENT).  clcnn_model_set_adam switches back to Adam.
 */
CLCNN_API int clcnn_model_set_sgd(clcnn_model *m, float lr, float momentum, float weight_decay, int nesterov);
/* The optimizer in use, "adam" or "sgd" (static; NULL for m NULL), and its
 * SGD settings (any pointer may be NULL; those of the last
 * clcnn_model_set_sgd, or 0 with Adam). */
CLCNN_API const char *clcnn_model_optimizer(const clcnn_model *m);
CLCNN_API int clcnn_model_get_sgd(const clcnn_model *m, float *lr, float *momentum, float *weight_decay,
                                  int *nesterov);

/* A learning-rate schedule, applied at the end of each epoch by
 * clcnn_model_lr_schedule_epoch (clcnn_model_train_run calls it). */
typedef enum clcnn_lr_schedule_kind {
    CLCNN_LR_CONSTANT = 0, /* the default */
    CLCNN_LR_STEP = 1,     /* after every `every` epochs: lr *= factor */
    CLCNN_LR_PLATEAU = 2   /* after `patience` epochs in a row whose validation
                              loss is not below the best so far: lr *= factor
                              (0.1 in the paper), the count starting again */
} clcnn_lr_schedule_kind;

typedef struct clcnn_lr_schedule {
    clcnn_lr_schedule_kind kind;
    uint32_t every;    /* STEP: 1 .. 100000 */
    uint32_t patience; /* PLATEAU: 1 .. 100000 */
    float factor;      /* STEP, PLATEAU: 0 < factor < 1 */
} clcnn_lr_schedule;

/* Sets m's schedule (NULL: constant) and starts its count afresh from the
 * learning rate in use.  Errors: CLCNN_ERR_ARGUMENT (a kind or setting out
 * of range, with a message). */
CLCNN_API int clcnn_model_set_lr_schedule(clcnn_model *m, const clcnn_lr_schedule *schedule);
/* Tells the schedule that epoch `epoch` (from 1) has ended with this
 * validation loss (NAN when there is none; a PLATEAU schedule then fails
 * with CLCNN_ERR_ARGUMENT), and sets the learning rate it gives for the
 * next epoch.  Checkpoints keep the schedule and its count. */
CLCNN_API int clcnn_model_lr_schedule_epoch(clcnn_model *m, uint32_t epoch, double valid_loss);
/* The learning rate the optimizer uses now (0 for m NULL). */
CLCNN_API float clcnn_model_lr(const clcnn_model *m);

/* -------------------------------------- image files and augmentation */

/* One PNG or JPEG image (by its first bytes) as a data set of one example
 * with label 0: h x w x 1 for a grey image, h x w x 3 (RGB) for a colour
 * one; alpha is composited onto black, 16-bit samples become 8-bit.  The
 * image folders of clcnn_data_load are read the same way.  Errors:
 * CLCNN_ERR_ARGUMENT, CLCNN_ERR_IO, CLCNN_ERR_FORMAT ("<path>: ...": not a
 * PNG or JPEG, undecodable, over 16384 pixels a side or 2^24 pixels, CMYK,
 * or a build without libpng/libjpeg), CLCNN_ERR_NOMEM. */
CLCNN_API int clcnn_dataset_load_image(clcnn_ctx *ctx, clcnn_dataset **out, const char *path);

/* Augmentation of training batches, drawn per example from the training
 * seed (the same seed, the same run; a resumed checkpoint draws what the
 * uninterrupted run drew) and applied where the batch is assembled, on the
 * device: evaluation and prediction see the images as they are. */
typedef struct clcnn_augment {
    /* Random crops: the image is padded with crop zeros on every side and
     * a window of its own size taken at a uniform offset (0: none). */
    unsigned crop;
    /* Mirrors half the images left-right (after the crop). */
    int flip;
} clcnn_augment;

/* Sets m's augmentation (NULL or all zero: none, the default).  Errors:
 * CLCNN_ERR_ARGUMENT (m NULL; crop not below the input's height and
 * width). */
CLCNN_API int clcnn_model_set_augment(clcnn_model *m, const clcnn_augment *augment);
/* The augmentation in use.  Errors: CLCNN_ERR_ARGUMENT (NULL). */
CLCNN_API int clcnn_model_get_augment(const clcnn_model *m, clcnn_augment *augment);
/* ------------------------------------------- networks described in a spec */
/* A layer list in a text file (docs/spec-format.md): an `input HxWxC` line,
 * then one layer per line, `FAMILY NAME=VALUE ...` with the settings of
 * clcnn_layer_config by their field names ("conv units=6 k=5 s=1
 * padding=same activation=relu").  Every layer family is known by name,
 * those added later included. */

/* The model spec names: a built-in network ("lenet5", "alexnet-mini";
 * before any file of that name) or else a spec file.  Parameters are zero
 * until clcnn_model_init; the caller owns *out (NULL on failure).  Errors:
 * CLCNN_ERR_ARGUMENT (NULL), CLCNN_ERR_IO (no such file), CLCNN_ERR_FORMAT
 * ("FILE:LINE: what is wrong"), CLCNN_ERR_SHAPE ("FILE:LINE: layer N
 * (KIND): ..." for a layer the shape before it cannot take),
 * CLCNN_ERR_NOMEM. */
CLCNN_API int clcnn_model_from_spec(clcnn_ctx *ctx, clcnn_model **out, const char *spec);
/* The same from len bytes of text (not necessarily NUL-terminated); name
 * is what messages call it.  The caller keeps text. */
CLCNN_API int clcnn_model_from_spec_text(clcnn_ctx *ctx, clcnn_model **out, const char *name, const char *text,
                                         size_t len);
/* The text of the built-in spec name (static), or NULL for another name. */
CLCNN_API const char *clcnn_spec_builtin(const char *name);
/* The name of built-in spec i (static), or NULL when i is past the last. */
CLCNN_API const char *clcnn_spec_builtin_name(size_t i);

/* ------------------------------------------------------------------- ONNX */

/*
 * ONNX interchange (docs/onnx.md), in a build with -Donnx (protobuf-c);
 * without it both calls return CLCNN_ERR_UNSUPPORTED.
 *
 * clcnn_model_load_onnx: a model from an ONNX file whose graph is a chain
 * of the layers clcnn has (Conv, MaxPool, AveragePool, LRN, Relu, Sigmoid,
 * Tanh, Softmax, Flatten/Reshape, Gemm, MatMul+Add, Dropout and Identity as
 * no-ops, BatchNormalization folded into the Conv or Gemm before it;
 * opsets 7 to 17), its weights converted to clcnn's layouts.  The graph's
 * input is NCHW (N, C, H, W) or (N, F); the model takes the same images in
 * clcnn's NHWC (h, w, c), the flatten order converted in the dense
 * weights, so its predictions equal the ONNX graph's output (logits when
 * the graph ends without a Softmax).  Class names come from the metadata
 * entry "class_names" (one per line) when it names every class.  The
 * caller owns *out.  Errors: CLCNN_ERR_IO, CLCNN_ERR_FORMAT (not ONNX,
 * larger than 1 GiB, a tensor whose data does not match its shape),
 * CLCNN_ERR_UNSUPPORTED (an operator, attribute, data type or graph shape
 * clcnn cannot express: the message names the node and its operator),
 * CLCNN_ERR_NOMEM.
 *
 * clcnn_model_save_onnx: m as an ONNX model (opset 13, IR version 8,
 * producer "clcnn"), written atomically.  Its input "input" is NCHW
 * (N, C, H, W) with N free, its output "output" (N, classes) what
 * clcnn_model_predict gives; the layouts are converted in the weights, so
 * no Transpose node is needed.  The class names go into the metadata
 * entry "class_names".  Errors: CLCNN_ERR_UNSUPPORTED (a layer ONNX's
 * operators cannot express exactly, named), CLCNN_ERR_IO, CLCNN_ERR_NOMEM.
 */
CLCNN_API int clcnn_model_load_onnx(clcnn_ctx *ctx, clcnn_model **out, const char *path);
CLCNN_API int clcnn_model_save_onnx(clcnn_model *m, const char *path);

/* ---- Launch and wait counters ----------------------------------------- */

/* What a context's backend has issued since the context was made, for
 * counting what a training step or a prediction costs (clcnn bench):
 * launches are kernels (clcnn's own, and each GEMM handed to CLBlast, which
 * may enqueue more than one kernel for it; uploads and buffer fills are not
 * counted); waits are the times the host blocked on the device (blocking
 * reads and writes, finish, waiting for an upload slot).  The CPU backend runs everything in the
 * calling thread and reports 0 for both. */
typedef struct clcnn_counters {
    uint64_t launches, waits;
} clcnn_counters;

/* Errors: CLCNN_ERR_ARGUMENT (ctx or out NULL, or ctx unusable). */
CLCNN_API int clcnn_ctx_counters(clcnn_ctx *ctx, clcnn_counters *out);

#ifdef __cplusplus
}
#endif

#endif /* CLCNN_H */
