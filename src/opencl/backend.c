/*
 * The OpenCL backend: creation on a device of its own or on an
 * application's context and queue, destruction, and the clcnn_backend_ops
 * table.  What the ops do lives in one file per family (ocl_backend.h).
 */
#include "opencl/ocl_backend.h" /* first: it picks the OpenCL API version */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void backend_destroy(void *bctx)
{
    ocl_backend *b = bctx;
    if (!b)
        return;
    if (b->queue)
        clFinish(b->queue);
    ocl_memory_release(b);
    ocl_registry_release(b);
    if (b->queue)
        clReleaseCommandQueue(b->queue);
    if (b->context)
        clReleaseContext(b->context);
    clcnn_mem_free(&b->ctx->allocator, b, sizeof *b);
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

/* The smaller of the device's figure and a setting (0: none). */
static size_t lower(size_t device, size_t setting)
{
    return setting && setting < device ? setting : device;
}

/* b->limits from the device and the context's settings; the im2col chunk
 * within the largest allocation. */
static int read_limits(ocl_backend *b)
{
    size_t wg = 0, items[3] = {0, 0, 0};
    cl_ulong local = 0, alloc = 0;
    cl_device_id d = b->dev.device;
    cl_int err = clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
    if (err == CL_SUCCESS)
        err = clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof items, items, NULL);
    if (err == CL_SUCCESS)
        err = clGetDeviceInfo(d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local, &local, NULL);
    if (err == CL_SUCCESS)
        err = clGetDeviceInfo(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof alloc, &alloc, NULL);
    if (err != CL_SUCCESS)
        return ocl_fail(b, err, "reading the device's limits");
    const clcnn_config *c = &b->ctx->config;
    b->limits.work_group = lower(lower(wg, items[0]), c->max_work_group);
    b->limits.local_mem = lower(local > SIZE_MAX ? SIZE_MAX : (size_t)local, c->max_local_mem);
    b->limits.alloc = lower(alloc > SIZE_MAX ? SIZE_MAX : (size_t)alloc, c->max_alloc);
    b->col_limit = lower(b->col_limit, b->limits.alloc);
    return CLCNN_OK;
}

/* The setup both constructors share, once b has its device, context and
 * queue: limits, programs and kernels.  On failure b is destroyed. */
static int backend_setup(ocl_backend *b, const clcnn_backend_ops **ops, void **bctx)
{
    int st = read_limits(b);
    if (!st)
        st = ocl_registry_build(b);
    if (st) {
        backend_destroy(b);
        return st;
    }
    *ops = &ocl_ops;
    *bctx = b;
    return CLCNN_OK;
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
        st = ocl_fail(b, err, "clCreateCommandQueue");
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

static const clcnn_backend_ops ocl_ops = {
    .name = "opencl",
    .destroy = backend_destroy,
    .alloc = ocl_alloc,
    .release = ocl_release,
    .sub_buffer = ocl_sub_buffer,
    .release_view = ocl_release,
    .view_align = ocl_view_align,
    .write = ocl_write,
    .read = ocl_read,
    .fill = ocl_fill,
    .finish = ocl_finish,
    .counters = ocl_counters,
    .conv_forward = ocl_conv_forward,
    .conv_backward = ocl_conv_backward,
    .conv_pool_forward = ocl_conv_pool_forward,
    .pool_forward = ocl_pool_forward,
    .pool_backward = ocl_pool_backward,
    .lrn_forward = ocl_lrn_forward,
    .lrn_backward = ocl_lrn_backward,
    .dropout_forward = ocl_dropout_forward,
    .dropout_backward = ocl_dropout_backward,
    .dense_forward = ocl_dense_forward,
    .dense_backward = ocl_dense_backward,
    .activation_forward = ocl_activation_forward,
    .activation_backward = ocl_activation_backward,
    .softmax_xent = ocl_softmax_xent,
    .adam_update = ocl_adam_update,
    .sgd_update = ocl_sgd_update,
    .gather_batch = ocl_gather_batch,
    .gather_augment = ocl_gather_augment,
    .wrap_native = ocl_wrap_native,
    .native_handle = ocl_native_handle,
};
