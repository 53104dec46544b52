/* .npy files (format versions 1.0-3.0). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "io.h"
#include "data/npy.h"

static const struct {
    const char *descr;
    npy_dtype dtype;
    size_t size;
} dtypes[] = {
    {"<f4", NPY_F32, 4}, {"<f8", NPY_F64, 8}, {"|u1", NPY_U8, 1},
    {"<u1", NPY_U8, 1},  {"<i4", NPY_I32, 4}, {"<i8", NPY_I64, 8},
};

/* The value of 'key': in a Python dict literal, as a pointer just past the
 * colon and spaces, or NULL. */
static const char *dict_value(const char *hdr, const char *key)
{
    const char *p = strstr(hdr, key);
    if (!p)
        return NULL;
    p += strlen(key);
    while (*p == ' ')
        p++;
    if (*p != ':')
        return NULL;
    p++;
    while (*p == ' ')
        p++;
    return p;
}

int clcnn_npy_parse(clcnn_ctx *ctx, const char *name, const unsigned char *bytes, size_t len, npy_array *out)
{
    static const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
    if (len < 10 || memcmp(bytes, magic, 6) != 0)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: not a .npy file (bad magic)", name);
    unsigned major = bytes[6];
    size_t hlen, start;
    if (major == 1) {
        hlen = get_le16(bytes + 8);
        start = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12)
            return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: truncated .npy header", name);
        hlen = get_le32(bytes + 8);
        start = 12;
    } else {
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: unsupported .npy format version %u", name, major);
    }
    if (hlen > len - start || hlen > 65536)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: truncated .npy header", name);

    char hdr[65537];
    memcpy(hdr, bytes + start, hlen);
    hdr[hlen] = '\0';

    const char *d = dict_value(hdr, "'descr'");
    if (!d || *d != '\'')
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: .npy header has no 'descr'", name);
    d++;
    const char *d_end = strchr(d, '\'');
    if (!d_end)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: malformed .npy header", name);
    size_t dlen = (size_t)(d_end - d);
    int found = 0;
    for (size_t i = 0; i < sizeof dtypes / sizeof *dtypes; i++)
        if (strlen(dtypes[i].descr) == dlen && memcmp(dtypes[i].descr, d, dlen) == 0) {
            out->dtype = dtypes[i].dtype;
            out->itemsize = dtypes[i].size;
            found = 1;
        }
    if (!found && dlen >= 3 && (memcmp(d, "|S", 2) == 0 || memcmp(d, "<U", 2) == 0)) {
        /* Strings: the element size follows, in characters. */
        size_t n = 0;
        found = 1;
        for (size_t i = 2; i < dlen && found; i++) {
            found = d[i] >= '0' && d[i] <= '9' && n <= NPY_MAX_STRING;
            n = n * 10 + (size_t)(d[i] - '0');
        }
        found = found && n >= 1 && n <= NPY_MAX_STRING;
        out->dtype = d[1] == 'S' ? NPY_BYTES : NPY_UCS4;
        out->itemsize = d[1] == 'S' ? n : 4 * n;
    }
    if (!found)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT,
                           "%s: unsupported dtype '%.*s' (supported: little-endian float32, float64, uint8, int32, "
                           "int64; strings '<U' and '|S')",
                           name, (int)(dlen < 16 ? dlen : 16), d);

    const char *f = dict_value(hdr, "'fortran_order'");
    if (!f)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: .npy header has no 'fortran_order'", name);
    if (strncmp(f, "False", 5) != 0)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: Fortran-ordered arrays are not supported (save in C order)",
                           name);

    const char *s = dict_value(hdr, "'shape'");
    if (!s || *s != '(')
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: .npy header has no 'shape'", name);
    s++;
    out->rank = 0;
    out->count = 1;
    int overflow = 0;
    for (;;) {
        while (*s == ' ' || *s == ',')
            s++;
        if (*s == ')')
            break;
        if (*s < '0' || *s > '9')
            return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: malformed shape in .npy header", name);
        errno = 0;
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || v > SIZE_MAX)
            return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: dimension too large in .npy header", name);
        if (out->rank == CLCNN_MAX_RANK)
            return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: arrays of rank above %d are not supported", name,
                               CLCNN_MAX_RANK);
        out->shape[out->rank++] = (size_t)v;
        out->count = clcnn_mul_size(out->count, (size_t)v, &overflow);
        s = end;
    }
    size_t esize = out->itemsize;
    size_t need = clcnn_mul_size(out->count, esize, &overflow);
    size_t data_at = start + hlen;
    if (overflow)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: the shape's size overflows", name);
    if (need != len - data_at)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: %s: the shape needs %zu bytes of data, the file holds %zu",
                           name, need > len - data_at ? "truncated data" : "trailing data", need, len - data_at);
    out->data = bytes + data_at;
    return CLCNN_OK;
}

