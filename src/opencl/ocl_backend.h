/*
 * The OpenCL backend's private interface, shared by its files:
 *   backend.c  create/destroy, the clcnn_backend_ops table;
 *   memory.c   buffers (alloc, release, read, write, fill, wrap), scratch;
 *   launch.c   the kernel registry (families, tunables, build options) and
 *              the one way to set arguments and launch;
 *   gemm.c     CLBlast glue and the direct-or-GEMM routing;
 *   conv.c, pool.c, dense.c, elementwise.c, loss.c, data.c: one op family
 *              each, with its descriptor (cl/ file, kernels, tunables).
 * Every op only enqueues work; read() and finish() are the only calls that
 * wait.
 */
#ifndef CLCNN_OCL_BACKEND_H
#define CLCNN_OCL_BACKEND_H

#include "opencl/ocl.h" /* first: it picks the OpenCL API version */

#include "opencl/families.h" /* generated from meson.build's ocl_families */

struct clcnn_buf {
    cl_mem mem;
    size_t bytes;
};

/* --------------------------------------------------------------- families */

typedef enum ocl_family_id {
#define OCL_FAMILY_ENUM(name) OCL_FAMILY_##name,
    OCL_FAMILIES(OCL_FAMILY_ENUM)
#undef OCL_FAMILY_ENUM
        OCL_FAMILY_COUNT
} ocl_family_id;

#define OCL_MAX_KERNELS 12 /* per family (elementwise has 9) */
#define OCL_MAX_TUNABLES 4 /* per family */
#define OCL_NO_KERNEL (-1)
#define OCL_TUNABLE_MAX 65536 /* the largest value a tunable may be set to */

/* A value of a family's kernels set by -DNAME=VALUE, the host's copy of
 * which sizes the launch grid. */
typedef struct ocl_tunable {
    const char *name; /* the macro in the .cl file */
    size_t value;     /* the default (CPU and accelerator devices) */
    int fixed;        /* 1: a fact of the kernels (the float8 width), never overridden */
    int wg_of;        /* the kernel whose reqd_work_group_size it is (lowered to fit
                         that kernel's limit), or OCL_NO_KERNEL */
    size_t gpu;       /* the default on a GPU (CL_DEVICE_TYPE_GPU), 0: value; register
                         blocks sized for the budgets of docs/gpu-targets.md */
} ocl_tunable;

/* What a family declares once: its .cl file, its kernels (indexed by the
 * family's own kernel enum) and its tunables (indexed by its tunable enum). */
typedef struct ocl_family {
    ocl_family_id id;
    const char *file;
    const char *const *kernels;
    int kernel_count;
    const ocl_tunable *tunables;
    int tunable_count;
} ocl_family;

#define OCL_FAMILY_EXTERN(name) extern const ocl_family ocl_family_##name;
OCL_FAMILIES(OCL_FAMILY_EXTERN)
#undef OCL_FAMILY_EXTERN

/* Every family, indexed by ocl_family_id (launch.c). */
extern const ocl_family *const ocl_families[OCL_FAMILY_COUNT];

/* Writes family f's build options for these tunable values (one per
 * tunable of f) into buf: -D of each tunable, the host enums as -D values,
 * then rest (the context's other build options).  -1 when len is too
 * short.  The one source of the options every program is built with. */
int ocl_format_options(const ocl_family *f, const size_t *tunables, const char *rest, char *buf, size_t len);

/* Variant n (from 0) of the tunable values the registry can build family f
 * with on a GPU (gpu 1) or another device (gpu 0) when no build option
 * sets them: variant 0 is the defaults, the others lower each work-group
 * tunable to every smaller power of two (as it is for a kernel whose limit
 * on the device is lower).  1 with tunables[] set (one per tunable of f),
 * 0 when n is past the last variant.  The registry builds from variant 0;
 * tests/kernel_programs.c lists every variant for offline builds. */
int ocl_tunable_variant(const ocl_family *f, int gpu, size_t n, size_t *tunables);

/* ---------------------------------------------------------------- backend */

/* OCL_SCRATCH_TEMP: an op's intermediate between its own launches (LRN's
 * terms, pooling's maxima); the in-order queue keeps ops apart. */
enum { OCL_SCRATCH_COL, OCL_SCRATCH_DCOL, OCL_SCRATCH_GEMM, OCL_SCRATCH_TEMP, OCL_SCRATCH_COUNT };

