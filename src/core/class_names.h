/* Class names, as a model or a data set holds them: one checked, owned
 * copy (docs/api.md, "Class names"). */
#ifndef CLCNN_CLASS_NAMES_H
#define CLCNN_CLASS_NAMES_H

#include <stddef.h>

#include "internal.h"

typedef struct class_names {
    size_t count;       /* 0: none */
    const char **names; /* count pointers into text */
    char *text;         /* the names, each NUL-terminated, one after another */
    size_t text_size;   /* bytes of text */
} class_names;

/* Checks one name of len bytes (which need not be NUL-terminated): 1 to
 * CLCNN_CLASS_NAME_MAX bytes of UTF-8 without control characters.  The
 * message names it as who ("m.model: class name 3 is empty"). */
int clcnn_class_name_valid(clcnn_ctx *ctx, int status, const char *who, const char *name, size_t len);

/* Replaces *dst (freed through a) with a copy of count names (lens[i]
 * bytes each; lens NULL: NUL-terminated), every one checked first; on
 * failure *dst is unchanged.  count 0 removes the names.  Messages:
 * "<who>: class name N ..." with status for a bad name. */
int clcnn_class_names_set(clcnn_ctx *ctx, const clcnn_allocator *a, int status, const char *who, class_names *dst,
                          const char *const *src, const size_t *lens, size_t count);

/* Name i, or NULL when there is none. */
const char *clcnn_class_names_get(const class_names *n, size_t i);

void clcnn_class_names_free(const clcnn_allocator *a, class_names *n);

#endif
