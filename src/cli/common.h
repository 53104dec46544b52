/* What the subcommands share: errors, number parsing, contexts, data. */
#ifndef CLCNN_CLI_COMMON_H
#define CLCNN_CLI_COMMON_H

#include <stddef.h>
#include <stdio.h>

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

/* Loads --data (NULL: the default Fashion-MNIST, with its ten class
 * names); prints the error (saying how to install the default data when it
 * is missing) and returns non-zero on failure. */
int cli_load_data(clcnn_ctx *ctx, const char *path, clcnn_dataset **train, clcnn_dataset **valid,
                  clcnn_dataset **test);

/* The label of class i wherever a command shows one: "name (id)" when the
 * model holds class names ("Sneaker (7)"), else its id ("7").  The one
 * place that decides it.  Returns buf. */
const char *cli_class_label(const clcnn_model *m, size_t i, char *buf, size_t len);

/* Room for any label cli_class_label makes. */
#define CLI_LABEL_MAX (CLCNN_CLASS_NAME_MAX + 32)

/* Characters (UTF-8 code points) in s, for aligning columns of labels;
 * and s written to f padded with spaces to width characters. */
int cli_text_width(const char *s);
void cli_pad(FILE *f, const char *s, int width);

/* Gives m the class names of path, one per line (a final newline and
 * CRLF line ends are allowed); prints an error naming path and the line
 * (an empty or bad name, a count other than the model's classes, an
 * unreadable file) and returns non-zero on failure. */
int cli_read_class_names(clcnn_ctx *ctx, clcnn_model *m, const char *path);

/* The class names clcnn train gives its model: those of file (--class-names,
 * cli_read_class_names) if not NULL, else the training data's when they
 * name exactly the model's classes (a notice, unless quiet, when they do
 * not), else none (a resumed model keeps its own).  Prints the error and
 * returns non-zero on failure. */
int cli_train_class_names(clcnn_ctx *ctx, clcnn_model *m, const char *file, const clcnn_dataset *train, int quiet);

/* Writes s to f as a JSON string: quotes, backslashes and control
 * characters escaped (other bytes as they are: UTF-8 in, UTF-8 out). */
void cli_json_string(FILE *f, const char *s);

/* An output file written atomically: a temporary beside the target
 * (PATH.tmp.XXXXXX) renamed over it once complete, so that readers never
 * see a partial file and a failure leaves PATH as it was. */
typedef struct cli_atomic_file {
    FILE *f;          /* write here between open and commit */
    const char *path; /* the target */
    char *tmp;        /* the temporary's name */
} cli_atomic_file;

/* Creates the temporary (an unwritable PATH fails here, before any work);
 * prints the error and returns non-zero on failure. */
int cli_atomic_open(cli_atomic_file *a, const char *path);
/* Flushes, fsyncs, closes and renames the temporary over PATH; on failure
 * removes it, prints the error and returns non-zero. */
int cli_atomic_commit(cli_atomic_file *a);
/* Removes the temporary (a NULL or never opened file: nothing). */
void cli_atomic_discard(cli_atomic_file *a);

/* Seconds on a monotonic clock. */
double cli_now(void);

#endif
