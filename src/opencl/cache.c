/* The on-disk cache of program binaries (see cache.h for the format). */
#include "opencl/cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "opencl/ocl.h"

#define MAGIC "CLCNNBIN"
#define HEADER_LEN 32u
#define MAX_KEY_LEN 65536u
#define MAX_BINARY_LEN (1024u * 1024u * 1024u)

static uint32_t crc32_update(uint32_t crc, const unsigned char *p, size_t n)
{
    /* Built per call (2 K steps): cheap next to the I/O, and no shared state. */
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1u) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    crc = ~crc;
    while (n--)
        crc = table[(crc ^ *p++) & 0xffu] ^ (crc >> 8);
    return ~crc;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* mkdir -p; 1 when path is a directory afterwards. */
static int make_dirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return 0;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char saved = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return 0;
            buf[i] = saved;
        }
    }
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int ocl_cache_dir(const clcnn_config *cfg)
{
    return cfg->cache_dir[0] && make_dirs(cfg->cache_dir);
}

void ocl_cache_path(const char *dir, const char *key, char *buf, size_t len)
{
    unsigned long long h = ocl_fnv1a(OCL_FNV_SEED, key, strlen(key));
    snprintf(buf, len, "%s/%016llx.bin", dir, h);
}

/* Reads a whole file (at most limit bytes) into a block of *len bytes
 * from a. */
static unsigned char *read_file(const clcnn_allocator *a, const char *path, size_t limit, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *data = NULL;
    size_t size = 0;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > limit)
        goto fail;
    size = (size_t)st.st_size;
    data = clcnn_mem_alloc(a, size);
    if (!data || fread(data, 1, size, f) != size)
        goto fail;
    fclose(f);
    *len = size;
    return data;
fail:
    clcnn_mem_free(a, data, size);
    fclose(f);
    return NULL;
}

/* Checks the header and the checksums of a whole entry in memory; on
 * success sets the key and binary views into data. */
static int parse_entry(const unsigned char *data, size_t len, const unsigned char **key, size_t *key_len,
                       const unsigned char **binary, size_t *binary_len)
{
    if (len < HEADER_LEN || memcmp(data, MAGIC, 8) != 0)
        return 0;
    if (get_u32(data + 8) != OCL_CACHE_FORMAT_VERSION)
        return 0;
    if (crc32_update(0, data, 28) != get_u32(data + 28))
        return 0;
    uint64_t klen = get_u32(data + 12), blen = get_u64(data + 16);
    if (klen > MAX_KEY_LEN || blen > MAX_BINARY_LEN || blen == 0 || len != HEADER_LEN + klen + blen)
        return 0;
    const unsigned char *b = data + HEADER_LEN + klen;
    if (crc32_update(0, b, (size_t)blen) != get_u32(data + 24))
        return 0;
    *key = data + HEADER_LEN;
    *key_len = (size_t)klen;
    *binary = b;
    *binary_len = (size_t)blen;
    return 1;
}

int ocl_cache_load(const clcnn_allocator *a, const char *path, const char *key, unsigned char **binary,
                   size_t *binary_len, size_t *block_len)
{
    size_t len = 0;
    unsigned char *data = read_file(a, path, HEADER_LEN + MAX_KEY_LEN + MAX_BINARY_LEN, &len);
    if (!data)
        return 0;
    const unsigned char *k, *b;
    size_t klen, blen;
    int ok = parse_entry(data, len, &k, &klen, &b, &blen) && klen == strlen(key) && memcmp(k, key, klen) == 0;
    if (ok) {
        /* Hand the binary back in place: move it to the front of the buffer. */
        memmove(data, b, blen);
        *binary = data;
        *binary_len = blen;
        *block_len = len;
        return 1;
    }
    clcnn_mem_free(a, data, len);
    return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        p += n;
        len -= (size_t)n;
    }
    return 1;
}

int ocl_cache_store(const char *path, const char *key, const unsigned char *binary, size_t binary_len)
{
    size_t klen = strlen(key);
    if (klen > MAX_KEY_LEN || binary_len == 0 || binary_len > MAX_BINARY_LEN)
        return 0;
    unsigned char header[HEADER_LEN];
    memcpy(header, MAGIC, 8);
    put_u32(header + 8, OCL_CACHE_FORMAT_VERSION);
    put_u32(header + 12, (uint32_t)klen);
    put_u64(header + 16, (uint64_t)binary_len);
    put_u32(header + 24, crc32_update(0, binary, binary_len));
    put_u32(header + 28, crc32_update(0, header, 28));

    char tmp[4200];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return 0;
    int fd = mkstemp(tmp);
    if (fd < 0)
        return 0;
    int ok = write_all(fd, header, sizeof header) && write_all(fd, key, klen) &&
             write_all(fd, binary, binary_len) && fsync(fd) == 0;
    if (close(fd) != 0)
        ok = 0;
    if (ok && rename(tmp, path) != 0)
        ok = 0;
    if (!ok)
        unlink(tmp);
    return ok;
}
