/* Contexts: device choice, error messages, notices. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#ifdef CLCNN_HAVE_OPENCL
#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include "clcnn_opencl.h" /* checks the definitions below against the header */
#endif

const char *clcnn_version(void)
{
    return CLCNN_VERSION_STRING;
}

const char *clcnn_status_str(int status)
{
    switch (status) {
    case CLCNN_OK: return "success";
    case CLCNN_ERR_ARGUMENT: return "invalid argument";
    case CLCNN_ERR_SHAPE: return "shape mismatch";
    case CLCNN_ERR_NOMEM: return "out of memory";
    case CLCNN_ERR_IO: return "input/output error";
    case CLCNN_ERR_FORMAT: return "malformed file";
    case CLCNN_ERR_NO_DEVICE: return "no usable OpenCL device";
    case CLCNN_ERR_BUILD: return "OpenCL program build failed";
    case CLCNN_ERR_OPENCL: return "OpenCL error";
    case CLCNN_ERR_NUMERIC: return "numerical fault (NaN or Inf)";
    case CLCNN_ERR_UNSUPPORTED: return "unsupported";
    default: return "unknown status";
    }
}

int clcnn_error(clcnn_ctx *ctx, int status, const char *fmt, ...)
{
    if (ctx) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ctx->errmsg, sizeof ctx->errmsg, fmt, ap);
        va_end(ap);
    }
    return status;
}

void clcnn_notice(clcnn_ctx *ctx, const char *fmt, ...)
{
    if (!ctx->log)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ctx->log(ctx->log_user, msg);
}

size_t clcnn_mul_size(size_t a, size_t b, int *overflow)
{
    if (a != 0 && b > SIZE_MAX / a) {
        *overflow = 1;
        return 0;
    }
    return a * b;
}

int clcnn_check_ctx(clcnn_ctx *ctx, const char *who)
{
    if (!ctx)
        return CLCNN_ERR_ARGUMENT;
    if (!ctx->ops)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: the context has no device (its creation failed)", who);
    return CLCNN_OK;
}

static void log_to_stderr(void *user, const char *msg)
{
    (void)user;
    fprintf(stderr, "clcnn: %s\n", msg);
}

static int use_cpu(clcnn_ctx *ctx)
{
    snprintf(ctx->device_name, sizeof ctx->device_name, "CPU backend (C)");
    return clcnn_cpu_backend_create(ctx, &ctx->ops, &ctx->bctx);
}

static int use_opencl(clcnn_ctx *ctx, const char *spec)
{
    return clcnn_opencl_backend_create(ctx, spec, &ctx->ops, &ctx->bctx, ctx->device_name, sizeof ctx->device_name);
}

/* "auto": OpenCL if it can be used, else the CPU backend with one notice. */
static int use_auto(clcnn_ctx *ctx)
{
    int st = use_opencl(ctx, NULL);
    if (st == CLCNN_OK)
        return st;
    /* Only running out of memory is not a reason to try the CPU instead. */
    if (st == CLCNN_ERR_NOMEM)
        return st;
    clcnn_notice(ctx, "no usable OpenCL device (%s); using the CPU backend", ctx->errmsg);
    ctx->errmsg[0] = '\0';
    return use_cpu(ctx);
}

/* The device of the context's settings ("" is "auto"). */
static int choose_device(clcnn_ctx *ctx)
{
    const char *device = ctx->config.device;
    if (!*device || strcmp(device, "auto") == 0)
        return use_auto(ctx);
    if (strcmp(device, "cpu") == 0)
        return use_cpu(ctx);
    if (strcmp(device, "opencl") == 0)
        return use_opencl(ctx, NULL);
    if (strncmp(device, "opencl:", 7) == 0) {
        unsigned p, d;
        char extra;
        if (sscanf(device + 7, "%u:%u%c", &p, &d, &extra) != 2)
            return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "device \"%s\": expected opencl:PLATFORM:DEVICE, e.g. opencl:0:0",
                               device);
        return use_opencl(ctx, device + 7);
    }
    return clcnn_error(ctx, CLCNN_ERR_ARGUMENT,
                       "unknown device \"%s\" (expected auto, cpu, opencl or opencl:P:D)", device);
}

/* After choosing a backend: a failed context keeps only its message. */
static int ctx_settle(clcnn_ctx *ctx, int st)
{
    if (st != CLCNN_OK) {
        ctx->ops = NULL;
        ctx->bctx = NULL;
        ctx->device_name[0] = '\0';
    }
    return st;
}

