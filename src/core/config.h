/* The settings of a context: clcnn_ctx_options resolved once, at creation,
 * with the environment as the default (config.c is the only place that
 * reads it).  Backends read ctx->config, never getenv. */
#ifndef CLCNN_CONFIG_H
#define CLCNN_CONFIG_H

#include <stddef.h>

#include "clcnn.h"

#define CLCNN_CONFIG_PATH_LEN 4096
#define CLCNN_CONFIG_OPTIONS_LEN 2048
#define CLCNN_CONFIG_MAX_THREADS 256

typedef struct clcnn_config {
    char device[256];                              /* "" = auto */
    int threads;                                   /* 0 = one per online CPU */
    char kernel_dir[CLCNN_CONFIG_PATH_LEN];        /* "" = the embedded sources */
    char cache_dir[CLCNN_CONFIG_PATH_LEN];         /* "" = no cache (off, or no directory known) */
    char build_options[CLCNN_CONFIG_OPTIONS_LEN];  /* extra OpenCL build options, "" = none */
    clcnn_path conv_path, dense_path;              /* never CLCNN_PATH_DEFAULT */
    size_t col_limit;                              /* bytes, > 0 */
    size_t max_work_group, max_local_mem, max_alloc; /* 0 = the device's own */
    int tuned;                                     /* 1: use clcnn_tune's stored values, 0: not */
} clcnn_config;

/* The built-in im2col scratch limit of the OpenCL backend. */
#define CLCNN_CONFIG_COL_LIMIT ((size_t)64 << 20)

/*
 * Fills cfg from o: every field o sets wins; every field left at zero takes
 * the environment variable documented in clcnn.h (unless
 * o->ignore_environment), else the built-in default.  An invalid value,
 * set or from the environment, is CLCNN_ERR_ARGUMENT with a message on ctx
 * naming the field or the variable.
 */
int clcnn_config_resolve(clcnn_ctx *ctx, const clcnn_ctx_options *o, clcnn_config *cfg);

#endif
