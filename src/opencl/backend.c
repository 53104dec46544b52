/*
 * The OpenCL backend: the clcnn_backend_ops table on one device and one
 * in-order queue.  Every op only enqueues work; read() and finish() are the
 * only calls that wait.  Small convolutions and dense layers (LeNet-sized)
 * run on direct kernels; larger ones go through CLBlast, convolution as
 * im2col + GEMM processed in chunks of images so that the im2col scratch
 * buffer stays bounded (see OCL_DIRECT_CONV_MAX_CK).  Scratch buffers grow on demand and live in the backend.
 */
#include "opencl/ocl.h" /* first: it picks the OpenCL API version */

#include <clblast_c.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct clcnn_buf {
    cl_mem mem;
    size_t bytes;
};

/* The kernels, each with the program (cl/ file) that holds it. */
enum {
    K_FILL,
    K_ACT_FORWARD,
    K_SOFTMAX_FORWARD,
    K_ACT_BACKWARD,
    K_SOFTMAX_BACKWARD,
    K_ADAM,
    K_BIAS_ACT,
    K_BIAS_SOFTMAX,
    K_COLUMN_SUMS,
    K_IM2COL,
    K_COL2IM,
    K_CONV_DIRECT_FORWARD,
    K_CONV_FILTER_GRAD,
    K_CONV_DATA_GRAD,
    K_DENSE_FORWARD,
    K_DENSE_WEIGHT_GRAD,
    K_DENSE_DATA_GRAD,
    K_POOL_FORWARD,
    K_POOL_BACKWARD,
    K_POOL_BACKWARD_TILED,
    K_SOFTMAX_XENT,
    K_GATHER_U8,
    K_GATHER_F32,
    K_COUNT
};

static const struct {
    ocl_program_id program;
    const char *name;
} kernel_table[K_COUNT] = {
    [K_FILL] = {OCL_PROG_ELEMENTWISE, "fill"},
    [K_ACT_FORWARD] = {OCL_PROG_ELEMENTWISE, "act_forward"},
    [K_SOFTMAX_FORWARD] = {OCL_PROG_ELEMENTWISE, "softmax_forward"},
    [K_ACT_BACKWARD] = {OCL_PROG_ELEMENTWISE, "act_backward"},
    [K_SOFTMAX_BACKWARD] = {OCL_PROG_ELEMENTWISE, "softmax_backward"},
    [K_ADAM] = {OCL_PROG_ELEMENTWISE, "adam_update"},
    [K_BIAS_ACT] = {OCL_PROG_DENSE, "bias_act"},
    [K_BIAS_SOFTMAX] = {OCL_PROG_DENSE, "bias_softmax"},
    [K_COLUMN_SUMS] = {OCL_PROG_DENSE, "column_sums"},
    [K_IM2COL] = {OCL_PROG_CONV, "im2col"},
    [K_COL2IM] = {OCL_PROG_CONV, "col2im"},
    [K_CONV_DIRECT_FORWARD] = {OCL_PROG_CONV, "conv_direct_forward"},
    [K_CONV_FILTER_GRAD] = {OCL_PROG_CONV, "conv_filter_grad"},
    [K_CONV_DATA_GRAD] = {OCL_PROG_CONV, "conv_data_grad"},
    [K_DENSE_FORWARD] = {OCL_PROG_DENSE, "dense_forward"},
    [K_DENSE_WEIGHT_GRAD] = {OCL_PROG_DENSE, "dense_weight_grad"},
    [K_DENSE_DATA_GRAD] = {OCL_PROG_DENSE, "dense_data_grad"},
    [K_POOL_FORWARD] = {OCL_PROG_POOL, "pool_forward"},
    [K_POOL_BACKWARD] = {OCL_PROG_POOL, "pool_backward"},
    [K_POOL_BACKWARD_TILED] = {OCL_PROG_POOL, "pool_backward_tiled"},
    [K_SOFTMAX_XENT] = {OCL_PROG_LOSS, "softmax_xent"},
    [K_GATHER_U8] = {OCL_PROG_DATA, "gather_u8"},
    [K_GATHER_F32] = {OCL_PROG_DATA, "gather_f32"},
};

/* Work-group size of 1-D element-wise launches (capped by each kernel's limit). */
#ifndef OCL_LOCAL_1D
#define OCL_LOCAL_1D 64
#endif

/* Uploads up to this size go through a temporary buffer (no wait). */
#define OCL_ASYNC_WRITE_LIMIT ((size_t)64 << 20)

/* Uploads up to this size are copied into a ring of host staging slots
 * owned by the backend and written without waiting (no allocation in the
 * steady state); a slot is reused once its previous upload has completed. */
#ifndef OCL_STAGING_SLOT_BYTES
#define OCL_STAGING_SLOT_BYTES ((size_t)1 << 20)
#endif
#define OCL_STAGING_SLOTS 8

/*
 * Direct kernels versus im2col + CLBlast.  The direct kernels win where the
 * GEMMs would be small and badly shaped (few channels, small batches: all of
 * LeNet-5); CLBlast wins on large channel counts.  The rule: convolutions
 * with c * k <= OCL_DIRECT_CONV_MAX_CK, dense layers with
 * m * in * out <= OCL_DIRECT_DENSE_MAX_MACS go direct.
 * $CLCNN_OCL_CONV / $CLCNN_OCL_DENSE = direct | gemm | auto override it
 * (CLCNN_OCL_DIRECT_CONV=1 is the older spelling of CLCNN_OCL_CONV=direct).
 */
#ifndef OCL_DIRECT_CONV_MAX_CK
#define OCL_DIRECT_CONV_MAX_CK 1024
#endif
#ifndef OCL_DIRECT_DENSE_MAX_MACS
#define OCL_DIRECT_DENSE_MAX_MACS ((size_t)1 << 24)
#endif

/* Launch hints mirroring the kernels' block sizes (cl/conv.cl CONV_KB,
 * CONV_PB, CONV_CB; cl/dense.cl DENSE_RB and its 8 output units).  The kernels loop over whatever blocks
 * the grid leaves, so a -D override of either side stays correct. */
#define OCL_CONV_KB 8
#define OCL_CONV_PB 4
#define OCL_CONV_CB 8
#define OCL_DENSE_RB 4
#define OCL_DENSE_OB 8

enum { SCRATCH_COL, SCRATCH_DCOL, SCRATCH_GEMM, SCRATCH_COUNT };

typedef struct ocl_backend {
    clcnn_ctx *ctx;
    ocl_device dev;
    cl_context context;
    cl_command_queue queue;
    cl_program programs[OCL_PROG_COUNT];
    cl_kernel kernels[K_COUNT];
    size_t local[K_COUNT]; /* the work-group size each kernel is launched with */
    cl_mem scratch[SCRATCH_COUNT];
    size_t scratch_bytes[SCRATCH_COUNT];
    size_t col_limit; /* bytes of the largest im2col chunk (clcnn_ctx_options.col_limit) */
    clcnn_path conv_path, dense_path; /* never DEFAULT; see OCL_DIRECT_CONV_MAX_CK */
    struct {
        void *host;
        cl_event done; /* the upload from this slot, NULL when none pending */
    } staging[OCL_STAGING_SLOTS];
    int next_staging;
} ocl_backend;

/* ------------------------------------------------------------- utilities */

static int cl_fail(ocl_backend *b, cl_int err, const char *what)
{
    int st = (err == CL_OUT_OF_HOST_MEMORY || err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_RESOURCES)
                 ? CLCNN_ERR_NOMEM
                 : CLCNN_ERR_OPENCL;
    return clcnn_error(b->ctx, st, "OpenCL: %s failed: %s (%d)", what, ocl_error_name(err), (int)err);
}

