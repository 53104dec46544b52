/* IDX files (the MNIST format), raw or gzip'd, and directories of them. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "bytes.h"
#include "data/dataset.h"
#include "io.h"

/* Largest decompressed file we accept; Fashion-MNIST's largest is 47 MB. */
#define IDX_MAX_BYTES ((size_t)1 << 31)

#define IDX_UBYTE 0x08

/* Resizes the output block *buf of *cap bytes to ncap bytes. */
static int resize_output(clcnn_ctx *ctx, const char *path, unsigned char **buf, size_t *cap, size_t ncap)
{
    unsigned char *nbuf = clcnn_mem_realloc(clcnn_ctx_allocator(ctx), *buf, *cap, ncap);
    if (!nbuf)
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory decompressing", path);
    *buf = nbuf;
    *cap = ncap;
    return CLCNN_OK;
}

/* Inflates the gzip file f (file_len bytes, read from its start) in
 * chunks, so the compressed bytes are never all in memory; the output is
 * sized from the gzip trailer when that is plausible, else grown. */
static int gunzip_file(clcnn_ctx *ctx, const char *path, FILE *f, size_t file_len, size_t max_bytes,
                       unsigned char **out, size_t *out_len)
{
    enum { CHUNK = 1 << 16 };
    const clcnn_allocator *a = clcnn_ctx_allocator(ctx);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    clcnn_mem_for_zlib(&zs, a);
    if (inflateInit2(&zs, 15 + 16) != Z_OK) /* 15 + 16: gzip wrapper only */
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory starting zlib", path);
    /* ISIZE, the last four bytes, is the size mod 2^32 of the last member;
     * deflate cannot expand more than about 1032:1. */
    unsigned char tail[4];
    size_t cap = file_len < max_bytes / 4 ? file_len * 4 + 1024 : max_bytes;
    if (file_len >= 18 && fseek(f, -4L, SEEK_END) == 0 && fread(tail, 1, 4, f) == 4) {
        size_t isize = get_le32(tail);
        if (isize > 0 && isize <= max_bytes && isize / 1032 <= file_len)
            cap = isize;
    }
    unsigned char *in = clcnn_mem_alloc(a, CHUNK), *buf = clcnn_mem_alloc(a, cap);
    size_t len = 0, consumed = 0;
    int st = CLCNN_OK, eof = 0;
    if (!in || !buf) {
        st = clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    if (fseek(f, 0L, SEEK_SET) != 0) {
        st = clcnn_error(ctx, CLCNN_ERR_IO, "%s: read error", path);
        goto done;
    }
    for (;;) {
        /* Keep at least two bytes of input at hand where the file has them
         * (enough to tell whether another gzip member follows). */
        if (zs.avail_in < 2 && !eof) {
            memmove(in, zs.next_in ? zs.next_in : in, zs.avail_in);
            size_t n = fread(in + zs.avail_in, 1, CHUNK - zs.avail_in, f);
            if (ferror(f)) {
                st = clcnn_error(ctx, CLCNN_ERR_IO, "%s: read error", path);
                goto done;
            }
            eof = n == 0 || feof(f);
            zs.next_in = in;
            zs.avail_in += (unsigned)n;
        }
        if (len == cap) {
            if (cap >= max_bytes) {
                st = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: decompresses to more than %zu bytes", path, max_bytes);
                goto done;
            }
            if ((st = resize_output(ctx, path, &buf, &cap, cap > max_bytes / 2 ? max_bytes : cap * 2)))
                goto done;
        }
        size_t out_avail = cap - len;
        zs.next_out = buf + len;
        zs.avail_out = out_avail > UINT_MAX ? UINT_MAX : (unsigned)out_avail;
        unsigned avail_in0 = zs.avail_in, avail_out0 = zs.avail_out;
        int ret = inflate(&zs, Z_NO_FLUSH);
        consumed += avail_in0 - zs.avail_in;
        len += avail_out0 - zs.avail_out;
        if (ret == Z_STREAM_END) {
            if (zs.avail_in < 2 && !eof)
                continue; /* read on before deciding what follows */
            if (zs.avail_in == 0)
                break;
            /* Concatenated gzip members are one file (as gzip -d reads them). */
            if (zs.avail_in >= 2 && zs.next_in[0] == 0x1f && zs.next_in[1] == 0x8b) {
                inflateReset(&zs);
                continue;
            }
            st = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: %zu bytes of garbage after the gzip data", path,
                             file_len - consumed);
            goto done;
        }
        if (ret == Z_BUF_ERROR || ret == Z_OK) {
            if (eof && zs.avail_in == 0 && zs.avail_out > 0) {
                st = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: gzip data is truncated (ends after %zu bytes)", path,
                                 file_len);
                goto done;
            }
            continue;
        }
        if (ret == Z_MEM_ERROR)
            st = clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory decompressing", path);
        else
            st = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: corrupt gzip data (%s)", path,
                             zs.msg ? zs.msg : "inflate failed");
        goto done;
    }
    /* The block is exactly len bytes, as clcnn_read_file's. */
    if (cap != len && (st = resize_output(ctx, path, &buf, &cap, len)))
        goto done;
    *out = buf;
    *out_len = len;
    buf = NULL;
