/* Private declarations of the OpenCL backend (src/opencl/). */
#ifndef CLCNN_OCL_H
#define CLCNN_OCL_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <stddef.h>

#include "internal.h"

/* ---------------------------------------------------------------- devices */

/* One device found by discovery, with the facts the backend needs. */
typedef struct ocl_device {
    cl_platform_id platform;
    cl_device_id device;
    int platform_index, device_index;
    char platform_name[128];
    char device_name[128];
    char driver_version[64];
    char driver_library[512]; /* ocl_driver_library's text */
    const char *type_name; /* "GPU", "CPU", "ACCELERATOR", "OTHER" (static) */
    int is_gpu;
    int usable; /* available, with a compiler: what "auto" may pick */
} ocl_device;

/*
 * Finds the device named by spec: NULL for "auto" (the first usable GPU of
 * any platform, else the first usable device of any type), or "P:D".
 * Errors: CLCNN_ERR_NO_DEVICE (no ICD, platform or device; an index out of
 * range), CLCNN_ERR_OPENCL (a discovery call failed), with the message.
 */
int ocl_find_device(clcnn_ctx *ctx, const char *spec, ocl_device *out);

/* Fills out with the facts of device (of platform); the indices are -1
 * (discovery sets them).  Never fails: unreadable properties stay empty
 * (also a long one when a, the allocator for its copy, has no memory). */
void ocl_describe_device(const clcnn_allocator *a, cl_platform_id platform, cl_device_id device, ocl_device *out);

/* Writes what identifies the library implementing platform: its path,
 * size and modification time ("unknown" when it cannot be found). */
void ocl_driver_library(cl_platform_id platform, char *buf, size_t len);

/* The lines naming dev in a cache key (platform, device, driver version,
 * driver library) into buf of OCL_DEVICE_KEY_LEN bytes: a binary or a tuned
 * choice is only ever read back by the same driver on the same device. */
#define OCL_DEVICE_KEY_LEN 1024
void ocl_device_key(const ocl_device *dev, char buf[OCL_DEVICE_KEY_LEN]);

/* The name of an OpenCL error code ("CL_OUT_OF_RESOURCES"), static. */
const char *ocl_error_name(cl_int err);

/* ---------------------------------------------------------------- programs */

/*
 * Builds the program of cl/<file> (after cl/common.cl) for dev in context
 * with the build options given: the sources come from the embedded copy or
 * from the kernel directory of the context's settings; the binary from the
 * on-disk cache when a valid entry exists (one holding the kernel_count
 * kernels named), else from source (then written to the cache).  Errors:
 * CLCNN_ERR_BUILD with the build log, CLCNN_ERR_IO (a file of the kernel
 * directory unreadable), CLCNN_ERR_OPENCL, CLCNN_ERR_NOMEM.
 */
int ocl_build_program(clcnn_ctx *ctx, const ocl_device *dev, cl_context context, const char *file,
                      const char *options, const char *const *kernels, int kernel_count, cl_program *out);

/* A kernel source file's text: the embedded copy, or one read from the
 * kernel_dir setting into owned, a block of owned_size bytes. */
typedef struct ocl_source_text {
    const char *text;
    size_t len;
    char *owned;
    size_t owned_size;
} ocl_source_text;

/* The program text of cl/<file> exactly as ocl_build_program hands it to
 * clCreateProgramWithSource: OCL_PROGRAM_PARTS strings (parts, lens), a
 * #line directive and cl/common.cl, a #line directive and cl/<file>.  Also
 * what tests/kernel_programs.c writes out for offline compilers. */
#define OCL_PROGRAM_PARTS 4
typedef struct ocl_program_text {
    const char *parts[OCL_PROGRAM_PARTS];
    size_t lens[OCL_PROGRAM_PARTS];
    char line_common[64], line_body[64];
    ocl_source_text common, body;
} ocl_program_text;

/* Loads the text of cl/<file> (sources as for ocl_build_program; errors
 * CLCNN_ERR_BUILD for a file not embedded, CLCNN_ERR_IO, CLCNN_ERR_NOMEM);
 * free it with ocl_program_text_free (also after a failure). */
int ocl_program_text_load(clcnn_ctx *ctx, const char *file, ocl_program_text *out);
void ocl_program_text_free(clcnn_ctx *ctx, ocl_program_text *text);

/* ----------------------------------------------------------------- hashing */

/* 64-bit FNV-1a, continued from h (start with OCL_FNV_SEED). */
#define OCL_FNV_SEED 0xcbf29ce484222325ULL
unsigned long long ocl_fnv1a(unsigned long long h, const void *data, size_t len);

#endif