/* Sizes are passed to kernels as 32-bit integers. */
static int check_u32(ocl_backend *b, const char *op, size_t v)
{
    if (v > UINT32_MAX)
        return clcnn_error(b->ctx, CLCNN_ERR_UNSUPPORTED,
                           "OpenCL %s: %zu elements exceed the 32-bit indexing of the kernels", op, v);
    return CLCNN_OK;
}

typedef struct karg {
    size_t size;
    const void *value;
} karg;
#define ARG(x) ((karg){sizeof(x), &(x)})

static int set_args(ocl_backend *b, int k, const karg *args, int n)
{
    for (int i = 0; i < n; i++) {
        cl_int err = clSetKernelArg(b->kernels[k], (cl_uint)i, args[i].size, args[i].value);
        if (err != CL_SUCCESS) {
            char what[96];
            snprintf(what, sizeof what, "clSetKernelArg(%s, %d)", kernel_table[k].name, i);
            return cl_fail(b, err, what);
        }
    }
    return CLCNN_OK;
}

/* Launches kernel k over at least items work-items (rounded up to its
 * work-group size; kernels check their bounds). */
static int launch(ocl_backend *b, int k, size_t items)
{
    size_t local = b->local[k];
    size_t global = (items + local - 1) / local * local;
    if (global == 0)
        return CLCNN_OK;
    cl_int err = clEnqueueNDRangeKernel(b->queue, b->kernels[k], 1, NULL, &global, &local, 0, NULL, NULL);
    if (err != CL_SUCCESS) {
        char what[96];
        snprintf(what, sizeof what, "launching %s", kernel_table[k].name);
        return cl_fail(b, err, what);
    }
    return CLCNN_OK;
}

/* Launches kernel k over a 2-D range: items0 work-items (rounded up to its
 * work-group size) by items1 (work-group height 1). */
static int launch2(ocl_backend *b, int k, size_t items0, size_t items1)
{
    size_t local[2] = {b->local[k], 1};
    size_t global[2] = {(items0 + local[0] - 1) / local[0] * local[0], items1};
    if (global[0] == 0 || global[1] == 0)
        return CLCNN_OK;
    cl_int err = clEnqueueNDRangeKernel(b->queue, b->kernels[k], 2, NULL, global, local, 0, NULL, NULL);
    if (err != CL_SUCCESS) {
        char what[96];
        snprintf(what, sizeof what, "launching %s", kernel_table[k].name);
        return cl_fail(b, err, what);
    }
    return CLCNN_OK;
}

/* Sets arguments first.. of kernel k to the cl_uint values v[0..n). */
static int set_uint_args(ocl_backend *b, int k, int first, const cl_uint *v, int n)
{
    for (int i = 0; i < n; i++) {
        cl_int err = clSetKernelArg(b->kernels[k], (cl_uint)(first + i), sizeof v[i], &v[i]);
        if (err != CL_SUCCESS) {
            char what[96];
            snprintf(what, sizeof what, "clSetKernelArg(%s, %d)", kernel_table[k].name, first + i);
            return cl_fail(b, err, what);
        }
    }
    return CLCNN_OK;
}

/* Makes scratch buffer i hold at least bytes (contents not kept). */
static int ensure_scratch(ocl_backend *b, int i, size_t bytes)
{
    if (b->scratch_bytes[i] >= bytes)
        return CLCNN_OK;
    size_t want = bytes + bytes / 4; /* some headroom against slow growth */
    if (b->scratch[i])
        clReleaseMemObject(b->scratch[i]); /* deferred by OpenCL until queued users finish */
    b->scratch[i] = NULL;
    b->scratch_bytes[i] = 0;
    cl_int err;
    cl_mem m = clCreateBuffer(b->context, CL_MEM_READ_WRITE, want, NULL, &err);
    if (err != CL_SUCCESS) {
        want = bytes;
        m = clCreateBuffer(b->context, CL_MEM_READ_WRITE, want, NULL, &err);
    }
    if (err != CL_SUCCESS)
        return cl_fail(b, err, "allocating a scratch buffer");
    b->scratch[i] = m;
    b->scratch_bytes[i] = want;
    return CLCNN_OK;
}

static const char *clblast_status_name(CLBlastStatusCode s)
{
    switch (s) {
    case CLBlastNotImplemented: return "not implemented";
    case CLBlastInvalidDimension: return "invalid dimension";
    case CLBlastInsufficientMemoryA: return "buffer A too small";
    case CLBlastInsufficientMemoryB: return "buffer B too small";
    case CLBlastInsufficientMemoryC: return "buffer C too small";
    case CLBlastInsufficientMemoryTemp: return "temporary buffer too small";
    case CLBlastInvalidLocalMemUsage: return "not enough local memory";
    case CLBlastDatabaseError: return "no tuning database entry";
    case CLBlastUnknownError: return "unknown error";
    case CLBlastUnexpectedError: return "unexpected error";
    default: return ocl_error_name((cl_int)s);
    }
}

/* C (m,n) = alpha op(A) op(B) + beta C, row-major, through CLBlast, with
 * its temporary buffer taken from our scratch. */
static int gemm(ocl_backend *b, const char *op, int trans_a, int trans_b, size_t m, size_t n, size_t k, cl_mem a,
                size_t a_off, size_t lda, cl_mem bm, size_t b_off, size_t ldb, float beta, cl_mem c, size_t c_off,
                size_t ldc)
{
    const CLBlastTranspose ta = trans_a ? CLBlastTransposeYes : CLBlastTransposeNo;
    const CLBlastTranspose tb = trans_b ? CLBlastTransposeYes : CLBlastTransposeNo;
    size_t temp = 0;
    CLBlastStatusCode s = CLBlastSGemmTempBufferSize(CLBlastLayoutRowMajor, ta, tb, m, n, k, a_off, lda, b_off, ldb,
                                                     c_off, ldc, &b->queue, &temp);
    if (s == CLBlastSuccess && temp > 0) {
        int st = ensure_scratch(b, SCRATCH_GEMM, temp);
        if (st)
            return st;
        s = CLBlastSgemmWithTempBuffer(CLBlastLayoutRowMajor, ta, tb, m, n, k, 1.0f, a, a_off, lda, bm, b_off, ldb,
                                       beta, c, c_off, ldc, &b->queue, NULL, b->scratch[SCRATCH_GEMM]);
    } else if (s == CLBlastSuccess) {
        s = CLBlastSgemm(CLBlastLayoutRowMajor, ta, tb, m, n, k, 1.0f, a, a_off, lda, bm, b_off, ldb, beta, c, c_off,
                         ldc, &b->queue, NULL);
    }
    if (s != CLBlastSuccess)
        return clcnn_error(b->ctx, s == CLBlastTempBufferAllocFailure ? CLCNN_ERR_NOMEM : CLCNN_ERR_OPENCL,
                           "OpenCL %s: CLBlast SGEMM (%zu x %zu x %zu) failed: %s (%d)", op, m, n, k,
                           clblast_status_name(s), (int)s);
    return CLCNN_OK;
}

/* ------------------------------------------------------- create / destroy */