done:
    inflateEnd(&zs);
    clcnn_mem_free(a, in, CHUNK);
    clcnn_mem_free(a, buf, cap);
    return st;
}

int clcnn_read_maybe_gzip(clcnn_ctx *ctx, const char *path, size_t max_bytes, unsigned char **bytes, size_t *len)
{
    int st = clcnn_path_check(ctx, path, NULL);
    if (st)
        return st;
    FILE *f;
    size_t size;
    if ((st = clcnn_file_open(ctx, path, &f, &size)))
        return st;
    unsigned char magic[2];
    if (fread(magic, 1, 2, f) == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        st = gunzip_file(ctx, path, f, size, max_bytes, bytes, len);
        fclose(f);
        return st;
    }
    fclose(f);
    return clcnn_read_file(ctx, path, max_bytes, bytes, len);
}

typedef struct idx_array {
    size_t dims[3];
    size_t count; /* product of dims */
    const unsigned char *data;
} idx_array;

/* Checks an IDX held in memory: magic, unsigned-byte type, the expected rank
 * (3 for images, 1 for labels), and that the data is exactly what the
 * header says. */
static int idx_parse(clcnn_ctx *ctx, const char *path, const unsigned char *b, size_t len, int rank, idx_array *a)
{
    const char *what = rank == 3 ? "images" : "labels";
    size_t hdr = 4 + 4 * (size_t)rank;
    if (len < 4)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: %zu bytes is too short for an IDX file", path, len);
    if (b[0] != 0 || b[1] != 0)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: not an IDX file (magic %02x %02x %02x %02x)", path, b[0], b[1],
                           b[2], b[3]);
    if (b[2] != IDX_UBYTE)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: IDX data type 0x%02x is not unsigned byte (0x08)", path, b[2]);
    if (b[3] != rank)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: IDX rank %d, but %s have rank %d (magic 0x%08x expected)",
                           path, b[3], what, rank, 0x800 + rank);
    if (len < hdr)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: IDX header is truncated (%zu of %zu bytes)", path, len, hdr);
    int ovf = 0;
    a->count = 1;
    for (int i = 0; i < rank; i++) {
        a->dims[i] = get_be32(b + 4 + 4 * i);
        a->count = clcnn_mul_size(a->count, a->dims[i], &ovf);
    }
    for (int i = rank; i < 3; i++)
        a->dims[i] = 1;
    if (ovf)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: header says %zu %s of %zux%zu, too many to address", path,
                           a->dims[0], what, a->dims[1], a->dims[2]);
    if (a->dims[0] == 0 || a->dims[1] == 0 || a->dims[2] == 0)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: header says %zu %s of %zux%zu: no data", path, a->dims[0],
                           what, a->dims[1], a->dims[2]);
    size_t have = len - hdr;
    if (have != a->count) {
        if (rank == 3)
            return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: header says %zu images of %zux%zu but holds %zu bytes of "
                               "pixels (%s %zu)", path, a->dims[0], a->dims[1], a->dims[2], have,
                               have < a->count ? "want" : "trailing garbage after", a->count);
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: header says %zu labels but holds %zu bytes of labels (%s %zu)",
                           path, a->dims[0], have, have < a->count ? "want" : "trailing garbage after", a->count);
    }
    a->data = b + hdr;
    return CLCNN_OK;
}

