/* A small read-only zip reader over an archive held in memory: stored and
 * deflate members, CRC-32 and sizes verified, no ZIP64, no encryption. */
#ifndef CLCNN_ZIP_H
#define CLCNN_ZIP_H

#include <stddef.h>

#include "internal.h"

typedef struct clcnn_zip {
    const char *path; /* for messages */
    const unsigned char *bytes;
    size_t len;
    size_t cd_offset, cd_size; /* the central directory, inside bytes */
    size_t entries;
} clcnn_zip;

/* Finds and checks the end-of-central-directory record of bytes (which stay
 * owned by the caller and must outlive zip). */
int clcnn_zip_open(clcnn_ctx *ctx, const char *path, const unsigned char *bytes, size_t len, clcnn_zip *zip);

/* Extracts the member called name into *data, a block of *len bytes from
 * ctx's allocator (the caller frees it with clcnn_mem_free).  *found is 0 (and CLCNN_OK returned) when there is no such
 * member; max_bytes caps the uncompressed size. */
int clcnn_zip_extract(clcnn_ctx *ctx, const clcnn_zip *zip, const char *name, size_t max_bytes, unsigned char **data,
                      size_t *len, int *found);

#endif
