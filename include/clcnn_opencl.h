/*
 * clcnn_opencl.h — sharing an OpenCL context with clcnn.
 *
 * For applications that already use OpenCL: clcnn runs on the application's
 * own cl_context, device and in-order cl_command_queue, and tensors can sit
 * on the application's own cl_mem buffers, without copies.  clcnn.h itself
 * needs no OpenCL headers; this header includes <CL/cl.h> (define
 * CL_TARGET_OPENCL_VERSION before including it, as for any OpenCL code).
 *
 * Work ordering: clcnn enqueues all of its work (kernels, uploads, reads) on
 * the queue it was given, in order.  Commands the application enqueues on
 * that same queue are therefore ordered with clcnn's: a kernel the
 * application enqueues after clcnn_conv_forward sees its output.  With
 * another queue the application must synchronise itself: clcnn_ctx_finish()
 * (or clFinish on the shared queue) before using clcnn's results, and its
 * own clFinish/events before clcnn uses buffers it wrote.
 *
 * Threads: as for any context (clcnn.h); the application must not enqueue on
 * the shared queue from another thread while a clcnn call on the context is
 * running.
 */
#ifndef CLCNN_OPENCL_H
#define CLCNN_OPENCL_H

#include <CL/cl.h>

#include "clcnn.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Creates a context on the application's OpenCL context, device and
 * command queue (the device must be one of the context's, the queue made
 * on that context and device, and in-order: no
 * CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE).  clcnn builds its kernels for
 * that context and device (with the same binary cache as
 * clcnn_ctx_create) and enqueues everything on queue.  It retains context
 * and queue (clRetainContext, clRetainCommandQueue) and releases them in
 * clcnn_ctx_free, which first waits for the queue (clFinish); the
 * application keeps its own references and releases them as usual.
 * log/log_user as with clcnn_ctx_create_with_log.  This is
 * clcnn_ctx_create_with_options with cl_context, cl_device, cl_queue, log
 * and log_user set; use that to install an allocator hook as well.
 * Errors: CLCNN_ERR_ARGUMENT (out NULL, a NULL or invalid handle, handles
 * that do not belong together, an out-of-order queue), CLCNN_ERR_BUILD,
 * CLCNN_ERR_OPENCL, CLCNN_ERR_NOMEM; CLCNN_ERR_NO_DEVICE in a build of
 * clcnn without the OpenCL backend.  As with clcnn_ctx_create, a failure
 * still sets *out to a context that holds only the message (nothing is
 * retained then; *out is NULL only when that context cannot be allocated);
 * the caller frees it.
 */
CLCNN_API int clcnn_ctx_create_opencl(clcnn_ctx **out, cl_context context, cl_device_id device,
                                      cl_command_queue queue, clcnn_log_fn log, void *log_user);

/*
 * A tensor of the given rank and shape (as clcnn_tensor_create) over the
 * application's buffer, without copying: its first count*4 bytes hold the
 * float32 elements, row-major.  buffer must belong to the cl_context of
 * ctx (an OpenCL context; with clcnn_ctx_create, that is the one clcnn
 * made, so this is mainly for clcnn_ctx_create_opencl) and have at least
 * count*4 bytes.  clcnn retains buffer (clRetainMemObject) and releases it
 * in clcnn_tensor_free; the application keeps its own reference.  Writes of
 * clcnn ops through the tensor land in buffer.  The caller owns *out.
 * Errors: CLCNN_ERR_ARGUMENT (a NULL pointer, a bad shape as for
 * clcnn_tensor_create, an invalid buffer, one of another cl_context, one
 * too small; a context on the CPU backend), CLCNN_ERR_NOMEM.
 */
CLCNN_API int clcnn_tensor_from_cl_mem(clcnn_ctx *ctx, clcnn_tensor **out, int rank, const size_t *shape,
                                       cl_mem buffer);

/*
 * The OpenCL buffer that holds t (NULL on the CPU backend or for t NULL):
 * a tensor made by clcnn_tensor_create, an op's output, or one made by
 * clcnn_tensor_from_cl_mem.  It still belongs to t and is valid until
 * clcnn_tensor_free (clRetainMemObject it to keep it longer).  Its size
 * may exceed count*4 bytes.  See the note on work ordering above before
 * reading it on another queue.
 */
CLCNN_API cl_mem clcnn_tensor_cl_mem(const clcnn_tensor *t);

#ifdef __cplusplus
}
#endif

#endif