static void backend_destroy(void *bctx)
{
    ocl_backend *b = bctx;
    if (!b)
        return;
    if (b->queue)
        clFinish(b->queue);
    for (int i = 0; i < OCL_STAGING_SLOTS; i++) {
        if (b->staging[i].done)
            clReleaseEvent(b->staging[i].done);
        clcnn_mem_free(&b->ctx->allocator, b->staging[i].host, OCL_STAGING_SLOT_BYTES);
    }
    for (int i = 0; i < SCRATCH_COUNT; i++)
        if (b->scratch[i])
            clReleaseMemObject(b->scratch[i]);
    for (int i = 0; i < K_COUNT; i++)
        if (b->kernels[i])
            clReleaseKernel(b->kernels[i]);
    for (int i = 0; i < OCL_PROG_COUNT; i++)
        if (b->programs[i])
            clReleaseProgram(b->programs[i]);
    if (b->queue)
        clReleaseCommandQueue(b->queue);
    if (b->context)
        clReleaseContext(b->context);
    clcnn_mem_free(&b->ctx->allocator, b, sizeof *b);
}

/* The work-group size kernel k is launched with: the size it requires
 * (reqd_work_group_size), else OCL_LOCAL_1D capped by its limit. */
static int choose_local(ocl_backend *b, int k)
{
    size_t reqd[3] = {0, 0, 0}, max_wg = 0;
    cl_int err = clGetKernelWorkGroupInfo(b->kernels[k], b->dev.device, CL_KERNEL_COMPILE_WORK_GROUP_SIZE,
                                          sizeof reqd, reqd, NULL);
    if (err == CL_SUCCESS && reqd[0] > 0) {
        b->local[k] = reqd[0];
        return CLCNN_OK;
    }
    err = clGetKernelWorkGroupInfo(b->kernels[k], b->dev.device, CL_KERNEL_WORK_GROUP_SIZE, sizeof max_wg, &max_wg,
                                   NULL);
    if (err != CL_SUCCESS)
        return cl_fail(b, err, "clGetKernelWorkGroupInfo");
    size_t local = OCL_LOCAL_1D;
    while (local > 1 && local > max_wg)
        local /= 2;
    b->local[k] = local;
    return CLCNN_OK;
}

static const clcnn_backend_ops ocl_ops;

/* A backend with the context's settings, no device yet. */
static int backend_new(clcnn_ctx *ctx, ocl_backend **out)
{
    ocl_backend *b = clcnn_mem_calloc(&ctx->allocator, 1, sizeof *b);
    *out = b;
    if (!b)
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "OpenCL: out of host memory");
    b->ctx = ctx;
    b->col_limit = ctx->config.col_limit;
    b->conv_path = ctx->config.conv_path;
    b->dense_path = ctx->config.dense_path;
    return CLCNN_OK;
}

/* The setup both constructors share, once b has its device, context and
 * queue: programs, kernels, launch sizes.  On failure b is destroyed. */
static int backend_setup(ocl_backend *b, const clcnn_backend_ops **ops, void **bctx)
{
    clcnn_ctx *ctx = b->ctx;
    int st;
    cl_int err;
    for (int i = 0; i < OCL_PROG_COUNT; i++) {
        st = ocl_build_program(ctx, &b->dev, b->context, (ocl_program_id)i, &b->programs[i]);
        if (st)
            goto fail;
    }
    for (int k = 0; k < K_COUNT; k++) {
        b->kernels[k] = clCreateKernel(b->programs[kernel_table[k].program], kernel_table[k].name, &err);
        if (err != CL_SUCCESS) {
            b->kernels[k] = NULL;
            st = clcnn_error(ctx, CLCNN_ERR_BUILD, "OpenCL: kernel %s missing from %s: %s (%d)", kernel_table[k].name,
                             ocl_program_files[kernel_table[k].program], ocl_error_name(err), (int)err);
            goto fail;
        }
        st = choose_local(b, k);
        if (st)
            goto fail;
    }
    *ops = &ocl_ops;
    *bctx = b;
    return CLCNN_OK;
fail:
    backend_destroy(b);
    return st;
}

int clcnn_opencl_backend_create(clcnn_ctx *ctx, const char *spec, const clcnn_backend_ops **ops, void **bctx,
                                char *desc, size_t desc_len)
{
    *ops = NULL;
    *bctx = NULL;
    ocl_backend *b;
    cl_int err;
    int st = backend_new(ctx, &b);
    if (st)
        return st;
    st = ocl_find_device(ctx, spec, &b->dev);
    if (st)
        goto fail;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)b->dev.platform, 0};
    b->context = clCreateContext(props, 1, &b->dev.device, NULL, NULL, &err);
    if (err != CL_SUCCESS) {
        b->context = NULL;
        st = clcnn_error(ctx, err == CL_DEVICE_NOT_AVAILABLE ? CLCNN_ERR_NO_DEVICE : CLCNN_ERR_OPENCL,
                         "OpenCL: clCreateContext on %s failed: %s (%d)", b->dev.device_name, ocl_error_name(err),
                         (int)err);
        goto fail;
    }
    b->queue = clCreateCommandQueue(b->context, b->dev.device, 0, &err);
    if (err != CL_SUCCESS) {
        b->queue = NULL;
        st = cl_fail(b, err, "clCreateCommandQueue");
        goto fail;
    }
    if (desc && desc_len)
        snprintf(desc, desc_len, "OpenCL %d:%d %s (%s, %s)", b->dev.platform_index, b->dev.device_index,
                 b->dev.device_name, b->dev.type_name, b->dev.platform_name);
    return backend_setup(b, ops, bctx);
fail:
    backend_destroy(b);
    return st;
}

/* Checks that the application's device, context and queue belong together
 * and that the queue runs commands in order (the backend relies on it). */
static int check_shared(clcnn_ctx *ctx, cl_context context, cl_device_id device, cl_command_queue queue)
{
    const char *fn = "clcnn_ctx_create_opencl";
    cl_uint ndev = 0;
    cl_int err = clGetContextInfo(context, CL_CONTEXT_NUM_DEVICES, sizeof ndev, &ndev, NULL);
    if (err != CL_SUCCESS)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: not a valid cl_context: %s (%d)", fn, ocl_error_name(err),
                           (int)err);
    cl_device_id *devs = clcnn_mem_calloc(&ctx->allocator, ndev, sizeof *devs);
    if (!devs)
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "OpenCL: out of host memory");
    err = clGetContextInfo(context, CL_CONTEXT_DEVICES, ndev * sizeof *devs, devs, NULL);
    int found = 0;
    for (cl_uint i = 0; err == CL_SUCCESS && i < ndev; i++)
        found |= devs[i] == device;
    clcnn_mem_free(&ctx->allocator, devs, ndev * sizeof *devs);
    if (!found)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: the device is not one of the context's devices", fn);
    cl_context qctx = NULL;
    cl_device_id qdev = NULL;
    cl_command_queue_properties qprops = 0;
    err = clGetCommandQueueInfo(queue, CL_QUEUE_CONTEXT, sizeof qctx, &qctx, NULL);
    if (err == CL_SUCCESS)
        err = clGetCommandQueueInfo(queue, CL_QUEUE_DEVICE, sizeof qdev, &qdev, NULL);
    if (err == CL_SUCCESS)
        err = clGetCommandQueueInfo(queue, CL_QUEUE_PROPERTIES, sizeof qprops, &qprops, NULL);
    if (err != CL_SUCCESS)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: not a valid cl_command_queue: %s (%d)", fn,
                           ocl_error_name(err), (int)err);
    if (qctx != context || qdev != device)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: the queue belongs to another %s", fn,
                           qctx != context ? "context" : "device");
    if (qprops & CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT,
                           "%s: the queue is out-of-order (CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE); clcnn needs an "
                           "in-order queue",
                           fn);
    return CLCNN_OK;
}