double clcnn_npy_get(const npy_array *a, size_t i)
{
    const unsigned char *p = a->data + i * a->itemsize;
    switch (a->dtype) {
    case NPY_F32: return get_lef32(p);
    case NPY_F64: return get_lef64(p);
    case NPY_U8: return *p;
    case NPY_I32: return (int32_t)get_le32(p);
    case NPY_I64: return (double)(int64_t)get_le64(p);
    case NPY_BYTES:
    case NPY_UCS4: break;
    }
    return 0.0;
}

int clcnn_npy_read(clcnn_ctx *ctx, const char *path, float **data, int *rank, size_t *shape)
{
    if (!path || !data || !rank || !shape)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_npy_read: NULL argument");
    *data = NULL;
    unsigned char *bytes;
    size_t len;
    int st = clcnn_read_file(ctx, path, CLCNN_READ_ANY_SIZE, &bytes, &len);
    if (st)
        return st;
    npy_array a;
    st = clcnn_npy_parse(ctx, path, bytes, len, &a);
    if (st == CLCNN_OK && (a.dtype == NPY_BYTES || a.dtype == NPY_UCS4))
        st = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: holds strings, not numbers", path);
    if (st == CLCNN_OK) {
        /* Tracked: clcnn_free() gets no size from the caller. */
        float *x = a.count <= SIZE_MAX / sizeof *x
                       ? clcnn_mem_alloc_tracked(clcnn_ctx_allocator(ctx), a.count * sizeof *x, CLCNN_MEM_ALIGN)
                       : NULL;
        if (!x) {
            st = clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory", path);
        } else {
            for (size_t i = 0; i < a.count; i++)
                x[i] = (float)clcnn_npy_get(&a, i);
            *data = x;
            *rank = a.rank;
            memcpy(shape, a.shape, (size_t)a.rank * sizeof *shape);
        }
    }
    clcnn_mem_free(clcnn_ctx_allocator(ctx), bytes, len);
    return st;
}

int clcnn_npy_write(clcnn_ctx *ctx, const char *path, const float *data, int rank, const size_t *shape)
{
    if (!path || !data || !shape || rank < 0 || rank > CLCNN_MAX_RANK)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_npy_write: bad argument");
    char dict[256];
    int n = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    size_t count = 1;
    int overflow = 0;
    for (int i = 0; i < rank; i++) {
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%zu%s", shape[i], rank == 1 ? "," : (i + 1 < rank ? ", " : ""));
        count = clcnn_mul_size(count, shape[i], &overflow);
    }
    n += snprintf(dict + n, sizeof dict - (size_t)n, "), }");
    size_t bytes_len = clcnn_mul_size(count, sizeof(float), &overflow);
    if (overflow)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: the shape's size overflows", path);
    /* Header padded with spaces and a newline to a multiple of 64 bytes. */
    size_t hlen = ((size_t)n + 1 + 10 + 63) / 64 * 64 - 10;
    size_t total = 10 + hlen + bytes_len;
    unsigned char *buf = clcnn_mem_alloc(clcnn_ctx_allocator(ctx), total);
    if (!buf)
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory", path);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    put_le16(buf + 8, (uint16_t)hlen);
    memset(buf + 10, ' ', hlen);
    memcpy(buf + 10, dict, (size_t)n);
    buf[10 + hlen - 1] = '\n';
    for (size_t i = 0; i < count; i++)
        put_lef32(buf + 10 + hlen + 4 * i, data[i]);
    int st = clcnn_write_file_atomic(ctx, path, buf, total);
    clcnn_mem_free(clcnn_ctx_allocator(ctx), buf, total);
    return st;
}