/* Uploads up to this size are copied into a ring of host staging slots
 * owned by the backend and written without waiting (no allocation in the
 * steady state); a slot is reused once its previous upload has completed. */
#define OCL_STAGING_SLOT_BYTES ((size_t)1 << 20)
#define OCL_STAGING_SLOTS 8

typedef struct ocl_kernel {
    cl_kernel kernel;
    size_t local; /* the work-group size it is launched with */
} ocl_kernel;

/* What the device allows, each lowered by the context's max_* setting. */
typedef struct ocl_limits {
    size_t work_group; /* CL_DEVICE_MAX_WORK_GROUP_SIZE, MAX_WORK_ITEM_SIZES[0] */
    size_t local_mem;  /* CL_DEVICE_LOCAL_MEM_SIZE, bytes */
    size_t alloc;      /* CL_DEVICE_MAX_MEM_ALLOC_SIZE, bytes */
} ocl_limits;

typedef struct ocl_backend {
    clcnn_ctx *ctx;
    ocl_device dev;
    cl_context context;
    cl_command_queue queue;
    cl_program programs[OCL_FAMILY_COUNT];
    ocl_kernel kernels[OCL_FAMILY_COUNT][OCL_MAX_KERNELS];
    size_t tunables[OCL_FAMILY_COUNT][OCL_MAX_TUNABLES]; /* the values the programs were built with */
    cl_mem scratch[OCL_SCRATCH_COUNT];
    size_t scratch_bytes[OCL_SCRATCH_COUNT];
    ocl_limits limits;
    size_t col_limit;                 /* bytes of the largest im2col chunk (config, within limits.alloc) */
    clcnn_path conv_path, dense_path; /* never CLCNN_PATH_DEFAULT (config) */
    struct {
        void *host;
        cl_event done; /* the upload from this slot, NULL when none pending */
    } staging[OCL_STAGING_SLOTS];
    int next_staging;
    uint64_t launches, waits; /* clcnn_ctx_counters: device commands, host waits */
} ocl_backend;

/* ------------------------------------------------------------- launch.c */

/* An OpenCL failure as a status (CLCNN_ERR_NOMEM for the out-of-memory
 * codes, else CLCNN_ERR_OPENCL) with the message "OpenCL: what failed". */
int ocl_fail(ocl_backend *b, cl_int err, const char *what);

/* Sizes are passed to kernels as 32-bit integers: CLCNN_ERR_UNSUPPORTED
 * when v does not fit. */
int ocl_check_u32(ocl_backend *b, const char *op, size_t v);

/* Builds every family's program with its tunables (defaults, or the
 * context's build options' -D of them) and the host enums as -D values,
 * and creates the kernels.  Errors as ocl_build_program, and
 * CLCNN_ERR_ARGUMENT for an invalid -D of a tunable. */
int ocl_registry_build(ocl_backend *b);
void ocl_registry_release(ocl_backend *b);

/* ------------------------------------------------------------- tuned.c */

/* The tunable values clcnn_tune stored for b's device (0 where none), when
 * the context uses them (config.tuned, no kernel_dir, a cache directory)
 * and a valid entry exists: 1; else 0 with every value 0. */
int ocl_tuned_read(ocl_backend *b, size_t values[OCL_FAMILY_COUNT][OCL_MAX_TUNABLES]);
/* Stores values (one per tunable; the fixed ones are left out) and a line
 * of note for b's device.  CLCNN_ERR_IO with the message when it cannot. */
int ocl_tuned_write(ocl_backend *b, const size_t values[OCL_FAMILY_COUNT][OCL_MAX_TUNABLES], const char *note);
/* "NAME=V NAME=V ..." of every tunable that is not fixed, each name after
 * prefix ("-D" makes build options); -1 when len is too short. */
int ocl_tuned_format(const size_t values[OCL_FAMILY_COUNT][OCL_MAX_TUNABLES], const char *prefix, char *buf,
                     size_t len);

/* The value family f's tunable t was built with. */
static inline size_t ocl_tunable_value(const ocl_backend *b, const ocl_family *f, int t)
{
    return b->tunables[f->id][t];
}

/* The work-group size kernel k of family f is launched with. */
static inline size_t ocl_local(const ocl_backend *b, const ocl_family *f, int k)
{
    return b->kernels[f->id][k].local;
}

