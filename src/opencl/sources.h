/* The OpenCL C sources of cl/, embedded at build time (embed_kernels.py). */
#ifndef CLCNN_OCL_SOURCES_H
#define CLCNN_OCL_SOURCES_H

#include <stddef.h>

typedef struct clcnn_ocl_source {
    const char *name; /* file name in cl/, e.g. "conv.cl" */
    const char *text; /* NUL-terminated */
    size_t length;    /* bytes, without the NUL */
} clcnn_ocl_source;

extern const clcnn_ocl_source clcnn_ocl_sources[];
extern const size_t clcnn_ocl_source_count;

#endif
