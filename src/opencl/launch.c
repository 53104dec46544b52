/*
 * The kernel registry: every family's program, built with its tunables and
 * the host enums as -D values, its kernels with the work-group size each is
 * launched with; and the one way to set arguments and launch.
 */
#include "opencl/ocl_backend.h" /* first: it picks the OpenCL API version */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

const ocl_family *const ocl_families[OCL_FAMILY_COUNT] = {
#define OCL_FAMILY_ENTRY(name) [OCL_FAMILY_##name] = &ocl_family_##name,
    OCL_FAMILIES(OCL_FAMILY_ENTRY)
#undef OCL_FAMILY_ENTRY
};

/* Work-group size of kernels without a required one (capped by each
 * kernel's limit). */
#define OCL_LOCAL_1D 64

/* The host enums the kernels compare against, as -D values, so that the
 * kernels never restate them. */
static const struct {
    const char *name;
    int value;
} enum_defines[] = {
    {"ACT_IDENTITY", CLCNN_ACT_IDENTITY}, {"ACT_RELU", CLCNN_ACT_RELU}, {"ACT_SIGMOID", CLCNN_ACT_SIGMOID},
    {"ACT_TANH", CLCNN_ACT_TANH},         {"ACT_SOFTMAX", CLCNN_ACT_SOFTMAX}, {"POOL_MAX", CLCNN_POOL_MAX},
    {"POOL_AVG", CLCNN_POOL_AVG},
};

int ocl_fail(ocl_backend *b, cl_int err, const char *what)
{
    int st = (err == CL_OUT_OF_HOST_MEMORY || err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_RESOURCES)
                 ? CLCNN_ERR_NOMEM
                 : CLCNN_ERR_OPENCL;
    return clcnn_error(b->ctx, st, "OpenCL: %s failed: %s (%d)", what, ocl_error_name(err), (int)err);
}

int ocl_check_u32(ocl_backend *b, const char *op, size_t v)
{
    if (v > UINT32_MAX)
        return clcnn_error(b->ctx, CLCNN_ERR_UNSUPPORTED,
                           "OpenCL %s: %zu elements exceed the 32-bit indexing of the kernels", op, v);
    return CLCNN_OK;
}

/* The build options of the context split into the -D of tunables (set[][],
 * 0 where not given) and the rest, passed through as they are. */
typedef struct user_options {
    size_t set[OCL_FAMILY_COUNT][OCL_MAX_TUNABLES];
    char rest[CLCNN_CONFIG_OPTIONS_LEN];
} user_options;

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Records the definition def (NAME or NAME=VALUE, len bytes) when NAME is
 * a tunable; 1 when it was one, 0 when not, negative on an invalid value. */
static int take_tunable(ocl_backend *b, const char *def, size_t len, user_options *u)
{
    size_t name_len = 0;
    while (name_len < len && def[name_len] != '=')
        name_len++;
    for (int f = 0; f < OCL_FAMILY_COUNT; f++) {
        for (int t = 0; t < ocl_families[f]->tunable_count; t++) {
            const ocl_tunable *tun = &ocl_families[f]->tunables[t];
            if (strlen(tun->name) != name_len || strncmp(tun->name, def, name_len) != 0)
                continue;
            if (tun->fixed)
                return clcnn_error(b->ctx, CLCNN_ERR_ARGUMENT,
                                   "OpenCL build option -D%.*s: %s is the float8 width of the kernels of %s and "
                                   "stays %zu",
                                   (int)len, def, tun->name, ocl_families[f]->file, tun->value);
            size_t v = 0, i = name_len + 1;
            int ok = i < len;
            for (; ok && i < len; i++) {
                ok = def[i] >= '0' && def[i] <= '9' && v <= OCL_TUNABLE_MAX;
                v = v * 10 + (size_t)(def[i] - '0');
            }
            ok = ok && v >= 1 && v <= OCL_TUNABLE_MAX;
            if (ok && tun->wg_of != OCL_NO_KERNEL && (v & (v - 1)) != 0)
                ok = 0;
            if (!ok)
                return clcnn_error(b->ctx, CLCNN_ERR_ARGUMENT,
                                   "OpenCL build option -D%.*s: expected %s=N, N a whole number from 1 to %d%s",
                                   (int)len, def, tun->name, OCL_TUNABLE_MAX,
                                   tun->wg_of != OCL_NO_KERNEL ? " and a power of two (a work-group size)" : "");
            u->set[f][t] = v;
            return 1;
        }
    }
    return 0;
}

