/* A small zip reader on zlib (see zip.h).  Every offset and size read from
 * the archive is checked against the bytes actually there. */
#include "data/zip.h"

#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "bytes.h"

#define EOCD_SIG 0x06054b50u
#define EOCD_LEN 22
#define ZIP64_LOCATOR_SIG 0x07064b50u
#define CDIR_SIG 0x02014b50u
#define CDIR_LEN 46
#define LOCAL_SIG 0x04034b50u
#define LOCAL_LEN 30
#define FLAG_ENCRYPTED 0x0001u
#define FLAG_DATA_DESCRIPTOR 0x0008u
#define FLAG_STRONG_ENCRYPTION 0x0040u
#define METHOD_STORED 0
#define METHOD_DEFLATE 8
/* deflate cannot expand data by more than about 1032:1 */
#define DEFLATE_MAX_RATIO 1032u

int clcnn_zip_open(clcnn_ctx *ctx, const char *path, const unsigned char *b, size_t len, clcnn_zip *zip)
{
    memset(zip, 0, sizeof *zip);
    if (len < EOCD_LEN)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: not a zip archive (%zu bytes)", path, len);
    /* The record is the last 22 bytes plus a comment of up to 65535 bytes. */
    size_t lowest = len - EOCD_LEN > 0xFFFF ? len - EOCD_LEN - 0xFFFF : 0, at = len - EOCD_LEN + 1;
    int found = 0;
    size_t short_end = 0; /* end of a record followed by extra bytes */
    while (at-- > lowest) {
        if (get_le32(b + at) != EOCD_SIG)
            continue;
        size_t end = at + EOCD_LEN + get_le16(b + at + 20);
        if (end == len) {
            found = 1;
            break;
        }
        if (end < len && !short_end)
            short_end = end;
    }
    if (!found && short_end)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: %zu bytes of garbage after the end-of-central-directory record",
                           path, len - short_end);
    if (!found)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT,
                           "%s: not a zip archive (no end-of-central-directory record; truncated?)", path);
    const unsigned char *e = b + at;
    unsigned disk = get_le16(e + 4), cd_disk = get_le16(e + 6), n_disk = get_le16(e + 8), n_total = get_le16(e + 10);
    uint32_t cd_size = get_le32(e + 12), cd_offset = get_le32(e + 16);
    if ((at >= 20 && get_le32(b + at - 20) == ZIP64_LOCATOR_SIG) || n_total == 0xFFFF || cd_size == 0xFFFFFFFFu ||
        cd_offset == 0xFFFFFFFFu)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: ZIP64 archives are not supported", path);
    if (disk != 0 || cd_disk != 0 || n_disk != n_total)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: multi-disk zip archives are not supported", path);
    if (cd_offset > at || cd_size > at - cd_offset)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT,
                           "%s: central directory (%lu bytes at offset %lu) lies outside the %zu bytes before its end "
                           "record", path, (unsigned long)cd_size, (unsigned long)cd_offset, at);
    if ((size_t)n_total * CDIR_LEN > cd_size)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: central directory of %lu bytes cannot hold %u entries", path,
                           (unsigned long)cd_size, n_total);
    zip->path = path;
    zip->bytes = b;
    zip->len = len;
    zip->cd_offset = cd_offset;
    zip->cd_size = cd_size;
    zip->entries = n_total;
    return CLCNN_OK;
}

static int inflate_member(clcnn_ctx *ctx, const clcnn_zip *zip, const char *name, const unsigned char *src,
                          size_t csize, unsigned char *dst, size_t usize)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    clcnn_mem_for_zlib(&zs, clcnn_ctx_allocator(ctx));
    if (inflateInit2(&zs, -15) != Z_OK) /* raw deflate, no header */
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory starting zlib", zip->path);
    zs.next_in = (unsigned char *)(uintptr_t)src;
    zs.avail_in = (unsigned)csize;
    zs.next_out = dst;
    zs.avail_out = (unsigned)usize;
    int ret = inflate(&zs, Z_FINISH);
    unsigned char spare;
    if ((ret == Z_OK || ret == Z_BUF_ERROR) && zs.avail_out == 0) {
        /* dst is full but the stream goes on: one spare byte tells overlong
         * data from a truncated stream. */
        zs.next_out = &spare;
        zs.avail_out = 1;
        ret = inflate(&zs, Z_FINISH);
    }
    size_t in = zs.total_in, out = zs.total_out;
    const char *msg = zs.msg;
    int st = CLCNN_OK;
    if (ret == Z_MEM_ERROR)
        st = clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: member %s: out of memory inflating", zip->path, name);
    else if (ret == Z_DATA_ERROR)
        st = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: member %s: corrupt deflate data (%s)", zip->path, name,
                         msg ? msg : "inflate failed");
    else if (ret != Z_STREAM_END && out > usize)
        st = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: member %s: inflates to more than its stated %zu bytes",
                         zip->path, name, usize);
    else if (ret != Z_STREAM_END)
        st = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: member %s: deflate data is truncated", zip->path, name);
    else if (out != usize || in != csize)
        st = clcnn_error(ctx, CLCNN_ERR_FORMAT,
                         "%s: member %s: inflates %zu of %zu compressed bytes to %zu bytes, directory says %zu and %zu",
                         zip->path, name, in, csize, out, csize, usize);
    inflateEnd(&zs);
    return st;
}

