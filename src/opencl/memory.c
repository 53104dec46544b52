/* Device buffers of the OpenCL backend: allocation, wrapping an
 * application's cl_mem, uploads (three strategies by size), downloads, and
 * the scratch buffers the ops grow on demand. */
#include "opencl/ocl_backend.h" /* first: it picks the OpenCL API version */

#include <string.h>

/* Uploads up to this size (and above the staging slots') go through a
 * temporary device buffer, without waiting; larger ones block. */
#define OCL_ASYNC_WRITE_LIMIT ((size_t)64 << 20)

/* CLCNN_ERR_NOMEM with a message when one buffer of bytes exceeds the
 * device's largest allocation (or the context's lower max_alloc). */
static int check_alloc_limit(ocl_backend *b, size_t bytes, const char *what)
{
    if (bytes <= b->limits.alloc)
        return CLCNN_OK;
    return clcnn_error(b->ctx, CLCNN_ERR_NOMEM,
                       "OpenCL: %s of %zu bytes exceeds the largest single allocation of %s (%zu bytes%s)", what,
                       bytes, b->dev.device_name, b->limits.alloc,
                       b->ctx->config.max_alloc ? ", the context's max_alloc" : ", CL_DEVICE_MAX_MEM_ALLOC_SIZE");
}

/* Makes scratch buffer i hold at least bytes (contents not kept). */
int ocl_ensure_scratch(ocl_backend *b, int i, size_t bytes)
{
    if (b->scratch_bytes[i] >= bytes)
        return CLCNN_OK;
    int st = check_alloc_limit(b, bytes, "a scratch buffer");
    if (st)
        return st;
    size_t want = bytes + bytes / 4; /* some headroom against slow growth */
    if (want > b->limits.alloc || want < bytes)
        want = bytes;
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
        return ocl_fail(b, err, "allocating a scratch buffer");
    b->scratch[i] = m;
    b->scratch_bytes[i] = want;
    return CLCNN_OK;
}

void ocl_memory_release(ocl_backend *b)
{
    for (int i = 0; i < OCL_STAGING_SLOTS; i++) {
        if (b->staging[i].done)
            clReleaseEvent(b->staging[i].done);
        clcnn_mem_free(&b->ctx->allocator, b->staging[i].host, OCL_STAGING_SLOT_BYTES);
    }
    for (int i = 0; i < OCL_SCRATCH_COUNT; i++)
        if (b->scratch[i])
            clReleaseMemObject(b->scratch[i]);
}

int ocl_alloc(void *bctx, size_t bytes, clcnn_buf **out)
{
    ocl_backend *b = bctx;
    *out = NULL;
    clcnn_buf *buf = clcnn_mem_calloc(&b->ctx->allocator, 1, sizeof *buf);
    if (!buf)
        return clcnn_error(b->ctx, CLCNN_ERR_NOMEM, "OpenCL: out of host memory");
    /* Round up to whole floats (and at least one) so fills and CLBlast see
     * a well-formed buffer. */
    size_t size = bytes < 4 ? 4 : (bytes + 3) / 4 * 4;
    int st = check_alloc_limit(b, size, "a device buffer");
    if (st) {
        clcnn_mem_free(&b->ctx->allocator, buf, sizeof *buf);
        return st;
    }
    cl_int err;
    buf->mem = clCreateBuffer(b->context, CL_MEM_READ_WRITE, size, NULL, &err);
    if (err != CL_SUCCESS) {
        clcnn_mem_free(&b->ctx->allocator, buf, sizeof *buf);
        return ocl_fail(b, err, "allocating a device buffer");
    }
    buf->bytes = size;
    const cl_uchar zero = 0;
    err = clEnqueueFillBuffer(b->queue, buf->mem, &zero, sizeof zero, 0, size, 0, NULL, NULL);
    if (err != CL_SUCCESS) {
        clReleaseMemObject(buf->mem);
        clcnn_mem_free(&b->ctx->allocator, buf, sizeof *buf);
        return ocl_fail(b, err, "clearing a device buffer");
    }
    *out = buf;
    return CLCNN_OK;
}

void ocl_release(void *bctx, clcnn_buf *buf)
{
    ocl_backend *b = bctx;
    if (!buf)
        return;
    clReleaseMemObject(buf->mem); /* OpenCL defers the free until queued users finish */
    clcnn_mem_free(&b->ctx->allocator, buf, sizeof *buf);
}

