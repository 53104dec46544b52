/* OpenCL device discovery: every device of every platform, "auto" choice,
 * and the public clcnn_devices_list(). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "opencl/ocl.h"

#ifndef CL_PLATFORM_NOT_FOUND_KHR
#define CL_PLATFORM_NOT_FOUND_KHR -1001
#endif

const char *ocl_error_name(cl_int err)
{
    switch (err) {
#define E(x) \
    case x: return #x;
    E(CL_SUCCESS)
    E(CL_DEVICE_NOT_FOUND)
    E(CL_DEVICE_NOT_AVAILABLE)
    E(CL_COMPILER_NOT_AVAILABLE)
    E(CL_MEM_OBJECT_ALLOCATION_FAILURE)
    E(CL_OUT_OF_RESOURCES)
    E(CL_OUT_OF_HOST_MEMORY)
    E(CL_PROFILING_INFO_NOT_AVAILABLE)
    E(CL_MEM_COPY_OVERLAP)
    E(CL_IMAGE_FORMAT_MISMATCH)
    E(CL_IMAGE_FORMAT_NOT_SUPPORTED)
    E(CL_BUILD_PROGRAM_FAILURE)
    E(CL_MAP_FAILURE)
    E(CL_MISALIGNED_SUB_BUFFER_OFFSET)
    E(CL_COMPILE_PROGRAM_FAILURE)
    E(CL_LINKER_NOT_AVAILABLE)
    E(CL_LINK_PROGRAM_FAILURE)
    E(CL_INVALID_VALUE)
    E(CL_INVALID_DEVICE_TYPE)
    E(CL_INVALID_PLATFORM)
    E(CL_INVALID_DEVICE)
    E(CL_INVALID_CONTEXT)
    E(CL_INVALID_QUEUE_PROPERTIES)
    E(CL_INVALID_COMMAND_QUEUE)
    E(CL_INVALID_HOST_PTR)
    E(CL_INVALID_MEM_OBJECT)
    E(CL_INVALID_BINARY)
    E(CL_INVALID_BUILD_OPTIONS)
    E(CL_INVALID_PROGRAM)
    E(CL_INVALID_PROGRAM_EXECUTABLE)
    E(CL_INVALID_KERNEL_NAME)
    E(CL_INVALID_KERNEL_DEFINITION)
    E(CL_INVALID_KERNEL)
    E(CL_INVALID_ARG_INDEX)
    E(CL_INVALID_ARG_VALUE)
    E(CL_INVALID_ARG_SIZE)
    E(CL_INVALID_KERNEL_ARGS)
    E(CL_INVALID_WORK_DIMENSION)
    E(CL_INVALID_WORK_GROUP_SIZE)
    E(CL_INVALID_WORK_ITEM_SIZE)
    E(CL_INVALID_GLOBAL_OFFSET)
    E(CL_INVALID_EVENT_WAIT_LIST)
    E(CL_INVALID_EVENT)
    E(CL_INVALID_OPERATION)
    E(CL_INVALID_BUFFER_SIZE)
    E(CL_INVALID_GLOBAL_WORK_SIZE)
#undef E
    case CL_PLATFORM_NOT_FOUND_KHR: return "CL_PLATFORM_NOT_FOUND_KHR";
    default: return "unknown OpenCL error";
    }
}

static const char *type_name(cl_device_type t)
{
    if (t & CL_DEVICE_TYPE_GPU)
        return "GPU";
    if (t & CL_DEVICE_TYPE_CPU)
        return "CPU";
    if (t & CL_DEVICE_TYPE_ACCELERATOR)
        return "ACCELERATOR";
    return "OTHER";
}

/* clGetPlatformInfo or clGetDeviceInfo, on obj. */
typedef cl_int (*info_fn)(const void *obj, cl_uint what, size_t len, void *buf, size_t *need);

static cl_int platform_info(const void *obj, cl_uint what, size_t len, void *buf, size_t *need)
{
    return clGetPlatformInfo((cl_platform_id)obj, what, len, buf, need);
}