int clcnn_opencl_backend_create_shared(clcnn_ctx *ctx, cl_context context, cl_device_id device,
                                       cl_command_queue queue, const clcnn_backend_ops **ops, void **bctx,
                                       char *desc, size_t desc_len)
{
    *ops = NULL;
    *bctx = NULL;
    if (!context || !device || !queue)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_ctx_create_opencl: NULL %s",
                           !context ? "context" : !device ? "device" : "queue");
    int st = check_shared(ctx, context, device, queue);
    if (st)
        return st;
    cl_platform_id platform = NULL;
    cl_int err = clGetDeviceInfo(device, CL_DEVICE_PLATFORM, sizeof platform, &platform, NULL);
    if (err != CL_SUCCESS)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_ctx_create_opencl: not a valid cl_device_id: %s (%d)",
                           ocl_error_name(err), (int)err);
    ocl_backend *b;
    st = backend_new(ctx, &b);
    if (st)
        return st;
    ocl_describe_device(&ctx->allocator, platform, device, &b->dev);
    /* From here on destroy releases them, on failure as on success. */
    clRetainContext(context);
    b->context = context;
    clRetainCommandQueue(queue);
    b->queue = queue;
    if (desc && desc_len)
        snprintf(desc, desc_len, "OpenCL (application context) %s (%s, %s)", b->dev.device_name, b->dev.type_name,
                 b->dev.platform_name);
    return backend_setup(b, ops, bctx);
}

/* ----------------------------------------------------------------- memory */

static int ocl_alloc(void *bctx, size_t bytes, clcnn_buf **out)
{
    ocl_backend *b = bctx;
    *out = NULL;
    clcnn_buf *buf = clcnn_mem_calloc(&b->ctx->allocator, 1, sizeof *buf);
    if (!buf)
        return clcnn_error(b->ctx, CLCNN_ERR_NOMEM, "OpenCL: out of host memory");
    /* Round up to whole floats (and at least one) so fills and CLBlast see
     * a well-formed buffer. */
    size_t size = bytes < 4 ? 4 : (bytes + 3) / 4 * 4;
    cl_int err;
    buf->mem = clCreateBuffer(b->context, CL_MEM_READ_WRITE, size, NULL, &err);
    if (err != CL_SUCCESS) {
        clcnn_mem_free(&b->ctx->allocator, buf, sizeof *buf);
        return cl_fail(b, err, "allocating a device buffer");
    }
    buf->bytes = size;
    const cl_uchar zero = 0;
    err = clEnqueueFillBuffer(b->queue, buf->mem, &zero, sizeof zero, 0, size, 0, NULL, NULL);
    if (err != CL_SUCCESS) {
        clReleaseMemObject(buf->mem);
        clcnn_mem_free(&b->ctx->allocator, buf, sizeof *buf);
        return cl_fail(b, err, "clearing a device buffer");
    }
    *out = buf;
    return CLCNN_OK;
}

static void ocl_release(void *bctx, clcnn_buf *buf)
{
    ocl_backend *b = bctx;
    if (!buf)
        return;
    clReleaseMemObject(buf->mem); /* OpenCL defers the free until queued users finish */
    clcnn_mem_free(&b->ctx->allocator, buf, sizeof *buf);
}

static int ocl_wrap_native(void *bctx, void *handle, size_t bytes, clcnn_buf **out)
{
    ocl_backend *b = bctx;
    cl_mem mem = handle;
    *out = NULL;
    cl_context owner = NULL;
    size_t size = 0;
    cl_int err = clGetMemObjectInfo(mem, CL_MEM_CONTEXT, sizeof owner, &owner, NULL);
    if (err == CL_SUCCESS)
        err = clGetMemObjectInfo(mem, CL_MEM_SIZE, sizeof size, &size, NULL);
    if (err != CL_SUCCESS)
        return clcnn_error(b->ctx, CLCNN_ERR_ARGUMENT, "clcnn_tensor_from_cl_mem: not a valid cl_mem: %s (%d)",
                           ocl_error_name(err), (int)err);
    if (owner != b->context)
        return clcnn_error(b->ctx, CLCNN_ERR_ARGUMENT,
                           "clcnn_tensor_from_cl_mem: the buffer belongs to another cl_context than the clcnn "
                           "context's");
    if (size < bytes)
        return clcnn_error(b->ctx, CLCNN_ERR_ARGUMENT,
                           "clcnn_tensor_from_cl_mem: the buffer has %zu bytes, the shape needs %zu", size, bytes);
    clcnn_buf *buf = clcnn_mem_calloc(&b->ctx->allocator, 1, sizeof *buf);
    if (!buf)
        return clcnn_error(b->ctx, CLCNN_ERR_NOMEM, "OpenCL: out of host memory");
    err = clRetainMemObject(mem);
    if (err != CL_SUCCESS) {
        clcnn_mem_free(&b->ctx->allocator, buf, sizeof *buf);
        return cl_fail(b, err, "clRetainMemObject");
    }
    /* The tensor's view; ocl_release() drops the reference taken here. */
    buf->mem = mem;
    buf->bytes = bytes;
    *out = buf;
    return CLCNN_OK;
}

static void *ocl_native_handle(void *bctx, const clcnn_buf *buf)
{
    (void)bctx;
    return buf ? buf->mem : NULL;
}

static int check_range(ocl_backend *b, const clcnn_buf *buf, size_t offset, size_t bytes, const char *what)
{
    if (offset > buf->bytes || bytes > buf->bytes - offset)
        return clcnn_error(b->ctx, CLCNN_ERR_ARGUMENT, "OpenCL %s: %zu bytes at offset %zu exceed the buffer (%zu)",
                           what, bytes, offset, buf->bytes);
    return CLCNN_OK;
}

static int ocl_write(void *bctx, clcnn_buf *dst, size_t offset, const void *src, size_t bytes)
{
    ocl_backend *b = bctx;
    int st = check_range(b, dst, offset, bytes, "write");
    if (st || bytes == 0)
        return st;
    cl_int err;
    if (bytes <= OCL_STAGING_SLOT_BYTES) {
        int i = b->next_staging;
        if (b->staging[i].done) {
            err = clWaitForEvents(1, &b->staging[i].done); /* normally long complete */
            clReleaseEvent(b->staging[i].done);
            b->staging[i].done = NULL;
            if (err != CL_SUCCESS)
                return cl_fail(b, err, "waiting for an upload");
        }
        if (!b->staging[i].host) {
            b->staging[i].host = clcnn_mem_alloc(&b->ctx->allocator, OCL_STAGING_SLOT_BYTES);
            if (!b->staging[i].host)
                return clcnn_error(b->ctx, CLCNN_ERR_NOMEM, "OpenCL: out of host memory");
        }
        memcpy(b->staging[i].host, src, bytes);
        err = clEnqueueWriteBuffer(b->queue, dst->mem, CL_FALSE, offset, bytes, b->staging[i].host, 0, NULL,
                                   &b->staging[i].done);
        if (err != CL_SUCCESS) {
            b->staging[i].done = NULL;
            return cl_fail(b, err, "clEnqueueWriteBuffer");
        }
        b->next_staging = (i + 1) % OCL_STAGING_SLOTS;
        return CLCNN_OK;
    }
    if (bytes <= OCL_ASYNC_WRITE_LIMIT) {
        /* A staging buffer copies src now, so the caller may reuse it at
         * once, and the upload is queued behind the work already enqueued
         * instead of waiting for it. */
        cl_mem staging = clCreateBuffer(b->context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, bytes, (void *)src, &err);
        if (err == CL_SUCCESS) {
            err = clEnqueueCopyBuffer(b->queue, staging, dst->mem, 0, offset, bytes, 0, NULL, NULL);
            clReleaseMemObject(staging);
            return err == CL_SUCCESS ? CLCNN_OK : cl_fail(b, err, "clEnqueueCopyBuffer (upload)");
        }
    }
    err = clEnqueueWriteBuffer(b->queue, dst->mem, CL_TRUE, offset, bytes, src, 0, NULL, NULL);
    return err == CL_SUCCESS ? CLCNN_OK : cl_fail(b, err, "clEnqueueWriteBuffer");
}

