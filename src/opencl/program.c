/* Kernel sources (embedded, or from the kernel_dir setting), program
 * builds, and the binary cache around them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"
#include "opencl/cache.h"
#include "opencl/ocl.h"
#include "opencl/sources.h"

/* Put in front of every family's source. */
#define COMMON_FILE "common.cl"

/* A kernel source read from disk is a few dozen KB; refuse what cannot be one. */
#define KERNEL_SOURCE_MAX_BYTES ((size_t)16 << 20)

unsigned long long ocl_fnv1a(unsigned long long h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static void source_free(clcnn_ctx *ctx, ocl_source_text *src)
{
    clcnn_mem_free(&ctx->allocator, src->owned, src->owned_size);
    src->owned = NULL;
}

static int load_source(clcnn_ctx *ctx, const char *name, ocl_source_text *out)
{
    memset(out, 0, sizeof *out);
    const char *dir = ctx->config.kernel_dir;
    if (*dir) {
        char path[CLCNN_CONFIG_PATH_LEN + 64]; /* the directory and a file name of cl/ */
        snprintf(path, sizeof path, "%s/%s", dir, name);
        unsigned char *text;
        int st = clcnn_read_file(ctx, path, KERNEL_SOURCE_MAX_BYTES, &text, &out->owned_size);
        if (st) {
            char why[512];
            snprintf(why, sizeof why, "%s", clcnn_errmsg(ctx));
            return clcnn_error(ctx, st, "OpenCL: a kernel directory is set (kernel_dir, CLCNN_KERNEL_DIR), but %s", why);
        }
        out->owned = (char *)text;
        out->text = out->owned;
        out->len = out->owned_size;
        return CLCNN_OK;
    }
    for (size_t i = 0; i < clcnn_ocl_source_count; i++) {
        if (strcmp(clcnn_ocl_sources[i].name, name) == 0) {
            out->text = clcnn_ocl_sources[i].text;
            out->len = clcnn_ocl_sources[i].length;
            return CLCNN_OK;
        }
    }
    return clcnn_error(ctx, CLCNN_ERR_BUILD, "OpenCL: kernel source %s is not embedded in this build", name);
}

int ocl_program_text_load(clcnn_ctx *ctx, const char *file, ocl_program_text *out)
{
    memset(out, 0, sizeof *out);
    int st = load_source(ctx, COMMON_FILE, &out->common);
    if (!st)
        st = load_source(ctx, file, &out->body);
    if (st) {
        ocl_program_text_free(ctx, out);
        return st;
    }
    /* #line directives make the build log name the right file and line. */
    snprintf(out->line_common, sizeof out->line_common, "#line 1 \"%s\"\n", COMMON_FILE);
    snprintf(out->line_body, sizeof out->line_body, "\n#line 1 \"%s\"\n", file);
    const char *parts[OCL_PROGRAM_PARTS] = {out->line_common, out->common.text, out->line_body, out->body.text};
    const size_t lens[OCL_PROGRAM_PARTS] = {strlen(out->line_common), out->common.len, strlen(out->line_body),
                                            out->body.len};
    memcpy(out->parts, parts, sizeof parts);
    memcpy(out->lens, lens, sizeof lens);
    return CLCNN_OK;
}

void ocl_program_text_free(clcnn_ctx *ctx, ocl_program_text *text)
{
    source_free(ctx, &text->common);
    source_free(ctx, &text->body);
}

/* Sets the message for a failed clBuildProgram, with the device's log. */
static int build_error(clcnn_ctx *ctx, const ocl_device *dev, cl_program prog, const char *file, cl_int err)
{
    size_t n = 0;
    char *log = NULL;
    if (clGetProgramBuildInfo(prog, dev->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &n) == CL_SUCCESS && n &&
        n < SIZE_MAX) {
        log = clcnn_mem_alloc(&ctx->allocator, n + 1);
        if (log && clGetProgramBuildInfo(prog, dev->device, CL_PROGRAM_BUILD_LOG, n, log, NULL) == CL_SUCCESS)
            log[n] = '\0';
        else if (log)
            log[0] = '\0';
    }
    int status =
        (err == CL_BUILD_PROGRAM_FAILURE || err == CL_INVALID_BUILD_OPTIONS || err == CL_COMPILER_NOT_AVAILABLE)
            ? CLCNN_ERR_BUILD
            : CLCNN_ERR_OPENCL;
    clcnn_error(ctx, status, "OpenCL: building %s for %s failed (%s, %d); build log:\n%s", file, dev->device_name,
                ocl_error_name(err), (int)err, log && *log ? log : "(empty)");
    clcnn_mem_free(&ctx->allocator, log, n + 1);
    return status;
}

/* 1 when prog has every kernel of names (CL_PROGRAM_KERNEL_NAMES is one
 * string, the names separated by ';'). */
static int has_kernels(const clcnn_allocator *a, cl_program prog, const char *const *names, int count)
{
    size_t n = 0;
    if (clGetProgramInfo(prog, CL_PROGRAM_KERNEL_NAMES, 0, NULL, &n) != CL_SUCCESS || n == 0 || n == SIZE_MAX)
        return 0;
    char *list = clcnn_mem_alloc(a, n + 1);
    int ok = list && clGetProgramInfo(prog, CL_PROGRAM_KERNEL_NAMES, n, list, NULL) == CL_SUCCESS;
    if (ok)
        list[n] = '\0';
    for (int k = 0; ok && k < count; k++) {
        size_t len = strlen(names[k]);
        int found = 0;
        for (const char *p = list;; p++) {
            size_t item = strcspn(p, ";");
            found = item == len && memcmp(p, names[k], len) == 0;
            p += item;
            if (found || !*p)
                break;
        }
        ok = found;
    }
    clcnn_mem_free(a, list, n + 1);
    return ok;
}

/* Tries the cache entry at path; 1 with *out built when it was usable: its
 * checksums and key are right (ocl_cache_load: only then is the binary
 * handed to the driver, which may crash rather than refuse one it did not
 * write), the driver accepts it, and it has the kernels of this program. */
static int build_from_cache(const clcnn_allocator *a, const ocl_device *dev, cl_context context, const char *path,
                            const char *key, const char *options, const char *const *kernels, int kernel_count,
                            cl_program *out)
{
    unsigned char *bin = NULL;
    size_t len = 0, block = 0;
    if (!ocl_cache_load(a, path, key, &bin, &len, &block))
        return 0;
    cl_int err, bin_status = CL_INVALID_BINARY;
    const unsigned char *bins[1] = {bin};
    cl_program prog = clCreateProgramWithBinary(context, 1, &dev->device, &len, bins, &bin_status, &err);
    clcnn_mem_free(a, bin, block);
    if (err != CL_SUCCESS || bin_status != CL_SUCCESS) {
        if (err == CL_SUCCESS)
            clReleaseProgram(prog);
        return 0;
    }
    if (clBuildProgram(prog, 1, &dev->device, options, NULL, NULL) != CL_SUCCESS ||
        !has_kernels(a, prog, kernels, kernel_count)) {
        clReleaseProgram(prog);
        return 0;
    }
    *out = prog;
    return 1;
}

/* Writes the binary of a freshly built program to path (failures ignored). */
static void store_binary(const clcnn_allocator *a, cl_program prog, const char *path, const char *key)
{
    size_t size = 0;
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL) != CL_SUCCESS || size == 0)
        return;
    unsigned char *bin = clcnn_mem_alloc(a, size);
    if (!bin)
        return;
    unsigned char *bins[1] = {bin};
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bins, bins, NULL) == CL_SUCCESS)
        ocl_cache_store(path, key, bin, size);
    clcnn_mem_free(a, bin, size);
}