static cl_int device_info(const void *obj, cl_uint what, size_t len, void *buf, size_t *need)
{
    return clGetDeviceInfo((cl_device_id)obj, what, len, buf, need);
}

/* A string property, always NUL-terminated (truncated to len); one longer
 * than buf is fetched whole into a block from a and its start kept. */
static cl_int info_string(const clcnn_allocator *a, info_fn get, const void *obj, cl_uint what, char *buf,
                          size_t len)
{
    buf[0] = '\0';
    cl_int err = get(obj, what, len, buf, NULL);
    if (err == CL_INVALID_VALUE) {
        size_t need = 0;
        err = get(obj, what, 0, NULL, &need);
        char *tmp = err == CL_SUCCESS && need < SIZE_MAX ? clcnn_mem_alloc(a, need + 1) : NULL;
        if (tmp && get(obj, what, need, tmp, NULL) == CL_SUCCESS) {
            tmp[need] = '\0';
            snprintf(buf, len, "%s", tmp);
        }
        clcnn_mem_free(a, tmp, need + 1);
        err = CL_SUCCESS;
    }
    buf[len - 1] = '\0';
    return err;
}

static cl_int platform_string(const clcnn_allocator *a, cl_platform_id p, cl_platform_info what, char *buf, size_t len)
{
    return info_string(a, platform_info, p, what, buf, len);
}

static cl_int device_string(const clcnn_allocator *a, cl_device_id d, cl_device_info what, char *buf, size_t len)
{
    return info_string(a, device_info, d, what, buf, len);
}