/* Extracts the member whose central directory entry starts at c. */
static int extract_entry(clcnn_ctx *ctx, const clcnn_zip *zip, const char *name, const unsigned char *c,
                         size_t max_bytes, unsigned char **data, size_t *len)
{
    const unsigned char *b = zip->bytes;
    unsigned flags = get_le16(c + 8), method = get_le16(c + 10);
    uint32_t crc = get_le32(c + 16), csize = get_le32(c + 20), usize = get_le32(c + 24), local = get_le32(c + 42);
    size_t name_len = strlen(name);
    if (csize == 0xFFFFFFFFu || usize == 0xFFFFFFFFu || local == 0xFFFFFFFFu)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: member %s: ZIP64 entries are not supported", zip->path, name);
    if (flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION))
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: member %s is encrypted", zip->path, name);
    if (method != METHOD_STORED && method != METHOD_DEFLATE)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT,
                           "%s: member %s uses compression method %u (only stored and deflate are supported)",
                           zip->path, name, method);
    if (usize > max_bytes)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: member %s: %lu bytes is larger than the %zu allowed",
                           zip->path, name, (unsigned long)usize, max_bytes);
    if (method == METHOD_STORED ? csize != usize : (uint64_t)usize > (uint64_t)csize * DEFLATE_MAX_RATIO + 64)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: member %s: sizes %lu compressed, %lu uncompressed are "
                           "impossible for method %u", zip->path, name, (unsigned long)csize, (unsigned long)usize,
                           method);
    /* The local header, its name and extra field, and the data must all lie
     * before the central directory. */
    size_t limit = zip->cd_offset;
    if (local > limit || limit - local < LOCAL_LEN || get_le32(b + local) != LOCAL_SIG)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: member %s: no local header at offset %lu", zip->path, name,
                           (unsigned long)local);
    const unsigned char *l = b + local;
    size_t data_off = (size_t)local + LOCAL_LEN + get_le16(l + 26) + get_le16(l + 28);
    if (data_off > limit || csize > limit - data_off)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: member %s: %lu bytes of data at offset %zu run past the %zu "
                           "bytes of member data", zip->path, name, (unsigned long)csize, data_off, limit);
    if (get_le16(l + 26) != name_len || memcmp(l + LOCAL_LEN, name, name_len) != 0)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: member %s: local header names a different file", zip->path,
                           name);
    if (get_le16(l + 8) != method)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: member %s: local header says method %u, directory says %u",
                           zip->path, name, get_le16(l + 8), method);
    /* Without a data descriptor the local copies must agree (0xFFFFFFFF
     * sizes defer to a ZIP64 extra field, as numpy's savez writes). */
    if (!(get_le16(l + 6) & FLAG_DATA_DESCRIPTOR)) {
        uint32_t lc = get_le32(l + 18), lu = get_le32(l + 22);
        if (get_le32(l + 14) != crc || (lc != 0xFFFFFFFFu && lc != csize) || (lu != 0xFFFFFFFFu && lu != usize))
            return clcnn_error(ctx, CLCNN_ERR_FORMAT,
                               "%s: member %s: local header disagrees with the central directory (CRC or sizes)",
                               zip->path, name);
    }
    unsigned char *out = clcnn_mem_alloc(clcnn_ctx_allocator(ctx), usize);
    if (!out)
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: member %s: out of memory for %lu bytes", zip->path, name,
                           (unsigned long)usize);
    int st = CLCNN_OK;
    if (method == METHOD_STORED)
        memcpy(out, b + data_off, usize);
    else
        st = inflate_member(ctx, zip, name, b + data_off, csize, out, usize);
    if (!st) {
        uint32_t got = clcnn_crc32(0, out, usize);
        if (got != crc)
            st = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: member %s: CRC-32 is %08lx, directory says %08lx", zip->path,
                             name, (unsigned long)got, (unsigned long)crc);
    }
    if (st) {
        clcnn_mem_free(clcnn_ctx_allocator(ctx), out, usize);
        return st;
    }
    *data = out;
    *len = usize;
    return CLCNN_OK;
}

int clcnn_zip_extract(clcnn_ctx *ctx, const clcnn_zip *zip, const char *name, size_t max_bytes, unsigned char **data,
                      size_t *len, int *found)
{
    *found = 0;
    *data = NULL;
    *len = 0;
    size_t name_len = strlen(name), pos = zip->cd_offset, end = zip->cd_offset + zip->cd_size;
    for (size_t i = 0; i < zip->entries; i++) {
        const unsigned char *c = zip->bytes + pos;
        if (end - pos < CDIR_LEN || get_le32(c) != CDIR_SIG)
            return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: central directory entry %zu is malformed", zip->path, i);
        size_t n = get_le16(c + 28), rec = CDIR_LEN + n + get_le16(c + 30) + get_le16(c + 32);
        if (rec > end - pos)
            return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: central directory entry %zu runs past the directory",
                               zip->path, i);
        if (n == name_len && memcmp(c + CDIR_LEN, name, n) == 0) {
            *found = 1;
            return extract_entry(ctx, zip, name, c, max_bytes, data, len);
        }
        pos += rec;
    }
    return CLCNN_OK;
}