int ocl_build_program(clcnn_ctx *ctx, const ocl_device *dev, cl_context context, const char *file,
                      const char *options, const char *const *kernels, int kernel_count, cl_program *out)
{
    const clcnn_allocator *a = &ctx->allocator;
    ocl_program_text text;
    char *key = NULL;
    size_t key_size = 0;
    cl_program prog = NULL;
    *out = NULL;

    int st = ocl_program_text_load(ctx, file, &text);
    if (st)
        return st;
    unsigned long long src_hash = OCL_FNV_SEED;
    for (int i = 0; i < OCL_PROGRAM_PARTS; i++) {
        src_hash = ocl_fnv1a(src_hash, &text.lens[i], sizeof text.lens[i]);
        src_hash = ocl_fnv1a(src_hash, text.parts[i], text.lens[i]);
    }

    const char *dir = ctx->config.cache_dir;
    char path[CLCNN_CONFIG_PATH_LEN + 64];
    int use_cache = ocl_cache_dir(&ctx->config);
    if (use_cache) {
        const char *fmt = "clcnn program cache v%u\n%sfile=%s\nsource=%016llx\noptions=%s\n";
        char dev_key[OCL_DEVICE_KEY_LEN];
        ocl_device_key(dev, dev_key);
        int n = snprintf(NULL, 0, fmt, OCL_CACHE_FORMAT_VERSION, dev_key, file, src_hash, options);
        key_size = n > 0 ? (size_t)n + 1 : 0;
        key = key_size ? clcnn_mem_alloc(a, key_size) : NULL;
        if (!key) { /* the cache is only a shortcut: build from source */
            use_cache = 0;
        } else {
            snprintf(key, key_size, fmt, OCL_CACHE_FORMAT_VERSION, dev_key, file, src_hash, options);
            ocl_cache_path(dir, key, path, sizeof path);
            if (build_from_cache(a, dev, context, path, key, options, kernels, kernel_count, &prog))
                goto done;
        }
    }

    cl_int err;
    prog = clCreateProgramWithSource(context, OCL_PROGRAM_PARTS, text.parts, text.lens, &err);
    if (err != CL_SUCCESS) {
        prog = NULL;
        st = clcnn_error(ctx, err == CL_OUT_OF_HOST_MEMORY ? CLCNN_ERR_NOMEM : CLCNN_ERR_OPENCL,
                         "OpenCL: clCreateProgramWithSource(%s) failed: %s (%d)", file, ocl_error_name(err), (int)err);
        goto fail;
    }
    err = clBuildProgram(prog, 1, &dev->device, options, NULL, NULL);
    if (err != CL_SUCCESS) {
        st = build_error(ctx, dev, prog, file, err);
        goto fail;
    }
    if (use_cache)
        store_binary(a, prog, path, key);

done:
    clcnn_mem_free(a, key, key_size);
    ocl_program_text_free(ctx, &text);
    *out = prog;
    return CLCNN_OK;
fail:
    if (prog)
        clReleaseProgram(prog);
    clcnn_mem_free(a, key, key_size);
    ocl_program_text_free(ctx, &text);
    return st;
}