void ocl_describe_device(const clcnn_allocator *a, cl_platform_id platform, cl_device_id device, ocl_device *e)
{
    memset(e, 0, sizeof *e);
    e->platform = platform;
    e->device = device;
    e->platform_index = -1;
    e->device_index = -1;
    platform_string(a, platform, CL_PLATFORM_NAME, e->platform_name, sizeof e->platform_name);
    device_string(a, device, CL_DEVICE_NAME, e->device_name, sizeof e->device_name);
    device_string(a, device, CL_DRIVER_VERSION, e->driver_version, sizeof e->driver_version);
    ocl_driver_library(platform, e->driver_library, sizeof e->driver_library);
    cl_device_type type = 0;
    cl_bool avail = CL_FALSE, compiler = CL_FALSE;
    clGetDeviceInfo(device, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    e->type_name = type_name(type);
    e->is_gpu = (type & CL_DEVICE_TYPE_GPU) != 0;
    if (clGetDeviceInfo(device, CL_DEVICE_AVAILABLE, sizeof avail, &avail, NULL) != CL_SUCCESS)
        avail = CL_FALSE;
    if (clGetDeviceInfo(device, CL_DEVICE_COMPILER_AVAILABLE, sizeof compiler, &compiler, NULL) != CL_SUCCESS)
        compiler = CL_FALSE;
    e->usable = avail && compiler;
}

void ocl_device_key(const ocl_device *dev, char buf[OCL_DEVICE_KEY_LEN])
{
    snprintf(buf, OCL_DEVICE_KEY_LEN, "platform=%s\ndevice=%s\ndriver=%s\nlibrary=%s\n", dev->platform_name,
             dev->device_name, dev->driver_version, dev->driver_library);
}

/* Every device found, in a block of cap entries from the allocator of ctx. */
typedef struct device_list {
    ocl_device *items;
    size_t count, cap;
} device_list;

static void device_list_free(clcnn_ctx *ctx, device_list *l)
{
    clcnn_mem_free(clcnn_ctx_allocator(ctx), l->items, l->cap * sizeof *l->items);
    memset(l, 0, sizeof *l);
}

/*
 * All devices of all platforms into *out (empty when none; freed with
 * device_list_free).  No ICD, no platform or no device is not an error
 * here: the list is then empty and why says which.
 */
static int discover(clcnn_ctx *ctx, device_list *out, const char **why)
{
    const clcnn_allocator *a = clcnn_ctx_allocator(ctx);
    cl_platform_id *plats = NULL;
    cl_device_id *devs = NULL;
    cl_uint nplat = 0, ndevs = 0; /* entries of plats, devs */
    device_list list = {NULL, 0, 0};
    int st = CLCNN_OK;
    memset(out, 0, sizeof *out);
    *why = "no OpenCL platform found (no ICD loader configuration or no vendor driver installed)";

    cl_int err = clGetPlatformIDs(0, NULL, &nplat);
    if (err == CL_PLATFORM_NOT_FOUND_KHR || (err == CL_SUCCESS && nplat == 0))
        return CLCNN_OK;
    if (err != CL_SUCCESS) {
        st = clcnn_error(ctx, CLCNN_ERR_OPENCL, "OpenCL: clGetPlatformIDs failed: %s (%d)", ocl_error_name(err),
                         (int)err);
        goto fail;
    }
    plats = clcnn_mem_calloc(a, nplat, sizeof *plats);
    if (!plats) {
        st = clcnn_error(ctx, CLCNN_ERR_NOMEM, "OpenCL: out of host memory listing platforms");
        goto fail;
    }
    err = clGetPlatformIDs(nplat, plats, NULL);
    if (err != CL_SUCCESS) {
        st = clcnn_error(ctx, CLCNN_ERR_OPENCL, "OpenCL: clGetPlatformIDs failed: %s (%d)", ocl_error_name(err),
                         (int)err);
        goto fail;
    }
    *why = "OpenCL platforms exist but have no devices";
    for (cl_uint p = 0; p < nplat; p++) {
        cl_uint ndev = 0;
        err = clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &ndev);
        if (err == CL_DEVICE_NOT_FOUND || (err == CL_SUCCESS && ndev == 0))
            continue;
        if (err != CL_SUCCESS) /* a broken platform does not hide the others */
            continue;
        clcnn_mem_free(a, devs, ndevs * sizeof *devs);
        ndevs = 0;
        devs = clcnn_mem_calloc(a, ndev, sizeof *devs);
        if (!devs) {
            st = clcnn_error(ctx, CLCNN_ERR_NOMEM, "OpenCL: out of host memory listing devices");
            goto fail;
        }
        ndevs = ndev;
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, ndev, devs, NULL) != CL_SUCCESS)
            continue;
        for (cl_uint d = 0; d < ndev; d++) {
            if (list.count == list.cap) {
                size_t ncap = list.cap ? 2 * list.cap : 8;
                ocl_device *grown =
                    clcnn_mem_realloc(a, list.items, list.cap * sizeof *list.items, ncap * sizeof *list.items);
                if (!grown) {
                    st = clcnn_error(ctx, CLCNN_ERR_NOMEM, "OpenCL: out of host memory listing devices");
                    goto fail;
                }
                list.items = grown;
                list.cap = ncap;
            }
            ocl_device *e = &list.items[list.count++];
            ocl_describe_device(a, plats[p], devs[d], e);
            e->platform_index = (int)p;
            e->device_index = (int)d;
        }
    }
    clcnn_mem_free(a, devs, ndevs * sizeof *devs);
    clcnn_mem_free(a, plats, nplat * sizeof *plats);
    *out = list;
    return CLCNN_OK;
fail:
    device_list_free(ctx, &list);
    clcnn_mem_free(a, devs, ndevs * sizeof *devs);
    clcnn_mem_free(a, plats, nplat * sizeof *plats);
    return st;
}

/* The index "auto" picks in list: the first usable GPU, else the first
 * usable device; -1 when none is usable. */
static long auto_choice(const ocl_device *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (list[i].usable && list[i].is_gpu)
            return (long)i;
    for (size_t i = 0; i < n; i++)
        if (list[i].usable)
            return (long)i;
    return -1;
}

