/*
 * Writes out every OpenCL program the library can build, for offline
 * compilers (tests/test_kernels.sh, scripts/kernel_resources.py):
 *
 *   kernel_programs DIR
 *
 * writes DIR/<family>.cl, the program text of each family exactly as the
 * library passes it to clCreateProgramWithSource, and prints one line per
 * build the library can make of it,
 * "<family> TAB <path> TAB <options> TAB <devices>": the build options for
 * each set of tunables the registry can pick (the defaults of each device
 * type, work-group sizes lowered for small devices), and the device types
 * that build is made for ("cpu", "gpu" or "cpu,gpu"; cpu stands for every
 * type that is not a GPU).  Both come from
 * the library's own code (src/opencl/program.c, launch.c), so nothing here
 * restates a file list, a tunable or a -D value.  Sources follow the
 * context settings like the library (CLCNN_KERNEL_DIR); the context's
 * other build options are not added: offline compilers get their own.
 * Exit status 1 with a message on any failure.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "clcnn.h"
#include "opencl/ocl_backend.h"

static int write_text(const char *path, const ocl_program_text *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "kernel_programs: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    int ok = 1;
    for (int i = 0; i < OCL_PROGRAM_PARTS; i++)
        ok = ok && fwrite(text->parts[i], 1, text->lens[i], f) == text->lens[i];
    ok = fclose(f) == 0 && ok;
    if (!ok)
        fprintf(stderr, "kernel_programs: cannot write %s\n", path);
    return ok ? 0 : -1;
}

/* The build options of variant n of family f on a GPU (gpu 1) or another
 * device into buf: 1, or 0 past the last variant, or -1 on an error. */
static int variant_options(const ocl_family *f, int gpu, size_t n, char *buf, size_t len)
{
    size_t tunables[OCL_MAX_TUNABLES];
    if (!ocl_tunable_variant(f, gpu, n, tunables))
        return 0;
    if (ocl_format_options(f, tunables, "", buf, len) < 0) {
        fprintf(stderr, "kernel_programs: the build options of %s are too long\n", f->file);
        return -1;
    }
    /* without the separator the formatter leaves after the last -D */
    size_t end = strlen(buf);
    while (end > 0 && buf[end - 1] == ' ')
        buf[--end] = '\0';
    return 1;
}

/* 1 when variant n of family f on device type gpu has the options of one
 * on the other type (the same build, listed once), -1 on an error. */
static int on_other_type(const ocl_family *f, int gpu, const char *options)
{
    char other[1024];
    int r;
    for (size_t n = 0; (r = variant_options(f, !gpu, n, other, sizeof other)) == 1; n++)
        if (strcmp(other, options) == 0)
            return 1;
    return r;
}

/* Prints the builds of family f, whose text is at path: those of other
 * devices (with "gpu" added where a GPU makes the same), then those a GPU
 * alone makes. */
static int print_builds(const ocl_family *f, const char *path)
{
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)strcspn(f->file, "."), f->file);
    for (int gpu = 0; gpu <= 1; gpu++) {
        char options[1024];
        int r;
        for (size_t n = 0; (r = variant_options(f, gpu, n, options, sizeof options)) == 1; n++) {
            int both = on_other_type(f, gpu, options);
            if (both < 0)
                return -1;
            if (gpu && both)
                continue; /* listed with the other devices */
            printf("%s\t%s\t%s\t%s\n", name, path, options, both ? "cpu,gpu" : gpu ? "gpu" : "cpu");
        }
        if (r < 0)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: kernel_programs DIR\n");
        return 2;
    }
    clcnn_ctx *ctx = NULL;
    const clcnn_ctx_options o = {.device = "cpu", .threads = 1};
    if (clcnn_ctx_create_with_options(&ctx, &o) != CLCNN_OK) {
        fprintf(stderr, "kernel_programs: %s\n", clcnn_errmsg(ctx));
        clcnn_ctx_free(ctx);
        return 1;
    }
    int st = 0;
    for (int i = 0; !st && i < OCL_FAMILY_COUNT; i++) {
        const ocl_family *f = ocl_families[i];
        ocl_program_text text;
        if (ocl_program_text_load(ctx, f->file, &text) != CLCNN_OK) {
            fprintf(stderr, "kernel_programs: %s\n", clcnn_errmsg(ctx));
            st = -1;
            break;
        }
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], f->file);
        st = write_text(path, &text);
        ocl_program_text_free(ctx, &text);
        if (!st)
            st = print_builds(f, path);
    }
    clcnn_ctx_free(ctx);
    if (!st && (fflush(stdout) != 0 || ferror(stdout))) {
        fprintf(stderr, "kernel_programs: cannot write the list\n");
        st = -1;
    }
    return st ? 1 : 0;
}