/* A context from options o, on the application's OpenCL handles when
 * shared (even NULL ones: clcnn_ctx_create_opencl reports those), else on
 * o->device. */
static int ctx_create(clcnn_ctx **out, const clcnn_ctx_options *o, int shared)
{
    if (!out)
        return CLCNN_ERR_ARGUMENT;
    *out = NULL;
    const clcnn_allocator *a = o->allocator;
    if (a && (!a->alloc || !a->free))
        return CLCNN_ERR_ARGUMENT;
    clcnn_ctx *ctx = clcnn_mem_calloc(a, 1, sizeof *ctx);
    if (!ctx)
        return CLCNN_ERR_NOMEM;
    if (a)
        ctx->allocator = *a;
    ctx->log = o->log;
    ctx->log_user = o->log_user;
    *out = ctx;
    int st = clcnn_config_resolve(ctx, o, &ctx->config);
    if (st != CLCNN_OK)
        return ctx_settle(ctx, st);
    if (!shared)
        st = choose_device(ctx);
    else if (o->device)
        st = clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_ctx_create_with_options: a device name (\"%s\") and OpenCL "
                         "handles cannot both be given", o->device);
    else
        st = clcnn_opencl_backend_create_shared(ctx, o->cl_context, o->cl_device, o->cl_queue, &ctx->ops, &ctx->bctx,
                                                ctx->device_name, sizeof ctx->device_name);
    return ctx_settle(ctx, st);
}

int clcnn_ctx_create_with_options(clcnn_ctx **out, const clcnn_ctx_options *options)
{
    const clcnn_ctx_options o = options ? *options : (clcnn_ctx_options){0};
    return ctx_create(out, &o, o.cl_context || o.cl_device || o.cl_queue);
}

int clcnn_ctx_create_with_log(clcnn_ctx **out, const char *device, clcnn_log_fn log, void *log_user)
{
    const clcnn_ctx_options o = {.device = device, .log = log, .log_user = log_user};
    return ctx_create(out, &o, 0);
}

/* The handle types are spelled as the Khronos headers define cl_context,
 * cl_device_id and cl_command_queue, so that this file also builds without
 * OpenCL headers (src/core/opencl_none.c then answers CLCNN_ERR_NO_DEVICE). */
int clcnn_ctx_create_opencl(clcnn_ctx **out, struct _cl_context *context, struct _cl_device_id *device,
                            struct _cl_command_queue *queue, clcnn_log_fn log, void *log_user)
{
    const clcnn_ctx_options o = {.log = log, .log_user = log_user, .cl_context = context, .cl_device = device,
                                 .cl_queue = queue};
    return ctx_create(out, &o, 1);
}

int clcnn_ctx_create(clcnn_ctx **out, const char *device)
{
    return clcnn_ctx_create_with_log(out, device, log_to_stderr, NULL);
}

void clcnn_ctx_free(clcnn_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->ops)
        ctx->ops->destroy(ctx->bctx);
    const clcnn_allocator a = ctx->allocator; /* read before its block goes */
    clcnn_mem_free(&a, ctx, sizeof *ctx);
}

void clcnn_free(clcnn_ctx *ctx, void *p)
{
    clcnn_mem_free_tracked(clcnn_ctx_allocator(ctx), p);
}

const char *clcnn_errmsg(const clcnn_ctx *ctx)
{
    return ctx ? ctx->errmsg : "no context (out of memory?)";
}

const char *clcnn_ctx_backend(const clcnn_ctx *ctx)
{
    return ctx && ctx->ops ? ctx->ops->name : "none";
}

const char *clcnn_ctx_device_name(const clcnn_ctx *ctx)
{
    return ctx ? ctx->device_name : "";
}

void clcnn_ctx_set_log(clcnn_ctx *ctx, clcnn_log_fn log, void *user)
{
    if (!ctx)
        return;
    ctx->log = log;
    ctx->log_user = user;
}

int clcnn_ctx_counters(clcnn_ctx *ctx, clcnn_counters *out)
{
    if (!ctx || !ctx->ops || !out)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_ctx_counters: %s", out ? "no usable context" : "out is NULL");
    *out = (clcnn_counters){0, 0};
    if (ctx->ops->counters)
        ctx->ops->counters(ctx->bctx, &out->launches, &out->waits);
    return CLCNN_OK;
}

int clcnn_ctx_finish(clcnn_ctx *ctx)
{
    if (!ctx || !ctx->ops)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_ctx_finish: no usable context");
    return ctx->ops->finish(ctx->bctx);
}