int ocl_find_device(clcnn_ctx *ctx, const char *spec, ocl_device *out)
{
    device_list found;
    const char *why = "";
    int st = discover(ctx, &found, &why);
    if (st != CLCNN_OK)
        return st;
    const ocl_device *list = found.items;
    size_t n = found.count;
    if (n == 0) {
        st = clcnn_error(ctx, CLCNN_ERR_NO_DEVICE, "OpenCL: %s", why);
        goto fail;
    }
    if (!spec) {
        long i = auto_choice(list, n);
        if (i < 0) {
            st = clcnn_error(ctx, CLCNN_ERR_NO_DEVICE,
                             "OpenCL: %zu device(s) found, none available with a compiler", n);
            goto fail;
        }
        *out = list[i];
        device_list_free(ctx, &found);
        return CLCNN_OK;
    }
    unsigned p, d;
    char extra;
    if (sscanf(spec, "%u:%u%c", &p, &d, &extra) != 2) {
        st = clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "OpenCL: device \"%s\": expected PLATFORM:DEVICE, e.g. 0:0", spec);
        goto fail;
    }
    int platform_seen = 0;
    unsigned nplat = 0, ndev_on_p = 0;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned)list[i].platform_index + 1 > nplat)
            nplat = (unsigned)list[i].platform_index + 1;
        if ((unsigned)list[i].platform_index == p) {
            platform_seen = 1;
            ndev_on_p++;
            if ((unsigned)list[i].device_index == d) {
                if (!list[i].usable) {
                    st = clcnn_error(ctx, CLCNN_ERR_NO_DEVICE,
                                     "OpenCL %u:%u (%s) is not available or has no compiler", p, d,
                                     list[i].device_name);
                    goto fail;
                }
                *out = list[i];
                device_list_free(ctx, &found);
                return CLCNN_OK;
            }
        }
    }
    if (!platform_seen)
        st = clcnn_error(ctx, CLCNN_ERR_NO_DEVICE,
                         "OpenCL platform %u does not exist or has no devices (platforms with devices: 0..%u; "
                         "see `clcnn devices`)",
                         p, nplat ? nplat - 1 : 0);
    else
        st = clcnn_error(ctx, CLCNN_ERR_NO_DEVICE,
                         "OpenCL platform %u has no device %u (it has %u: 0..%u; see `clcnn devices`)", p, d,
                         ndev_on_p, ndev_on_p - 1);
fail:
    device_list_free(ctx, &found);
    return st;
}

int clcnn_devices_list(clcnn_ctx *ctx, clcnn_device_info *out, size_t max, size_t *count)
{
    if (!count || (max && !out))
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_devices_list: NULL %s", count ? "list" : "count");
    *count = 0;
    device_list found;
    const char *why = "";
    int st = discover(ctx, &found, &why);
    if (st != CLCNN_OK)
        return st;
    const ocl_device *list = found.items;
    size_t n = found.count;
    long pick = auto_choice(list, n);
    for (size_t i = 0; i < n && i < max; i++) {
        clcnn_device_info *o = &out[i];
        const ocl_device *e = &list[i];
        memset(o, 0, sizeof *o);
        o->platform_index = e->platform_index;
        o->device_index = e->device_index;
        snprintf(o->platform_name, sizeof o->platform_name, "%s", e->platform_name);
        snprintf(o->device_name, sizeof o->device_name, "%s", e->device_name);
        snprintf(o->device_type, sizeof o->device_type, "%s", e->type_name);
        snprintf(o->driver_version, sizeof o->driver_version, "%s", e->driver_version);
        device_string(clcnn_ctx_allocator(ctx), e->device, CL_DEVICE_OPENCL_C_VERSION, o->opencl_c_version,
                      sizeof o->opencl_c_version);
        cl_uint cu = 0;
        cl_ulong mem = 0;
        if (clGetDeviceInfo(e->device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL) == CL_SUCCESS)
            o->compute_units = cu;
        if (clGetDeviceInfo(e->device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL) == CL_SUCCESS)
            o->global_mem_bytes = mem;
        o->is_auto_choice = (long)i == pick;
    }
    *count = n;
    device_list_free(ctx, &found);
    return CLCNN_OK;
}