/* One kernel argument: its size and a pointer to its value. */
typedef struct ocl_arg {
    size_t size;
    const void *value;
} ocl_arg;

#define OCL_MEM(x) ((ocl_arg){sizeof(cl_mem), &(cl_mem){(x)}})
#define OCL_U32(x) ((ocl_arg){sizeof(cl_uint), &(cl_uint){(cl_uint)(x)}})
#define OCL_I32(x) ((ocl_arg){sizeof(cl_int), &(cl_int){(cl_int)(x)}})
#define OCL_F32(x) ((ocl_arg){sizeof(cl_float), &(cl_float){(x)}})

/*
 * Sets the arguments of kernel k of family f, in order, and launches it over
 * items0 work-items (rounded up to its work-group size; kernels check their
 * bounds), by items1 rows when items1 > 0 (a 2-D range, work-group height
 * 1).  Nothing is launched for an empty range.
 */
int ocl_launch(ocl_backend *b, const ocl_family *f, int k, const ocl_arg *args, int nargs, size_t items0,
               size_t items1);
#define OCL_LAUNCH(b, f, k, items0, items1, ...)                                                                     \
    ocl_launch((b), (f), (k), (const ocl_arg[]){__VA_ARGS__},                                                        \
               (int)(sizeof((const ocl_arg[]){__VA_ARGS__}) / sizeof(ocl_arg)), (items0), (items1))

/* ceil(n / per). */
static inline size_t ocl_blocks(size_t n, size_t per)
{
    return (n + per - 1) / per;
}

/* ------------------------------------------------------------- memory.c */

/* Makes scratch buffer i hold at least bytes (contents not kept). */
int ocl_ensure_scratch(ocl_backend *b, int i, size_t bytes);
/* Releases the staging slots and scratch buffers (at destroy). */
void ocl_memory_release(ocl_backend *b);

int ocl_alloc(void *bctx, size_t bytes, clcnn_buf **out);
void ocl_release(void *bctx, clcnn_buf *buf);
int ocl_sub_buffer(void *bctx, clcnn_buf *parent, size_t offset, size_t bytes, clcnn_buf **out);
size_t ocl_view_align(void *bctx);
int ocl_wrap_native(void *bctx, void *handle, size_t bytes, clcnn_buf **out);
void *ocl_native_handle(void *bctx, const clcnn_buf *buf);
int ocl_write(void *bctx, clcnn_buf *dst, size_t offset, const void *src, size_t bytes);
int ocl_read(void *bctx, const clcnn_buf *src, size_t offset, void *dst, size_t bytes);
int ocl_finish(void *bctx);
void ocl_counters(void *bctx, uint64_t *launches, uint64_t *waits); /* launch.c */

/* --------------------------------------------------------------- gemm.c */

/*
 * The one routing rule of the backend: 1 when an op of this size goes
 * through GEMM (path forced by the settings, else size > direct_max), 0
 * for the direct kernels.  Always 0 in a build without CLBlast.
 */
int ocl_route_gemm(clcnn_path path, size_t size, size_t direct_max);

/* C (m,n) = op(A) op(B) + beta C, row-major, through CLBlast, its
 * temporary buffer taken from the scratch; op names the caller in errors.
 * CLCNN_ERR_UNSUPPORTED in a build without CLBlast (the routing never
 * asks for it there). */
int ocl_gemm(ocl_backend *b, const char *op, int trans_a, int trans_b, size_t m, size_t n, size_t k, cl_mem a,
             size_t a_off, size_t lda, cl_mem bm, size_t b_off, size_t ldb, float beta, cl_mem c, size_t c_off,
             size_t ldc);

/* ------------------------------------------------------------ families */

/* elementwise.c */
int ocl_fill(void *bctx, clcnn_buf *dst, size_t count, float value);
int ocl_activation_forward(void *bctx, clcnn_activation act, size_t rows, size_t cols, const clcnn_buf *x,
                           clcnn_buf *y);
int ocl_activation_backward(void *bctx, clcnn_activation act, size_t rows, size_t cols, const clcnn_buf *y,
                            const clcnn_buf *dy, clcnn_buf *dz);
int ocl_adam_update(void *bctx, size_t count, clcnn_buf *w, const clcnn_buf *g, clcnn_buf *m, clcnn_buf *v,
                    float lr_t, float b1, float b2, float eps);