static int ocl_read(void *bctx, const clcnn_buf *src, size_t offset, void *dst, size_t bytes)
{
    ocl_backend *b = bctx;
    int st = check_range(b, src, offset, bytes, "read");
    if (st || bytes == 0)
        return st;
    cl_int err = clEnqueueReadBuffer(b->queue, src->mem, CL_TRUE, offset, bytes, dst, 0, NULL, NULL);
    return err == CL_SUCCESS ? CLCNN_OK : cl_fail(b, err, "clEnqueueReadBuffer");
}

static int ocl_fill(void *bctx, clcnn_buf *dst, size_t count, float value)
{
    ocl_backend *b = bctx;
    int st = check_u32(b, "fill", count);
    if (st)
        return st;
    cl_uint n = (cl_uint)count;
    karg a[] = {ARG(dst->mem), ARG(n), ARG(value)};
    st = set_args(b, K_FILL, a, 3);
    return st ? st : launch(b, K_FILL, count);
}

static int ocl_finish(void *bctx)
{
    ocl_backend *b = bctx;
    cl_int err = clFinish(b->queue);
    return err == CL_SUCCESS ? CLCNN_OK : cl_fail(b, err, "clFinish");
}

/* ------------------------------------------------------------ activations */

/* y (rows, cols) += b per column, then act (softmax per row). */
static int bias_act(ocl_backend *b, cl_mem y, const clcnn_buf *bias, size_t rows, size_t cols, clcnn_activation act)
{
    cl_uint r = (cl_uint)rows, c = (cl_uint)cols;
    if (act == CLCNN_ACT_SOFTMAX) {
        karg a[] = {ARG(y), ARG(bias->mem), ARG(r), ARG(c)};
        int st = set_args(b, K_BIAS_SOFTMAX, a, 4);
        return st ? st : launch(b, K_BIAS_SOFTMAX, rows);
    }
    cl_int ai = (cl_int)act;
    karg a[] = {ARG(y), ARG(bias->mem), ARG(r), ARG(c), ARG(ai)};
    int st = set_args(b, K_BIAS_ACT, a, 5);
    return st ? st : launch(b, K_BIAS_ACT, rows * cols);
}

/* out (cols) = column sums of a (rows, cols). */
static int column_sums(ocl_backend *b, cl_mem a, size_t rows, size_t cols, cl_mem out)
{
    cl_uint r = (cl_uint)rows, c = (cl_uint)cols;
    karg args[] = {ARG(a), ARG(out), ARG(r), ARG(c)};
    int st = set_args(b, K_COLUMN_SUMS, args, 4);
    return st ? st : launch(b, K_COLUMN_SUMS, cols * b->local[K_COLUMN_SUMS]);
}

static int ocl_activation_forward(void *bctx, clcnn_activation act, size_t rows, size_t cols, const clcnn_buf *x,
                                  clcnn_buf *y)
{
    ocl_backend *b = bctx;
    size_t n = rows * cols;
    int st = check_u32(b, "activation_forward", n);
    if (st)
        return st;
    cl_uint r = (cl_uint)rows, c = (cl_uint)cols, nn = (cl_uint)n;
    if (act == CLCNN_ACT_SOFTMAX) {
        karg a[] = {ARG(x->mem), ARG(y->mem), ARG(r), ARG(c)};
        st = set_args(b, K_SOFTMAX_FORWARD, a, 4);
        return st ? st : launch(b, K_SOFTMAX_FORWARD, rows);
    }
    if (act == CLCNN_ACT_IDENTITY && x->mem == y->mem)
        return CLCNN_OK;
    cl_int ai = (cl_int)act;
    karg a[] = {ARG(x->mem), ARG(y->mem), ARG(nn), ARG(ai)};
    st = set_args(b, K_ACT_FORWARD, a, 4);
    return st ? st : launch(b, K_ACT_FORWARD, n);
}

static int ocl_activation_backward(void *bctx, clcnn_activation act, size_t rows, size_t cols, const clcnn_buf *y,
                                   const clcnn_buf *dy, clcnn_buf *dz)
{
    ocl_backend *b = bctx;
    size_t n = rows * cols;
    int st = check_u32(b, "activation_backward", n);
    if (st)
        return st;
    cl_uint r = (cl_uint)rows, c = (cl_uint)cols, nn = (cl_uint)n;
    if (act == CLCNN_ACT_SOFTMAX) {
        karg a[] = {ARG(y->mem), ARG(dy->mem), ARG(dz->mem), ARG(r), ARG(c)};
        st = set_args(b, K_SOFTMAX_BACKWARD, a, 5);
        return st ? st : launch(b, K_SOFTMAX_BACKWARD, rows);
    }
    if (act == CLCNN_ACT_IDENTITY && dy->mem == dz->mem)
        return CLCNN_OK;
    cl_int ai = (cl_int)act;
    karg a[] = {ARG(y->mem), ARG(dy->mem), ARG(dz->mem), ARG(nn), ARG(ai)};
    st = set_args(b, K_ACT_BACKWARD, a, 5);
    return st ? st : launch(b, K_ACT_BACKWARD, n);
}

/* ------------------------------------------------------------------ dense */

/* The direct kernels for a dense layer of this size (see OCL_DIRECT_DENSE_MAX_MACS). */
static int dense_is_direct(const ocl_backend *b, size_t m, size_t in, size_t out)
{
    if (b->dense_path != CLCNN_PATH_AUTO)
        return b->dense_path == CLCNN_PATH_DIRECT;
    return m * in * out <= OCL_DIRECT_DENSE_MAX_MACS;
}

static size_t blocks(size_t n, size_t per)
{
    return (n + per - 1) / per;
}

static int ocl_dense_forward(void *bctx, size_t m, size_t in, size_t out, const clcnn_buf *x, const clcnn_buf *w,
                             const clcnn_buf *bias, clcnn_activation act, clcnn_buf *y)
{
    ocl_backend *b = bctx;
    int st = check_u32(b, "dense_forward", m * out);
    if (!st)
        st = check_u32(b, "dense_forward", m * in);
    if (st)
        return st;
    if (dense_is_direct(b, m, in, out)) {
        cl_uint v[3] = {(cl_uint)m, (cl_uint)in, (cl_uint)out};
        cl_int ai = (cl_int)act;
        karg a[] = {ARG(x->mem), ARG(w->mem), ARG(bias->mem), ARG(y->mem)};
        if ((st = set_args(b, K_DENSE_FORWARD, a, 4)) || (st = set_uint_args(b, K_DENSE_FORWARD, 4, v, 3)))
            return st;
        cl_int err = clSetKernelArg(b->kernels[K_DENSE_FORWARD], 7, sizeof ai, &ai);
        if (err != CL_SUCCESS)
            return cl_fail(b, err, "clSetKernelArg(dense_forward, 7)");
        st = launch2(b, K_DENSE_FORWARD, blocks(out, OCL_DENSE_OB), blocks(m, OCL_DENSE_RB));
        if (st || act != CLCNN_ACT_SOFTMAX)
            return st;
        cl_uint r = (cl_uint)m, c = (cl_uint)out;
        karg sa[] = {ARG(y->mem), ARG(y->mem), ARG(r), ARG(c)};
        st = set_args(b, K_SOFTMAX_FORWARD, sa, 4);
        return st ? st : launch(b, K_SOFTMAX_FORWARD, m);
    }
    st = gemm(b, "dense_forward", 0, 0, m, out, in, x->mem, 0, in, w->mem, 0, out, 0.0f, y->mem, 0, out);
    return st ? st : bias_act(b, y->mem, bias, m, out, act);
}

