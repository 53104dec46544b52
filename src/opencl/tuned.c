/*
 * The kernel tunables clcnn_tune chose for a device, stored in the program
 * cache beside the binaries and read back when a context builds its
 * programs (launch.c).
 *
 * An entry is a cache entry (cache.h) whose key names the device as a
 * binary's does (platform, device, driver, its library) and the embedded kernel
 * sources (any change to them makes the stored choice stale, as it does a
 * binary), and whose payload is text:
 *
 *   clcnn tuned v1
 *   CONV_PB=8 CONV_CB=8 CONV_DW_WG=64 DENSE_RB=4 COLSUM_WG=64 XENT_WG=64
 *   <a line saying what it was tuned for and the images/s measured>
 *
 * A payload that does not parse, or names a value a tunable cannot take,
 * is ignored as a corrupt binary is: the defaults serve.
 */
#include "opencl/ocl_backend.h" /* first: it picks the OpenCL API version */

#include <stdio.h>
#include <string.h>

#include "opencl/cache.h"
#include "opencl/sources.h"

#define TUNED_MAGIC "clcnn tuned v1\n"
#define TUNED_MAX_TEXT 4096

/* The cache path of b's entry; 0 when there is no cache or the kernels are
 * read from a directory (whose sources may change at any time). */
static int tuned_path(const ocl_backend *b, char *key, size_t key_len, char *path, size_t path_len)
{
    const clcnn_config *c = &b->ctx->config;
    if (c->kernel_dir[0] || !ocl_cache_dir(c))
        return 0;
    unsigned long long h = OCL_FNV_SEED;
    for (size_t i = 0; i < clcnn_ocl_source_count; i++) {
        h = ocl_fnv1a(h, clcnn_ocl_sources[i].name, strlen(clcnn_ocl_sources[i].name) + 1);
        h = ocl_fnv1a(h, clcnn_ocl_sources[i].text, clcnn_ocl_sources[i].length);
    }
    char dev[OCL_DEVICE_KEY_LEN];
    ocl_device_key(&b->dev, dev);
    int n = snprintf(key, key_len, "clcnn tuned v1\n%ssources=%016llx\n", dev, h);
    if (n < 0 || (size_t)n >= key_len)
        return 0;
    ocl_cache_path(c->cache_dir, key, path, path_len);
    return 1;
}

/* The tunable named name (len bytes) of any family: 1 with *f, *t set. */
static int find_tunable(const char *name, size_t len, int *f, int *t)
{
    for (*f = 0; *f < OCL_FAMILY_COUNT; (*f)++)
        for (*t = 0; *t < ocl_families[*f]->tunable_count; (*t)++) {
            const char *n = ocl_families[*f]->tunables[*t].name;
            if (strlen(n) == len && memcmp(n, name, len) == 0)
                return 1;
        }
    return 0;
}

/* Parses "NAME=V NAME=V ...\n" (the second line) into values; 0 on any
 * name or value a tunable cannot take. */
static int parse_values(const char *s, size_t values[OCL_FAMILY_COUNT][OCL_MAX_TUNABLES])
{
    memset(values, 0, sizeof(size_t) * OCL_FAMILY_COUNT * OCL_MAX_TUNABLES);
    while (*s && *s != '\n') {
        while (*s == ' ')
            s++;
        const char *name = s;
        while (*s && *s != '=' && *s != ' ' && *s != '\n')
            s++;
        int f, t;
        if (*s != '=' || !find_tunable(name, (size_t)(s - name), &f, &t))
            return 0;
        size_t v = 0;
        int digits = 0;
        for (s++; *s >= '0' && *s <= '9' && v <= OCL_TUNABLE_MAX; s++, digits++)
            v = v * 10 + (size_t)(*s - '0');
        const ocl_tunable *tun = &ocl_families[f]->tunables[t];
        if (!digits || v < 1 || v > OCL_TUNABLE_MAX || tun->fixed ||
            (tun->wg_of != OCL_NO_KERNEL && (v & (v - 1)) != 0) || (*s && *s != ' ' && *s != '\n'))
            return 0;
        values[f][t] = v;
    }
    return 1;
}

int ocl_tuned_read(ocl_backend *b, size_t values[OCL_FAMILY_COUNT][OCL_MAX_TUNABLES])
{
    char key[OCL_DEVICE_KEY_LEN + 64], path[CLCNN_CONFIG_PATH_LEN + 64];
    memset(values, 0, sizeof(size_t) * OCL_FAMILY_COUNT * OCL_MAX_TUNABLES);
    if (!b->ctx->config.tuned || !tuned_path(b, key, sizeof key, path, sizeof path))
        return 0;
    unsigned char *text = NULL;
    size_t len = 0, block = 0;
    if (!ocl_cache_load(&b->ctx->allocator, path, key, &text, &len, &block))
        return 0;
    char copy[TUNED_MAX_TEXT];
    int ok = len < sizeof copy;
    if (ok) {
        memcpy(copy, text, len);
        copy[len] = '\0';
        ok = strncmp(copy, TUNED_MAGIC, strlen(TUNED_MAGIC)) == 0 && parse_values(copy + strlen(TUNED_MAGIC), values);
    }
    clcnn_mem_free(&b->ctx->allocator, text, block);
    if (!ok)
        memset(values, 0, sizeof(size_t) * OCL_FAMILY_COUNT * OCL_MAX_TUNABLES);
    return ok;
}

int ocl_tuned_format(const size_t values[OCL_FAMILY_COUNT][OCL_MAX_TUNABLES], const char *prefix, char *buf,
                     size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int f = 0; f < OCL_FAMILY_COUNT; f++)
        for (int t = 0; t < ocl_families[f]->tunable_count; t++) {
            if (ocl_families[f]->tunables[t].fixed)
                continue;
            int w = snprintf(buf + n, len - n, "%s%s%s=%zu", n ? " " : "", prefix, ocl_families[f]->tunables[t].name,
                             values[f][t]);
            if (w < 0 || (size_t)w >= len - n)
                return -1;
            n += (size_t)w;
        }
    return 0;
}

int ocl_tuned_write(ocl_backend *b, const size_t values[OCL_FAMILY_COUNT][OCL_MAX_TUNABLES], const char *note)
{
    char key[OCL_DEVICE_KEY_LEN + 64], path[CLCNN_CONFIG_PATH_LEN + 64], line[1024], text[TUNED_MAX_TEXT];
    if (!tuned_path(b, key, sizeof key, path, sizeof path))
        return clcnn_error(b->ctx, CLCNN_ERR_IO,
                           "clcnn_tune: nowhere to store the result: %s", b->ctx->config.kernel_dir[0]
                               ? "the kernels are read from a directory (kernel_dir), whose sources may change"
                               : "the program cache is off or its directory cannot be used");
    if (ocl_tuned_format(values, "", line, sizeof line) < 0)
        return clcnn_error(b->ctx, CLCNN_ERR_IO, "clcnn_tune: the tuned values do not fit a line");
    int n = snprintf(text, sizeof text, "%s%s\n%s\n", TUNED_MAGIC, line, note);
    if (n < 0 || (size_t)n >= sizeof text)
        return clcnn_error(b->ctx, CLCNN_ERR_IO, "clcnn_tune: the note is too long");
    if (!ocl_cache_store(path, key, (const unsigned char *)text, (size_t)n))
        return clcnn_error(b->ctx, CLCNN_ERR_IO, "clcnn_tune: cannot write %s", path);
    return CLCNN_OK;
}