/* dx *= act'(x) in place over count elements (backend.h's x_act) when act
 * is not IDENTITY: the backward paths whose kernels do not apply it. */
int ocl_times_derivative(ocl_backend *b, clcnn_activation act, size_t count, cl_mem x, cl_mem dx);
/* y (rows, cols) = softmax of x per row (x may be y). */
int ocl_softmax_rows(ocl_backend *b, cl_mem x, cl_mem y, size_t rows, size_t cols);

/* dense.c */
int ocl_dense_forward(void *bctx, size_t m, size_t in, size_t out, const clcnn_buf *x, const clcnn_buf *w,
                      const clcnn_buf *bias, clcnn_activation act, clcnn_buf *y);
int ocl_dense_backward(void *bctx, size_t m, size_t in, size_t out, const clcnn_buf *dz, const clcnn_buf *x,
                       const clcnn_buf *w, clcnn_activation x_act, clcnn_buf *dx, clcnn_buf *dw, clcnn_buf *db);
/* After a GEMM: y (rows, cols) += bias per column, then act (softmax per row). */
int ocl_bias_act(ocl_backend *b, cl_mem y, const clcnn_buf *bias, size_t rows, size_t cols, clcnn_activation act);
/* out (cols) = column sums of a (rows, cols): bias gradients of the GEMM path. */
int ocl_column_sums(ocl_backend *b, cl_mem a, size_t rows, size_t cols, cl_mem out);

/* conv.c */
int ocl_conv_forward(void *bctx, const conv_geom *g, const clcnn_buf *x, const clcnn_buf *w, const clcnn_buf *bias,
                     clcnn_activation act, clcnn_buf *y);
int ocl_conv_backward(void *bctx, const conv_geom *g, const clcnn_buf *dz, const clcnn_buf *x, const clcnn_buf *w,
                      clcnn_activation x_act, clcnn_buf *dx, clcnn_buf *dw, clcnn_buf *db);
int ocl_conv_pool_forward(void *bctx, const conv_geom *g, const pool_geom *p, const clcnn_buf *x, const clcnn_buf *w,
                          const clcnn_buf *bias, clcnn_activation act, clcnn_buf *y_conv, int keep_conv,
                          clcnn_buf *y_pool);

/* elementwise.c too: SGD and dropout */
int ocl_dropout_forward(void *bctx, const dropout_geom *g, const clcnn_buf *x, clcnn_buf *y, clcnn_buf *mask);
int ocl_dropout_backward(void *bctx, const dropout_geom *g, const clcnn_buf *dy, clcnn_buf *dx);
int ocl_sgd_update(void *bctx, size_t count, size_t decayed, clcnn_buf *w, const clcnn_buf *g, clcnn_buf *v,
                   float lr, float momentum, float wd, int nesterov);

/* lrn.c */
int ocl_lrn_forward(void *bctx, const lrn_geom *g, const clcnn_buf *x, clcnn_buf *y);
int ocl_lrn_backward(void *bctx, const lrn_geom *g, const clcnn_buf *dy, const clcnn_buf *x, clcnn_buf *dx);

/* pool.c */
int ocl_pool_forward(void *bctx, const pool_geom *g, const clcnn_buf *x, clcnn_buf *y);
int ocl_pool_backward(void *bctx, const pool_geom *g, const clcnn_buf *dy, const clcnn_buf *x, const clcnn_buf *y,
                      clcnn_activation x_act, clcnn_buf *dx);

/* loss.c */
int ocl_softmax_xent(void *bctx, size_t m, size_t k, const clcnn_buf *logits, const clcnn_buf *labels,
                     float grad_scale, clcnn_buf *dlogits, clcnn_buf *stats);

/* data.c */
int ocl_gather_batch(void *bctx, const clcnn_buf *images, int images_u8, size_t row_len, const clcnn_buf *labels,
                     const clcnn_buf *indices, size_t first, size_t m, clcnn_buf *x, clcnn_buf *y);
int ocl_gather_augment(void *bctx, const clcnn_buf *images, int images_u8, size_t h, size_t w, size_t c,
                       const clcnn_buf *labels, const clcnn_buf *indices, const clcnn_buf *aug, size_t first,
                       size_t m, clcnn_buf *x, clcnn_buf *y);

#endif