static int ocl_dense_backward(void *bctx, size_t m, size_t in, size_t out, const clcnn_buf *dz, const clcnn_buf *x,
                              const clcnn_buf *w, clcnn_buf *dx, clcnn_buf *dw, clcnn_buf *db)
{
    ocl_backend *b = bctx;
    int st = check_u32(b, "dense_backward", m * out);
    if (!st)
        st = check_u32(b, "dense_backward", (m + 1) * in);
    if (!st && dense_is_direct(b, m, in, out)) {
        cl_uint v[3] = {(cl_uint)m, (cl_uint)in, (cl_uint)out};
        if (dw || db) {
            cl_int want_dw = dw != NULL, want_db = db != NULL;
            cl_mem dwm = dw ? dw->mem : dz->mem, dbm = db ? db->mem : dz->mem; /* unused when not wanted */
            karg a[] = {ARG(x->mem), ARG(dz->mem), ARG(dwm), ARG(dbm)};
            karg f[] = {ARG(want_dw), ARG(want_db)};
            if ((st = set_args(b, K_DENSE_WEIGHT_GRAD, a, 4)) || (st = set_uint_args(b, K_DENSE_WEIGHT_GRAD, 4, v, 3)))
                return st;
            for (int i = 0; i < 2; i++) {
                cl_int err = clSetKernelArg(b->kernels[K_DENSE_WEIGHT_GRAD], (cl_uint)(7 + i), f[i].size, f[i].value);
                if (err != CL_SUCCESS)
                    return cl_fail(b, err, "clSetKernelArg(dense_weight_grad)");
            }
            /* Units [0, in] in blocks; unit in is db. */
            st = launch2(b, K_DENSE_WEIGHT_GRAD, blocks(out, OCL_DENSE_OB), blocks(in + 1, OCL_DENSE_RB));
        }
        if (!st && dx) {
            karg a[] = {ARG(dz->mem), ARG(w->mem), ARG(dx->mem)};
            if (!(st = set_args(b, K_DENSE_DATA_GRAD, a, 3)) && !(st = set_uint_args(b, K_DENSE_DATA_GRAD, 3, v, 3)))
                st = launch2(b, K_DENSE_DATA_GRAD, in, blocks(m, OCL_DENSE_RB));
        }
        return st;
    }
    if (!st && db)
        st = column_sums(b, dz->mem, m, out, db->mem);
    if (!st && dw) /* dw (in,out) = x^T (in,m) @ dz (m,out) */
        st = gemm(b, "dense_backward", 1, 0, in, out, m, x->mem, 0, in, dz->mem, 0, out, 0.0f, dw->mem, 0, out);
    if (!st && dx) /* dx (m,in) = dz (m,out) @ w^T (out,in) */
        st = gemm(b, "dense_backward", 0, 1, m, in, out, dz->mem, 0, out, w->mem, 0, out, 0.0f, dx->mem, 0, in);
    return st;
}

/* ------------------------------------------------------------ convolution */

/* 1x1 kernels with stride 1 (and so no padding): col is x itself. */
static int conv_is_pointwise(const conv_geom *g)
{
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pad_top == 0 && g->pad_left == 0 &&
           g->oh == g->h && g->ow == g->w;
}

/* How many images one im2col chunk holds. */
static size_t conv_chunk(const ocl_backend *b, const conv_geom *g)
{
    size_t per_image = g->oh * g->ow * g->kh * g->kw * g->c;
    size_t chunk = b->col_limit / sizeof(float) / (per_image ? per_image : 1);
    if (chunk > UINT32_MAX / (per_image ? per_image : 1))
        chunk = UINT32_MAX / per_image;
    if (chunk < 1)
        chunk = 1;
    return chunk < g->n ? chunk : g->n;
}

static int check_conv(ocl_backend *b, const char *op, const conv_geom *g)
{
    int st = check_u32(b, op, g->n * g->h * g->w * g->c);
    if (!st)
        st = check_u32(b, op, g->n * g->oh * g->ow * g->k);
    if (!st)
        st = check_u32(b, op, g->oh * g->ow * g->kh * g->kw * g->c);
    return st;
}

/* Geometry arguments shared by im2col and col2im, from index 4 on. */
static int set_geometry_args(ocl_backend *b, int k, const conv_geom *g, size_t nimg)
{
    cl_uint v[12] = {(cl_uint)nimg,  (cl_uint)g->h,  (cl_uint)g->w,  (cl_uint)g->c,
                     (cl_uint)g->kh, (cl_uint)g->kw, (cl_uint)g->sh, (cl_uint)g->sw,
                     (cl_uint)g->oh, (cl_uint)g->ow, (cl_uint)g->pad_top, (cl_uint)g->pad_left};
    for (int i = 0; i < 12; i++) {
        cl_int err = clSetKernelArg(b->kernels[k], (cl_uint)(3 + i), sizeof v[i], &v[i]);
        if (err != CL_SUCCESS)
            return cl_fail(b, err, "clSetKernelArg (geometry)");
    }
    return CLCNN_OK;
}

/* col (nimg*oh*ow, kh*kw*c) from images [n0, n0+nimg) of x. */
static int im2col(ocl_backend *b, const conv_geom *g, cl_mem x, size_t n0, size_t nimg, cl_mem col)
{
    cl_uint x_off = (cl_uint)(n0 * g->h * g->w * g->c);
    karg a[] = {ARG(x), ARG(x_off), ARG(col)};
    int st = set_args(b, K_IM2COL, a, 3);
    if (!st)
        st = set_geometry_args(b, K_IM2COL, g, nimg);
    return st ? st : launch(b, K_IM2COL, nimg * g->oh * g->ow * g->kh * g->kw * g->c);
}

/* Images [n0, n0+nimg) of dx from dcol (nimg*oh*ow, kh*kw*c). */
static int col2im(ocl_backend *b, const conv_geom *g, cl_mem dcol, cl_mem dx, size_t n0, size_t nimg)
{
    cl_uint dx_off = (cl_uint)(n0 * g->h * g->w * g->c);
    karg a[] = {ARG(dcol), ARG(dx), ARG(dx_off)};
    int st = set_args(b, K_COL2IM, a, 3);
    if (!st)
        st = set_geometry_args(b, K_COL2IM, g, nimg);
    return st ? st : launch(b, K_COL2IM, nimg * g->h * g->w * g->c);
}

/* The direct kernels for a convolution of this size (see OCL_DIRECT_CONV_MAX_CK). */
static int conv_is_direct(const ocl_backend *b, const conv_geom *g)
{
    if (b->conv_path != CLCNN_PATH_AUTO)
        return b->conv_path == CLCNN_PATH_DIRECT;
    return g->c * g->k <= OCL_DIRECT_CONV_MAX_CK;
}