static int parse_user_options(ocl_backend *b, const char *s, user_options *u)
{
    memset(u, 0, sizeof *u);
    size_t out = 0;
    const char *p = s;
    for (;;) {
        while (is_space(*p))
            p++;
        if (!*p)
            break;
        const char *tok = p;
        while (*p && !is_space(*p))
            p++;
        const char *def = tok + 2;
        if (p - tok == 2 && strncmp(tok, "-D", 2) == 0) { /* "-D NAME=VALUE" */
            while (is_space(*p))
                p++;
            def = p;
            while (*p && !is_space(*p))
                p++;
        }
        if (strncmp(tok, "-D", 2) == 0 && p > def) {
            int r = take_tunable(b, def, (size_t)(p - def), u);
            if (r < 0)
                return r;
            if (r == 1)
                continue;
        }
        /* Not longer than s itself, which fits the same size. */
        if (out)
            u->rest[out++] = ' ';
        memcpy(u->rest + out, tok, (size_t)(p - tok));
        out += (size_t)(p - tok);
        u->rest[out] = '\0';
    }
    return CLCNN_OK;
}

int ocl_format_options(const ocl_family *f, const size_t *tunables, const char *rest, char *buf, size_t len)
{
    size_t n = 0;
    int w = 0;
    for (int t = 0; t < f->tunable_count && w >= 0 && n < len; t++, n += (size_t)w)
        w = snprintf(buf + n, len - n, "-D%s=%zu ", f->tunables[t].name, tunables[t]);
    for (size_t e = 0; e < sizeof enum_defines / sizeof *enum_defines && w >= 0 && n < len; e++, n += (size_t)w)
        w = snprintf(buf + n, len - n, "-D%s=%d ", enum_defines[e].name, enum_defines[e].value);
    if (w >= 0 && n < len)
        w = snprintf(buf + n, len - n, "%s", rest);
    return w < 0 || n + (size_t)w >= len ? -1 : 0;
}

/* The build options of family f: its tunables, the enums, the rest. */
static int family_options(ocl_backend *b, const ocl_family *f, const user_options *u, char *buf, size_t len)
{
    if (ocl_format_options(f, b->tunables[f->id], u->rest, buf, len) < 0)
        return clcnn_error(b->ctx, CLCNN_ERR_ARGUMENT, "OpenCL: the build options of %s are too long", f->file);
    return CLCNN_OK;
}

/* The largest power of two below v (v > 1): where fit_work_groups lowers a
 * work-group tunable whose kernel allows less than v. */
static size_t next_lower_work_group(size_t v)
{
    size_t p = 1;
    while (p * 2 < v)
        p *= 2;
    return p;
}

int ocl_tunable_variant(const ocl_family *f, int gpu, size_t n, size_t *tunables)
{
    /* n in mixed radix, one digit per work-group tunable: how many times
     * it is lowered from its default. */
    for (int t = 0; t < f->tunable_count; t++) {
        size_t v = gpu && f->tunables[t].gpu ? f->tunables[t].gpu : f->tunables[t].value;
        if (f->tunables[t].wg_of != OCL_NO_KERNEL) {
            size_t levels = 1;
            for (size_t x = v; x > 1; x = next_lower_work_group(x))
                levels++;
            for (size_t d = n % levels; d > 0; d--)
                v = next_lower_work_group(v);
            n /= levels;
        }
        tunables[t] = v;
    }
    return n == 0;
}

static void release_family(ocl_backend *b, const ocl_family *f)
{
    for (int k = 0; k < f->kernel_count; k++) {
        if (b->kernels[f->id][k].kernel)
            clReleaseKernel(b->kernels[f->id][k].kernel);
        b->kernels[f->id][k].kernel = NULL;
    }
    if (b->programs[f->id])
        clReleaseProgram(b->programs[f->id]);
    b->programs[f->id] = NULL;
}

