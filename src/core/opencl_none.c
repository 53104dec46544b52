/* Stand-in for the OpenCL backend in builds without OpenCL. */
#include <string.h>

#include "internal.h"

int clcnn_opencl_backend_create(clcnn_ctx *ctx, const char *spec, const clcnn_backend_ops **ops, void **bctx,
                                char *desc, size_t desc_len)
{
    (void)spec;
    (void)desc;
    (void)desc_len;
    *ops = NULL;
    *bctx = NULL;
    return clcnn_error(ctx, CLCNN_ERR_NO_DEVICE, "this build of clcnn has no OpenCL backend");
}

int clcnn_opencl_backend_create_shared(clcnn_ctx *ctx, struct _cl_context *context, struct _cl_device_id *device,
                                       struct _cl_command_queue *queue, const clcnn_backend_ops **ops, void **bctx,
                                       char *desc, size_t desc_len)
{
    (void)context;
    (void)device;
    (void)queue;
    (void)desc;
    (void)desc_len;
    *ops = NULL;
    *bctx = NULL;
    return clcnn_error(ctx, CLCNN_ERR_NO_DEVICE,
                       "clcnn_ctx_create_opencl: this build of clcnn has no OpenCL backend");
}

int clcnn_devices_list(clcnn_ctx *ctx, clcnn_device_info *list, size_t max, size_t *count)
{
    (void)list;
    (void)max;
    if (!count)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_devices_list: NULL count");
    *count = 0;
    return CLCNN_OK;
}

int clcnn_tune(clcnn_ctx *ctx, const clcnn_tune_options *options, clcnn_tune_report *report)
{
    (void)options;
    if (report)
        memset(report, 0, sizeof *report);
    return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_tune: this build of clcnn has no OpenCL backend");
}