/* Sets the 13 geometry arguments (n .. pad_left) of a direct conv kernel from index first. */
static int set_conv_args(ocl_backend *b, int k, int first, const conv_geom *g)
{
    cl_uint v[13] = {(cl_uint)g->n,  (cl_uint)g->h,  (cl_uint)g->w,  (cl_uint)g->c,       (cl_uint)g->kh,
                     (cl_uint)g->kw, (cl_uint)g->k,  (cl_uint)g->sh, (cl_uint)g->sw,      (cl_uint)g->oh,
                     (cl_uint)g->ow, (cl_uint)g->pad_top, (cl_uint)g->pad_left};
    return set_uint_args(b, k, first, v, 13);
}

/* Direct convolution (conv_direct_forward) with bias and activation. */
static int conv_direct_forward(ocl_backend *b, const conv_geom *g, const clcnn_buf *x, const clcnn_buf *w,
                               const clcnn_buf *bias, clcnn_activation act, clcnn_buf *y)
{
    karg a[] = {ARG(x->mem), ARG(w->mem), ARG(bias->mem), ARG(y->mem)};
    int st = set_args(b, K_CONV_DIRECT_FORWARD, a, 4);
    if (!st)
        st = set_conv_args(b, K_CONV_DIRECT_FORWARD, 4, g);
    if (st)
        return st;
    cl_int ai = (cl_int)act;
    cl_int err = clSetKernelArg(b->kernels[K_CONV_DIRECT_FORWARD], 17, sizeof ai, &ai);
    if (err != CL_SUCCESS)
        return cl_fail(b, err, "clSetKernelArg (conv activation)");
    const size_t rows = g->n * g->oh * g->ow;
    st = launch2(b, K_CONV_DIRECT_FORWARD, g->n * g->oh * blocks(g->ow, OCL_CONV_PB), blocks(g->k, OCL_CONV_KB));
    if (st || act != CLCNN_ACT_SOFTMAX)
        return st;
    cl_uint r = (cl_uint)rows, c = (cl_uint)g->k;
    karg s[] = {ARG(y->mem), ARG(y->mem), ARG(r), ARG(c)};
    st = set_args(b, K_SOFTMAX_FORWARD, s, 4);
    return st ? st : launch(b, K_SOFTMAX_FORWARD, rows);
}

/* Direct backward: dw and db by conv_filter_grad (one launch), dx by conv_data_grad. */
static int conv_direct_backward(ocl_backend *b, const conv_geom *g, const clcnn_buf *dz, const clcnn_buf *x,
                                const clcnn_buf *w, clcnn_buf *dx, clcnn_buf *dw, clcnn_buf *db)
{
    int st = CLCNN_OK;
    if (dw || db) {
        cl_int want_dw = dw != NULL, want_db = db != NULL;
        cl_mem dwm = dw ? dw->mem : dz->mem, dbm = db ? db->mem : dz->mem; /* unused when not wanted */
        karg a[] = {ARG(x->mem), ARG(dz->mem), ARG(dwm), ARG(dbm)};
        karg f[] = {ARG(want_dw), ARG(want_db)};
        st = set_args(b, K_CONV_FILTER_GRAD, a, 4);
        if (!st)
            st = set_conv_args(b, K_CONV_FILTER_GRAD, 4, g);
        for (int i = 0; !st && i < 2; i++) {
            cl_int err = clSetKernelArg(b->kernels[K_CONV_FILTER_GRAD], (cl_uint)(17 + i), f[i].size, f[i].value);
            if (err != CL_SUCCESS)
                st = cl_fail(b, err, "clSetKernelArg(conv_filter_grad)");
        }
        /* One group per (p,q,c) row of dw, plus one for db. */
        const size_t taps = g->kh * g->kw * g->c + 1;
        if (!st)
            st = launch2(b, K_CONV_FILTER_GRAD, taps * b->local[K_CONV_FILTER_GRAD], blocks(g->k, OCL_CONV_KB));
    }
    if (!st && dx) {
        karg a[] = {ARG(dz->mem), ARG(w->mem), ARG(dx->mem)};
        st = set_args(b, K_CONV_DATA_GRAD, a, 3);
        if (!st)
            st = set_conv_args(b, K_CONV_DATA_GRAD, 3, g);
        if (!st)
            st = launch2(b, K_CONV_DATA_GRAD, g->n * g->h * g->w, blocks(g->c, OCL_CONV_CB));
    }
    return st;
}

static int ocl_conv_forward(void *bctx, const conv_geom *g, const clcnn_buf *x, const clcnn_buf *w,
                            const clcnn_buf *bias, clcnn_activation act, clcnn_buf *y)
{
    ocl_backend *b = bctx;
    int st = check_conv(b, "conv_forward", g);
    if (st)
        return st;
    if (conv_is_direct(b, g))
        return conv_direct_forward(b, g, x, w, bias, act, y);
    const size_t kcols = g->kh * g->kw * g->c, pix = g->oh * g->ow;
    if (conv_is_pointwise(g)) {
        st = gemm(b, "conv_forward", 0, 0, g->n * pix, g->k, kcols, x->mem, 0, kcols, w->mem, 0, g->k, 0.0f, y->mem,
                  0, g->k);
    } else {
        const size_t chunk = conv_chunk(b, g);
        st = ensure_scratch(b, SCRATCH_COL, chunk * pix * kcols * sizeof(float));
        for (size_t n0 = 0; !st && n0 < g->n; n0 += chunk) {
            const size_t cn = g->n - n0 < chunk ? g->n - n0 : chunk;
            cl_mem col = b->scratch[SCRATCH_COL];
            st = im2col(b, g, x->mem, n0, cn, col);
            if (!st)
                st = gemm(b, "conv_forward", 0, 0, cn * pix, g->k, kcols, col, 0, kcols, w->mem, 0, g->k, 0.0f,
                          y->mem, n0 * pix * g->k, g->k);
        }
    }
    return st ? st : bias_act(b, y->mem, bias, g->n * pix, g->k, act);
}

static int ocl_conv_backward(void *bctx, const conv_geom *g, const clcnn_buf *dz, const clcnn_buf *x,
                             const clcnn_buf *w, clcnn_buf *dx, clcnn_buf *dw, clcnn_buf *db)
{
    ocl_backend *b = bctx;
    int st = check_conv(b, "conv_backward", g);
    if (st)
        return st;
    if (conv_is_direct(b, g))
        return conv_direct_backward(b, g, dz, x, w, dx, dw, db);
    const size_t kcols = g->kh * g->kw * g->c, pix = g->oh * g->ow;
    if (db)
        st = column_sums(b, dz->mem, g->n * pix, g->k, db->mem);
    if (st || (!dw && !dx))
        return st;
    if (conv_is_pointwise(g)) {
        const size_t rows = g->n * pix;
        if (dw) /* dw (c,k) = x^T @ dz */
            st = gemm(b, "conv_backward", 1, 0, kcols, g->k, rows, x->mem, 0, kcols, dz->mem, 0, g->k, 0.0f, dw->mem,
                      0, g->k);
        if (!st && dx) /* dx (rows,c) = dz @ w^T */
            st = gemm(b, "conv_backward", 0, 1, rows, kcols, g->k, dz->mem, 0, g->k, w->mem, 0, g->k, 0.0f, dx->mem,
                      0, kcols);
        return st;
    }
    const size_t chunk = conv_chunk(b, g);
    const size_t col_bytes = chunk * pix * kcols * sizeof(float);
    if (dw)
        st = ensure_scratch(b, SCRATCH_COL, col_bytes);
    if (!st && dx)
        st = ensure_scratch(b, SCRATCH_DCOL, col_bytes);
    for (size_t n0 = 0; !st && n0 < g->n; n0 += chunk) {
        const size_t cn = g->n - n0 < chunk ? g->n - n0 : chunk;
        const size_t dz_off = n0 * pix * g->k;
        if (dw) {
            /* dw (kcols,k) (+)= col^T @ dz over the chunk's pixels. */
            cl_mem col = b->scratch[SCRATCH_COL];
            st = im2col(b, g, x->mem, n0, cn, col);
            if (!st)
                st = gemm(b, "conv_backward", 1, 0, kcols, g->k, cn * pix, col, 0, kcols, dz->mem, dz_off, g->k,
                          n0 == 0 ? 0.0f : 1.0f, dw->mem, 0, g->k);
        }
        if (!st && dx) {
            /* dcol = dz @ w^T, then the gather back onto the input cells. */
            cl_mem dcol = b->scratch[SCRATCH_DCOL];
            st = gemm(b, "conv_backward", 0, 1, cn * pix, kcols, g->k, dz->mem, dz_off, g->k, w->mem, 0, g->k, 0.0f,
                      dcol, 0, kcols);
            if (!st)
                st = col2im(b, g, dcol, dx->mem, n0, cn);
        }
    }
    return st;
}