/* What a built kernel may have on this device. */
typedef struct kernel_fit {
    size_t work_group; /* its CL_KERNEL_WORK_GROUP_SIZE within the device's limit */
    size_t local_mem;  /* the local memory it uses (CL_KERNEL_LOCAL_MEM_SIZE) */
} kernel_fit;

/* Creates kernel k of family f and chooses its work-group size: the one it
 * requires (reqd_work_group_size), else OCL_LOCAL_1D, halved until the
 * kernel's CL_KERNEL_WORK_GROUP_SIZE and the device's limit allow it. */
static int create_kernel(ocl_backend *b, const ocl_family *f, int k, kernel_fit *fit)
{
    ocl_kernel *kern = &b->kernels[f->id][k];
    cl_int err;
    kern->kernel = clCreateKernel(b->programs[f->id], f->kernels[k], &err);
    if (err != CL_SUCCESS) {
        kern->kernel = NULL;
        return clcnn_error(b->ctx, CLCNN_ERR_BUILD, "OpenCL: kernel %s missing from %s: %s (%d)", f->kernels[k],
                           f->file, ocl_error_name(err), (int)err);
    }
    size_t reqd[3] = {0, 0, 0}, limit = 0;
    cl_ulong local_mem = 0;
    err = clGetKernelWorkGroupInfo(kern->kernel, b->dev.device, CL_KERNEL_WORK_GROUP_SIZE, sizeof limit, &limit,
                                   NULL);
    if (err == CL_SUCCESS)
        err = clGetKernelWorkGroupInfo(kern->kernel, b->dev.device, CL_KERNEL_LOCAL_MEM_SIZE, sizeof local_mem,
                                       &local_mem, NULL);
    if (err != CL_SUCCESS)
        return ocl_fail(b, err, "clGetKernelWorkGroupInfo");
    if (clGetKernelWorkGroupInfo(kern->kernel, b->dev.device, CL_KERNEL_COMPILE_WORK_GROUP_SIZE, sizeof reqd, reqd,
                                 NULL) != CL_SUCCESS)
        reqd[0] = 0; /* not known: as if none were required */
    fit->work_group = limit < b->limits.work_group ? limit : b->limits.work_group;
    fit->local_mem = local_mem > SIZE_MAX ? SIZE_MAX : (size_t)local_mem;
    size_t local = OCL_LOCAL_1D;
    while (local > 1 && local > fit->work_group)
        local /= 2;
    kern->local = reqd[0] > 0 ? reqd[0] : local;
    return CLCNN_OK;
}

/* The work-group tunable of family f that sizes kernel k, or -1. */
static int work_group_tunable(const ocl_family *f, int k)
{
    for (int t = 0; t < f->tunable_count; t++)
        if (f->tunables[t].wg_of == k)
            return t;
    return -1;
}

/* Lowers the work-group tunables whose kernel requires more work-items
 * than it may have on this device (to the largest power of two within the
 * limit), or more local memory than the device has (halved: its local
 * arrays are sized by it).  1 when one was lowered (rebuild), 0 when all
 * fit, negative (an error) when a kernel cannot fit: its size is set by
 * the build options, or it has no such tunable. */
static int fit_work_groups(ocl_backend *b, const ocl_family *f, const user_options *u, const kernel_fit *fits)
{
    int lowered = 0;
    for (int k = 0; k < f->kernel_count; k++) {
        const kernel_fit *fit = &fits[k];
        const int over_items = b->kernels[f->id][k].local > fit->work_group;
        const int over_mem = fit->local_mem > b->limits.local_mem;
        if (!over_items && !over_mem)
            continue;
        const int t = work_group_tunable(f, k);
        const size_t v = t < 0 ? 0 : b->tunables[f->id][t];
        if (t < 0 || u->set[f->id][t] || fit->work_group < 1 || (over_mem && !over_items && v == 1)) {
            if (over_items)
                return clcnn_error(b->ctx, CLCNN_ERR_ARGUMENT,
                                   "OpenCL: kernel %s needs work-groups of %zu (%s) but %s allows %zu", f->kernels[k],
                                   b->kernels[f->id][k].local, t < 0 ? "required" : f->tunables[t].name,
                                   b->dev.device_name, fit->work_group);
            return clcnn_error(b->ctx, CLCNN_ERR_ARGUMENT,
                               "OpenCL: kernel %s uses %zu bytes of local memory (%s) but %s has %zu", f->kernels[k],
                               fit->local_mem, t < 0 ? "fixed" : f->tunables[t].name, b->dev.device_name,
                               b->limits.local_mem);
        }
        size_t w = 1;
        while (w * 2 <= fit->work_group)
            w *= 2;
        b->tunables[f->id][t] = over_items ? w : v / 2;
        lowered = 1;
    }
    return lowered;
}

