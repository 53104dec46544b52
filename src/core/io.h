/* Whole files: read into memory through a context's allocator, written
 * atomically.  Every failure returns a status and leaves on ctx a message
 * that names the file and what went wrong (with the system's errno text);
 * ctx may be NULL where failures are silent (the kernel binary cache). */
#ifndef CLCNN_IO_H
#define CLCNN_IO_H

#include <stddef.h>
#include <stdio.h>

#include "internal.h"

/* No size limit for clcnn_read_file beyond what memory allows. */
#define CLCNN_READ_ANY_SIZE ((size_t)-1)

/* Opens path for reading; it must be a regular file, of *size bytes.
 * Errors: CLCNN_ERR_IO. */
int clcnn_file_open(clcnn_ctx *ctx, const char *path, FILE **f, size_t *size);

/* Reads the whole regular file path, of at most max_bytes, into *bytes, a
 * block of exactly *len bytes from ctx's allocator (free it with
 * clcnn_mem_free and that size).  Errors: CLCNN_ERR_IO (cannot open, not a
 * regular file, a read error), CLCNN_ERR_FORMAT (larger than max_bytes),
 * CLCNN_ERR_NOMEM. */
int clcnn_read_file(clcnn_ctx *ctx, const char *path, size_t max_bytes, unsigned char **bytes, size_t *len);

/* The same without a context: no message, the block from a. */
int clcnn_read_file_quiet(const clcnn_allocator *a, const char *path, size_t max_bytes, unsigned char **bytes,
                          size_t *len);

/* Writes all len bytes to fd, retrying short writes and EINTR; 0, or -1
 * with errno set. */
int clcnn_write_all(int fd, const void *bytes, size_t len);

/* Writes a file's contents to fd; 0, or -1 with errno set. */
typedef int (*clcnn_write_fn)(int fd, void *user);

/* Replaces path atomically: fn fills a temporary file beside it (mode
 * 0644), which is synced and renamed over path.  On failure the temporary
 * file is removed and path is untouched.  Errors: CLCNN_ERR_IO. */
int clcnn_write_atomic(clcnn_ctx *ctx, const char *path, clcnn_write_fn fn, void *user);

/* clcnn_write_atomic of len bytes. */
int clcnn_write_file_atomic(clcnn_ctx *ctx, const char *path, const void *bytes, size_t len);

#endif
