/* What the subcommands share: errors, number parsing, contexts, data. */
#ifndef CLCNN_CLI_COMMON_H
#define CLCNN_CLI_COMMON_H

#include <stddef.h>

#include "clcnn.h"

#define CLI_DEFAULT_DATA "/usr/share/datasets/fashion-mnist"

/* Prints "clcnn: error: ..." (one line) to stderr; returns 1. */
int cli_fail(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Prints "clcnn CMD: ...; try 'clcnn CMD --help'" to stderr; returns 2. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Strict number parsing for option values: the whole string must be a
 * number within [lo, hi].  Return 0 on success. */
int cli_parse_size(const char *s, size_t lo, size_t hi, size_t *out);
int cli_parse_u64(const char *s, unsigned long long *out);
int cli_parse_float(const char *s, double lo, double hi, double *out);

/* A context for device (NULL: auto/CLCNN_DEVICE); prints the error and
 * returns NULL on failure. */
clcnn_ctx *cli_open_ctx(const char *device);

/* Loads --data (NULL: the default Fashion-MNIST); prints the error (saying
 * how to install the default data when it is missing) and returns non-zero
 * on failure. */
int cli_load_data(clcnn_ctx *ctx, const char *path, clcnn_dataset **train, clcnn_dataset **valid,
                  clcnn_dataset **test);

/* Seconds on a monotonic clock. */
double cli_now(void);

#endif
