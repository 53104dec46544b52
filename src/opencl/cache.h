/*
 * The on-disk cache of OpenCL program binaries.
 *
 * Directory: the context's setting (clcnn_ctx_options.cache_dir and
 * .cache, resolved in src/core/config.c).  One file per program,
 * named after a hash of its key; the key (format version, platform, device,
 * driver version and library: ocl_device_key; source hash, build options)
 * is also stored in the entry and compared on load, so a binary is only
 * ever handed back to the driver that wrote it.  Layout of an entry (integers little-endian):
 *
 *   "CLCNNBIN" | u32 format version | u32 key length | u64 binary length |
 *   u32 CRC-32 of the binary | u32 CRC-32 of the previous 28 bytes |
 *   key bytes | binary bytes
 *
 * Entries are written to a temporary file in the same directory, synced and
 * renamed over the old one, so a reader sees a whole entry or none.  Every
 * failure here is silent: the caller just builds from source.
 */
#ifndef CLCNN_OCL_CACHE_H
#define CLCNN_OCL_CACHE_H

#include <stddef.h>

#define OCL_CACHE_FORMAT_VERSION 1u

/* 1 when the cache of cfg is on and its directory exists (created if
 * missing); 0 when the cache is off or the directory cannot be used. */
struct clcnn_config;
int ocl_cache_dir(const struct clcnn_config *cfg);

/* The entry path for key in dir (dir/<hash of key>.bin). */
void ocl_cache_path(const char *dir, const char *key, char *buf, size_t len);

/* Loads the binary of the entry at path when it is whole and holds exactly
 * key: *binary_len bytes at the start of *binary, a block of *block_len
 * bytes from a that the caller frees (clcnn_mem_free).  Returns 1 on
 * success, else 0 (also when a has no memory). */
struct clcnn_allocator;
int ocl_cache_load(const struct clcnn_allocator *a, const char *path, const char *key, unsigned char **binary,
                   size_t *binary_len, size_t *block_len);

/* Writes an entry atomically; returns 1 on success, else 0. */
int ocl_cache_store(const char *path, const char *key, const unsigned char *binary, size_t binary_len);

#endif