int clcnn_dataset_load_idx(clcnn_ctx *ctx, clcnn_dataset **out, const char *images_path, const char *labels_path)
{
    if (!out || !images_path)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_dataset_load_idx: out and images_path must not be NULL");
    *out = NULL;
    unsigned char *ib = NULL, *lb = NULL;
    size_t il = 0, ll = 0;
    idx_array im = {{0}, 0, NULL}, lab = {{0}, 0, NULL};
    clcnn_dataset *ds = NULL;
    int st = clcnn_read_maybe_gzip(ctx, images_path, IDX_MAX_BYTES, &ib, &il);
    if (!st)
        st = idx_parse(ctx, images_path, ib, il, 3, &im);
    if (!st && labels_path)
        st = clcnn_read_maybe_gzip(ctx, labels_path, IDX_MAX_BYTES, &lb, &ll);
    if (!st && labels_path)
        st = idx_parse(ctx, labels_path, lb, ll, 1, &lab);
    if (!st && labels_path && im.dims[0] != lab.dims[0])
        st = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s holds %zu images but %s holds %zu labels", images_path,
                         im.dims[0], labels_path, lab.dims[0]);
    if (!st)
        st = clcnn_dataset_alloc(ctx, clcnn_ctx_allocator(ctx), images_path, &ds, im.dims[0], im.dims[1], im.dims[2],
                                 1, DATASET_U8_ADOPT);
    if (!st) {
        /* Hand the file's own buffer to the data set (pixels moved to its
         * start, the header's few bytes left over at its end) rather than
         * holding two copies of the images at once. */
        memmove(ib, im.data, im.count);
        ds->u8 = ib;
        ds->pixels_size = il;
        ib = NULL;
        for (size_t i = 0; i < ds->count; i++)
            ds->labels[i] = labels_path ? lab.data[i] : 0;
        clcnn_dataset_update_classes(ds);
        *out = ds;
    }
    clcnn_mem_free(clcnn_ctx_allocator(ctx), ib, il);
    clcnn_mem_free(clcnn_ctx_allocator(ctx), lb, ll);
    return st;
}

/* Room for a path dir/base.gz. */
static size_t idx_path_size(const char *dir, const char *base)
{
    return strlen(dir) + strlen(base) + 8;
}

/* dir/base if it exists, else dir/base.gz if that exists; *path is a block
 * of idx_path_size bytes from ctx's allocator (NULL when neither exists). */
static int idx_find(clcnn_ctx *ctx, const char *dir, const char *base, char **path)
{
    *path = NULL;
    size_t n = idx_path_size(dir, base);
    char *p = clcnn_mem_alloc(clcnn_ctx_allocator(ctx), n);
    if (!p)
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory", dir);
    const char *ext[2] = {"", ".gz"};
    for (int i = 0; i < 2; i++) {
        snprintf(p, n, "%s/%s%s", dir, base, ext[i]);
        FILE *f = fopen(p, "rb");
        if (f) {
            fclose(f);
            *path = p;
            return CLCNN_OK;
        }
    }
    clcnn_mem_free(clcnn_ctx_allocator(ctx), p, n);
    return CLCNN_OK;
}

/* Loads prefix-images-idx3-ubyte[.gz] with prefix-labels-idx1-ubyte[.gz];
 * *ds stays NULL when both are absent and !required. */
static int idx_dir_split(clcnn_ctx *ctx, const char *dir, const char *prefix, int required, clcnn_dataset **ds)
{
    char ibase[64], lbase[64], *ipath = NULL, *lpath = NULL;
    snprintf(ibase, sizeof ibase, "%s-images-idx3-ubyte", prefix);
    snprintf(lbase, sizeof lbase, "%s-labels-idx1-ubyte", prefix);
    int st = idx_find(ctx, dir, ibase, &ipath);
    if (!st)
        st = idx_find(ctx, dir, lbase, &lpath);
    if (!st) {
        if (ipath && lpath)
            st = clcnn_dataset_load_idx(ctx, ds, ipath, lpath);
        else if (ipath || lpath || required)
            st = clcnn_error(ctx, CLCNN_ERR_IO, "%s/%s: does not exist (nor %s.gz)", dir, ipath ? lbase : ibase,
                             ipath ? lbase : ibase);
    }
    clcnn_mem_free(clcnn_ctx_allocator(ctx), ipath, idx_path_size(dir, ibase));
    clcnn_mem_free(clcnn_ctx_allocator(ctx), lpath, idx_path_size(dir, lbase));
    return st;
}

int clcnn_idx_dir_load(clcnn_ctx *ctx, const char *dir, clcnn_dataset **train, clcnn_dataset **test)
{
    int st = idx_dir_split(ctx, dir, "train", 1, train);
    if (!st && test)
        st = idx_dir_split(ctx, dir, "t10k", 0, test);
    if (st) {
        clcnn_dataset_free(*train);
        *train = NULL;
    }
    return st;
}