/* ---------------------------------------------------------------- pooling */

static int pool_launch(ocl_backend *b, int k, const pool_geom *g, const karg *bufs, int nbufs, size_t items)
{
    int st = set_args(b, k, bufs, nbufs);
    if (st)
        return st;
    cl_uint v[11] = {(cl_uint)g->n,  (cl_uint)g->h,  (cl_uint)g->w,  (cl_uint)g->c,  (cl_uint)g->kh, (cl_uint)g->kw,
                     (cl_uint)g->sh, (cl_uint)g->sw, (cl_uint)g->oh, (cl_uint)g->ow, 0};
    cl_int mode = g->mode == CLCNN_POOL_MAX ? 0 : 1;
    for (int i = 0; i < 10; i++) {
        cl_int err = clSetKernelArg(b->kernels[k], (cl_uint)(nbufs + i), sizeof v[i], &v[i]);
        if (err != CL_SUCCESS)
            return cl_fail(b, err, "clSetKernelArg (pool geometry)");
    }
    cl_int err = clSetKernelArg(b->kernels[k], (cl_uint)(nbufs + 10), sizeof mode, &mode);
    if (err != CL_SUCCESS)
        return cl_fail(b, err, "clSetKernelArg (pool mode)");
    return launch(b, k, items);
}

static int ocl_pool_forward(void *bctx, const pool_geom *g, const clcnn_buf *x, clcnn_buf *y)
{
    ocl_backend *b = bctx;
    int st = check_u32(b, "pool_forward", g->n * g->h * g->w * g->c);
    if (st)
        return st;
    karg a[] = {ARG(x->mem), ARG(y->mem)};
    return pool_launch(b, K_POOL_FORWARD, g, a, 2, g->n * g->oh * g->ow * g->c);
}

/* y is not used: each work item recomputes its window maxima from x, which
 * it reads anyway. */
static int ocl_pool_backward(void *bctx, const pool_geom *g, const clcnn_buf *dy, const clcnn_buf *x,
                             const clcnn_buf *y, clcnn_buf *dx)
{
    (void)y;
    ocl_backend *b = bctx;
    int st = check_u32(b, "pool_backward", g->n * g->h * g->w * g->c);
    if (st)
        return st;
    karg a[] = {ARG(dy->mem), ARG(x->mem), ARG(dx->mem)};
    if (g->kh == g->sh && g->kw == g->sw && g->oh * g->sh == g->h && g->ow * g->sw == g->w)
        return pool_launch(b, K_POOL_BACKWARD_TILED, g, a, 3, g->n * g->oh * g->ow * g->c);
    return pool_launch(b, K_POOL_BACKWARD, g, a, 3, g->n * g->h * g->w * g->c);
}

/* ------------------------------------------------------ loss, Adam, data */

static int ocl_softmax_xent(void *bctx, size_t m, size_t k, const clcnn_buf *logits, const clcnn_buf *labels,
                            float grad_scale, clcnn_buf *probs, clcnn_buf *dlogits, clcnn_buf *stats)
{
    ocl_backend *b = bctx;
    int st = check_u32(b, "softmax_xent", m * k);
    if (st)
        return st;
    cl_uint mm = (cl_uint)m, kk = (cl_uint)k;
    cl_int wp = probs != NULL, wg = dlogits != NULL;
    /* An unused output still needs a valid buffer argument; the flags keep
     * the kernel from writing it. */
    cl_mem pm = probs ? probs->mem : logits->mem, gm = dlogits ? dlogits->mem : logits->mem;
    karg a[] = {ARG(logits->mem), ARG(labels->mem), ARG(pm), ARG(gm), ARG(stats->mem),
                ARG(mm),          ARG(kk),          ARG(grad_scale), ARG(wp), ARG(wg)};
    st = set_args(b, K_SOFTMAX_XENT, a, 10);
    return st ? st : launch(b, K_SOFTMAX_XENT, b->local[K_SOFTMAX_XENT]);
}

static int ocl_adam_update(void *bctx, size_t count, clcnn_buf *w, const clcnn_buf *g, clcnn_buf *m, clcnn_buf *v,
                           float lr_t, float b1, float b2, float eps)
{
    ocl_backend *b = bctx;
    int st = check_u32(b, "adam_update", count);
    if (st)
        return st;
    cl_uint n = (cl_uint)count;
    karg a[] = {ARG(w->mem), ARG(g->mem), ARG(m->mem), ARG(v->mem), ARG(n),
                ARG(lr_t),   ARG(b1),     ARG(b2),     ARG(eps)};
    st = set_args(b, K_ADAM, a, 9);
    return st ? st : launch(b, K_ADAM, count);
}

static int ocl_gather_batch(void *bctx, const clcnn_buf *images, int images_u8, size_t row_len,
                            const clcnn_buf *labels, const clcnn_buf *indices, size_t m, clcnn_buf *x, clcnn_buf *y)
{
    ocl_backend *b = bctx;
    int st = check_u32(b, "gather_batch", m * row_len);
    if (!st)
        st = check_u32(b, "gather_batch", images->bytes);
    if (st)
        return st;
    const int k = images_u8 ? K_GATHER_U8 : K_GATHER_F32;
    cl_uint rl = (cl_uint)row_len, mm = (cl_uint)m;
    cl_int wl = y != NULL && labels != NULL;
    cl_mem lm = labels ? labels->mem : indices->mem, ym = y ? y->mem : x->mem;
    karg a[] = {ARG(images->mem), ARG(rl), ARG(lm), ARG(indices->mem), ARG(mm), ARG(x->mem), ARG(ym), ARG(wl)};
    st = set_args(b, k, a, 8);
    return st ? st : launch(b, k, m * row_len);
}

static const clcnn_backend_ops ocl_ops = {
    .name = "opencl",
    .destroy = backend_destroy,
    .alloc = ocl_alloc,
    .release = ocl_release,
    .write = ocl_write,
    .read = ocl_read,
    .fill = ocl_fill,
    .finish = ocl_finish,
    .conv_forward = ocl_conv_forward,
    .conv_backward = ocl_conv_backward,
    .pool_forward = ocl_pool_forward,
    .pool_backward = ocl_pool_backward,
    .dense_forward = ocl_dense_forward,
    .dense_backward = ocl_dense_backward,
    .activation_forward = ocl_activation_forward,
    .activation_backward = ocl_activation_backward,
    .softmax_xent = ocl_softmax_xent,
    .adam_update = ocl_adam_update,
    .gather_batch = ocl_gather_batch,
    .wrap_native = ocl_wrap_native,
    .native_handle = ocl_native_handle,
};