/* Builds family f with each tunable as the build options set it, else as
 * clcnn_tune stored it (tuned, 0 where not), else its default for the
 * device's type. */
static int build_family(ocl_backend *b, const ocl_family *f, const user_options *u, const size_t *tuned)
{
    size_t defaults[OCL_MAX_TUNABLES];
    ocl_tunable_variant(f, b->dev.is_gpu, 0, defaults);
    for (int t = 0; t < f->tunable_count; t++)
        b->tunables[f->id][t] = u->set[f->id][t] ? u->set[f->id][t] : tuned[t] ? tuned[t] : defaults[t];
    /* Each rebuild lowers a tunable at least by half, so the loop ends:
     * 64 halvings take any size_t to 1, and a tunable at 1 that still does
     * not fit is an error. */
    for (int attempt = 0;; attempt++) {
        char options[CLCNN_CONFIG_OPTIONS_LEN + 512];
        kernel_fit fits[OCL_MAX_KERNELS];
        int st = family_options(b, f, u, options, sizeof options);
        if (!st)
            st = ocl_build_program(b->ctx, &b->dev, b->context, f->file, options, f->kernels, f->kernel_count,
                                       &b->programs[f->id]);
        for (int k = 0; !st && k < f->kernel_count; k++)
            st = create_kernel(b, f, k, &fits[k]);
        if (!st)
            st = fit_work_groups(b, f, u, fits);
        if (st <= 0)
            return st;
        release_family(b, f);
        if (attempt >= 64 * OCL_MAX_TUNABLES)
            return clcnn_error(b->ctx, CLCNN_ERR_OPENCL, "OpenCL: the work-group sizes of %s do not fit %s", f->file,
                               b->dev.device_name);
    }
}

int ocl_registry_build(ocl_backend *b)
{
    user_options u;
    size_t tuned[OCL_FAMILY_COUNT][OCL_MAX_TUNABLES];
    int st = parse_user_options(b, b->ctx->config.build_options, &u);
    if (!st)
        ocl_tuned_read(b, tuned);
    for (int f = 0; !st && f < OCL_FAMILY_COUNT; f++)
        st = build_family(b, ocl_families[f], &u, tuned[f]);
    return st;
}

void ocl_registry_release(ocl_backend *b)
{
    for (int f = 0; f < OCL_FAMILY_COUNT; f++)
        release_family(b, ocl_families[f]);
}

int ocl_launch(ocl_backend *b, const ocl_family *f, int k, const ocl_arg *args, int nargs, size_t items0,
               size_t items1)
{
    const ocl_kernel *kern = &b->kernels[f->id][k];
    char what[96];
    for (int i = 0; i < nargs; i++) {
        cl_int err = clSetKernelArg(kern->kernel, (cl_uint)i, args[i].size, args[i].value);
        if (err != CL_SUCCESS) {
            snprintf(what, sizeof what, "clSetKernelArg(%s, %d)", f->kernels[k], i);
            return ocl_fail(b, err, what);
        }
    }
    const size_t local[2] = {kern->local, 1};
    const size_t global[2] = {ocl_blocks(items0, local[0]) * local[0], items1};
    if (global[0] == 0)
        return CLCNN_OK;
    cl_int err = clEnqueueNDRangeKernel(b->queue, kern->kernel, items1 ? 2 : 1, NULL, global, local, 0, NULL, NULL);
    if (err != CL_SUCCESS) {
        snprintf(what, sizeof what, "launching %s", f->kernels[k]);
        return ocl_fail(b, err, what);
    }
    b->launches++;
    return CLCNN_OK;
}

void ocl_counters(void *bctx, uint64_t *launches, uint64_t *waits)
{
    const ocl_backend *b = bctx;
    *launches = b->launches;
    *waits = b->waits;
}
