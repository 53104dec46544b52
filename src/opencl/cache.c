/* The on-disk cache of program binaries (see cache.h for the format). */
#include "opencl/cache.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "bytes.h"
#include "io.h"
#include "opencl/ocl.h"

#define MAGIC "CLCNNBIN"
#define HEADER_LEN 32u
#define MAX_KEY_LEN 65536u
#define MAX_BINARY_LEN (1024u * 1024u * 1024u)
#define MAX_ENTRY_LEN ((size_t)HEADER_LEN + MAX_KEY_LEN + MAX_BINARY_LEN)

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

/* Checks the header and the checksums of a whole entry in memory; on
 * success sets the key and binary views into data. */
static int parse_entry(const unsigned char *data, size_t len, const unsigned char **key, size_t *key_len,
                       const unsigned char **binary, size_t *binary_len)
{
    if (len < HEADER_LEN || memcmp(data, MAGIC, 8) != 0)
        return 0;
    if (get_le32(data + 8) != OCL_CACHE_FORMAT_VERSION)
        return 0;
    if (clcnn_crc32(0, data, 28) != get_le32(data + 28))
        return 0;
    uint64_t klen = get_le32(data + 12), blen = get_le64(data + 16);
    if (klen > MAX_KEY_LEN || blen > MAX_BINARY_LEN || blen == 0 || len != HEADER_LEN + klen + blen)
        return 0;
    const unsigned char *b = data + HEADER_LEN + klen;
    if (clcnn_crc32(0, b, (size_t)blen) != get_le32(data + 24))
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
    unsigned char *data;
    size_t len;
    if (clcnn_read_file_quiet(a, path, MAX_ENTRY_LEN, &data, &len))
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

/* An entry's three parts, written in order. */
typedef struct entry_parts {
    const unsigned char *header;
    const char *key;
    size_t key_len;
    const unsigned char *binary;
    size_t binary_len;
} entry_parts;

static int write_entry(int fd, void *user)
{
    const entry_parts *e = user;
    if (clcnn_write_all(fd, e->header, HEADER_LEN) || clcnn_write_all(fd, e->key, e->key_len))
        return -1;
    return clcnn_write_all(fd, e->binary, e->binary_len);
}

int ocl_cache_store(const char *path, const char *key, const unsigned char *binary, size_t binary_len)
{
    size_t klen = strlen(key);
    if (klen > MAX_KEY_LEN || binary_len == 0 || binary_len > MAX_BINARY_LEN)
        return 0;
    unsigned char header[HEADER_LEN];
    memcpy(header, MAGIC, 8);
    put_le32(header + 8, OCL_CACHE_FORMAT_VERSION);
    put_le32(header + 12, (uint32_t)klen);
    put_le64(header + 16, (uint64_t)binary_len);
    put_le32(header + 24, clcnn_crc32(0, binary, binary_len));
    put_le32(header + 28, clcnn_crc32(0, header, 28));
    entry_parts e = {header, key, klen, binary, binary_len};
    return clcnn_write_atomic(NULL, path, write_entry, &e) == CLCNN_OK;
}
