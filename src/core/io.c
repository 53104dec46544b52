/* Whole-file reads and atomic writes (see io.h). */
#include "io.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

int clcnn_file_open(clcnn_ctx *ctx, const char *path, FILE **f, size_t *size)
{
    *f = fopen(path, "rb");
    if (!*f)
        return clcnn_error(ctx, CLCNN_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    int st = CLCNN_OK;
    if (fstat(fileno(*f), &sb) != 0)
        st = clcnn_error(ctx, CLCNN_ERR_IO, "%s: %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        st = clcnn_error(ctx, CLCNN_ERR_IO, "%s: not a regular file", path);
    else if ((uintmax_t)sb.st_size > SIZE_MAX)
        st = clcnn_error(ctx, CLCNN_ERR_IO, "%s: too large to address", path);
    if (st) {
        fclose(*f);
        *f = NULL;
        return st;
    }
    *size = (size_t)sb.st_size;
    return CLCNN_OK;
}

/* Messages go to ctx (NULL: none), memory comes from a. */
static int read_file(clcnn_ctx *ctx, const clcnn_allocator *a, const char *path, size_t max_bytes,
                     unsigned char **bytes, size_t *len)
{
    *bytes = NULL;
    *len = 0;
    FILE *f;
    size_t size;
    int st = clcnn_file_open(ctx, path, &f, &size);
    if (st)
        return st;
    if (size > max_bytes) {
        fclose(f);
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: larger than %zu bytes", path, max_bytes);
    }
    unsigned char *buf = clcnn_mem_alloc(a, size);
    if (!buf) {
        fclose(f);
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, size);
    }
    size_t got = fread(buf, 1, size, f);
    int err = ferror(f) ? errno : 0;
    fclose(f);
    if (got != size) {
        clcnn_mem_free(a, buf, size);
        if (err)
            return clcnn_error(ctx, CLCNN_ERR_IO, "%s: read error: %s", path, strerror(err));
        return clcnn_error(ctx, CLCNN_ERR_IO, "%s: read %zu of %zu bytes (the file shrank while being read)", path,
                           got, size);
    }
    *bytes = buf;
    *len = size;
    return CLCNN_OK;
}

int clcnn_read_file(clcnn_ctx *ctx, const char *path, size_t max_bytes, unsigned char **bytes, size_t *len)
{
    return read_file(ctx, clcnn_ctx_allocator(ctx), path, max_bytes, bytes, len);
}

int clcnn_read_file_quiet(const clcnn_allocator *a, const char *path, size_t max_bytes, unsigned char **bytes,
                          size_t *len)
{
    return read_file(NULL, a, path, max_bytes, bytes, len);
}

int clcnn_write_all(int fd, const void *bytes, size_t len)
{
    const unsigned char *p = bytes;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0) { /* no progress and no reason given: call it a full device */
            errno = ENOSPC;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int clcnn_write_atomic(clcnn_ctx *ctx, const char *path, clcnn_write_fn fn, void *user)
{
    /* On the stack, so that even a failed allocation can be reported (and
     * the silent callers need no allocator); open() refuses longer paths. */
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return clcnn_error(ctx, CLCNN_ERR_IO, "%s: path too long", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return clcnn_error(ctx, CLCNN_ERR_IO, "%s: cannot create a temporary file: %s", path, strerror(errno));
    const char *step = "write failed";
    if (fn(fd, user) != 0)
        goto fail;
    step = "cannot set its mode"; /* mkstemp makes it 0600 */
    if (fchmod(fd, 0644) != 0)
        goto fail;
    step = "fsync failed";
    if (fsync(fd) != 0)
        goto fail;
    step = "write failed"; /* close reports deferred write errors (NFS) */
    int closed = close(fd);
    fd = -1;
    if (closed != 0)
        goto fail;
    step = "cannot replace it";
    if (rename(tmp, path) != 0)
        goto fail;
    return CLCNN_OK;
fail : {
    int err = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return clcnn_error(ctx, CLCNN_ERR_IO, "%s: %s: %s", path, step, strerror(err));
}
}

typedef struct bytes_view {
    const void *bytes;
    size_t len;
} bytes_view;

static int write_view(int fd, void *user)
{
    const bytes_view *v = user;
    return clcnn_write_all(fd, v->bytes, v->len);
}

int clcnn_write_file_atomic(clcnn_ctx *ctx, const char *path, const void *bytes, size_t len)
{
    bytes_view v = {bytes, len};
    return clcnn_write_atomic(ctx, path, write_view, &v);
}