static int check_range(ocl_backend *b, const clcnn_buf *buf, size_t offset, size_t bytes, const char *what)
{
    if (offset > buf->bytes || bytes > buf->bytes - offset)
        return clcnn_error(b->ctx, CLCNN_ERR_ARGUMENT, "OpenCL %s: %zu bytes at offset %zu exceed the buffer (%zu)",
                           what, bytes, offset, buf->bytes);
    return CLCNN_OK;
}

int ocl_sub_buffer(void *bctx, clcnn_buf *parent, size_t offset, size_t bytes, clcnn_buf **out)
{
    ocl_backend *b = bctx;
    *out = NULL;
    int st = check_range(b, parent, offset, bytes, "sub_buffer");
    if (st)
        return st;
    clcnn_buf *buf = clcnn_mem_calloc(&b->ctx->allocator, 1, sizeof *buf);
    if (!buf)
        return clcnn_error(b->ctx, CLCNN_ERR_NOMEM, "OpenCL: out of host memory");
    const cl_buffer_region region = {offset, bytes};
    cl_int err;
    buf->mem = clCreateSubBuffer(parent->mem, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, &region, &err);
    if (err != CL_SUCCESS) {
        clcnn_mem_free(&b->ctx->allocator, buf, sizeof *buf);
        return ocl_fail(b, err, "clCreateSubBuffer");
    }
    buf->bytes = bytes;
    *out = buf;
    return CLCNN_OK;
}

/* CL_DEVICE_MEM_BASE_ADDR_ALIGN is in bits; a sub-buffer's origin must be
 * a multiple of it. */
size_t ocl_view_align(void *bctx)
{
    ocl_backend *b = bctx;
    cl_uint bits = 0;
    if (clGetDeviceInfo(b->dev.device, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof bits, &bits, NULL) != CL_SUCCESS ||
        bits < 32)
        bits = 4096; /* the largest any known device reports */
    return (bits / 8 + 3) / 4 * 4;
}

int ocl_wrap_native(void *bctx, void *handle, size_t bytes, clcnn_buf **out)
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
        return ocl_fail(b, err, "clRetainMemObject");
    }
    /* The tensor's view; ocl_release() drops the reference taken here. */
    buf->mem = mem;
    buf->bytes = bytes;
    *out = buf;
    return CLCNN_OK;
}

void *ocl_native_handle(void *bctx, const clcnn_buf *buf)
{
    (void)bctx;
    return buf ? buf->mem : NULL;
}

int ocl_write(void *bctx, clcnn_buf *dst, size_t offset, const void *src, size_t bytes)
{
    ocl_backend *b = bctx;
    int st = check_range(b, dst, offset, bytes, "write");
    if (st || bytes == 0)
        return st;
    cl_int err;
    if (bytes <= OCL_STAGING_SLOT_BYTES) {
        int i = b->next_staging;
        if (b->staging[i].done) {
            /* Counted only when the upload is still pending, the host then
             * blocking until the device has caught up. */
            cl_int status = CL_COMPLETE;
            if (clGetEventInfo(b->staging[i].done, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status, &status, NULL) !=
                    CL_SUCCESS ||
                status != CL_COMPLETE)
                b->waits++;
            err = clWaitForEvents(1, &b->staging[i].done); /* normally long complete */
            clReleaseEvent(b->staging[i].done);
            b->staging[i].done = NULL;
            if (err != CL_SUCCESS)
                return ocl_fail(b, err, "waiting for an upload");
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
            return ocl_fail(b, err, "clEnqueueWriteBuffer");
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
            return err == CL_SUCCESS ? CLCNN_OK : ocl_fail(b, err, "clEnqueueCopyBuffer (upload)");
        }
    }
    b->waits++;
    err = clEnqueueWriteBuffer(b->queue, dst->mem, CL_TRUE, offset, bytes, src, 0, NULL, NULL);
    return err == CL_SUCCESS ? CLCNN_OK : ocl_fail(b, err, "clEnqueueWriteBuffer");
}

int ocl_read(void *bctx, const clcnn_buf *src, size_t offset, void *dst, size_t bytes)
{
    ocl_backend *b = bctx;
    int st = check_range(b, src, offset, bytes, "read");
    if (st || bytes == 0)
        return st;
    b->waits++;
    cl_int err = clEnqueueReadBuffer(b->queue, src->mem, CL_TRUE, offset, bytes, dst, 0, NULL, NULL);
    return err == CL_SUCCESS ? CLCNN_OK : ocl_fail(b, err, "clEnqueueReadBuffer");
}

int ocl_finish(void *bctx)
{
    ocl_backend *b = bctx;
    b->waits++;
    cl_int err = clFinish(b->queue);
    return err == CL_SUCCESS ? CLCNN_OK : ocl_fail(b, err, "clFinish");
}
