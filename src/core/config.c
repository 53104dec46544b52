/* Context settings: options first, then the environment, then defaults.
 * The only place in the library that reads the environment. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The value of environment variable name, or NULL when it is unset, empty
 * or the options say not to look. */
static const char *env(const clcnn_ctx_options *o, const char *name)
{
    if (o->ignore_environment)
        return NULL;
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* Copies src into dst (len bytes); an error naming what when it is too long. */
static int copy_string(clcnn_ctx *ctx, char *dst, size_t len, const char *src, const char *what)
{
    size_t n = strlen(src);
    if (n >= len)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: %zu characters, at most %zu are supported", what, n,
                           len - 1);
    memcpy(dst, src, n + 1);
    return CLCNN_OK;
}

/* A path choice by name ("auto", "direct", "gemm"). */
static int path_from_name(clcnn_ctx *ctx, const char *name, const char *what, clcnn_path *out)
{
    static const struct {
        const char *name;
        clcnn_path path;
    } names[] = {{"auto", CLCNN_PATH_AUTO}, {"direct", CLCNN_PATH_DIRECT}, {"gemm", CLCNN_PATH_GEMM}};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcmp(name, names[i].name) == 0) {
            *out = names[i].path;
            return CLCNN_OK;
        }
    return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s=\"%s\": expected auto, direct or gemm", what, name);
}

/* One path choice: the option, else the variable, else auto. */
static int resolve_path(clcnn_ctx *ctx, clcnn_path set, const char *field, const char *var_value,
                        const char *var, clcnn_path *out)
{
    if (set != CLCNN_PATH_DEFAULT) {
        if (set != CLCNN_PATH_AUTO && set != CLCNN_PATH_DIRECT && set != CLCNN_PATH_GEMM)
            return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_ctx_options.%s: %d is no clcnn_path", field,
                               (int)set);
        *out = set;
        return CLCNN_OK;
    }
    *out = CLCNN_PATH_AUTO;
    return var_value ? path_from_name(ctx, var_value, var, out) : CLCNN_OK;
}

/* A whole decimal number in [lo, hi] from variable var. */
static int parse_count(clcnn_ctx *ctx, const char *var, const char *v, unsigned long long lo,
                       unsigned long long hi, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (*v == '-' || *v == '+' || end == v || *end != '\0' || errno == ERANGE || n < lo || n > hi)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s=\"%s\": expected a whole number from %llu to %llu", var, v,
                           lo, hi);
    *out = n;
    return CLCNN_OK;
}

static int resolve_threads(clcnn_ctx *ctx, const clcnn_ctx_options *o, clcnn_config *cfg)
{
    if (o->threads < 0 || o->threads > CLCNN_CONFIG_MAX_THREADS)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_ctx_options.threads: %d, expected 0 (default) to %d",
                           o->threads, CLCNN_CONFIG_MAX_THREADS);
    cfg->threads = o->threads;
    const char *v = env(o, "CLCNN_THREADS");
    if (cfg->threads || !v)
        return CLCNN_OK;
    unsigned long long n = 0;
    int st = parse_count(ctx, "CLCNN_THREADS", v, 1, CLCNN_CONFIG_MAX_THREADS, &n);
    cfg->threads = (int)n;
    return st;
}

/* An on/off field: 1 on, -1 off, 0: the variable ("0" off, "1" on), else on. */
static int resolve_switch(clcnn_ctx *ctx, const clcnn_ctx_options *o, int set, const char *field, const char *var,
                          int *out)
{
    if (set != 0 && set != 1 && set != -1)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_ctx_options.%s = %d: expected 1 (on), -1 (off) or 0", field,
                           set);
    const char *v = env(o, var);
    if (!set && v) {
        if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
            return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s=\"%s\": expected 0 (off) or 1 (on)", var, v);
        set = strcmp(v, "1") == 0 ? 1 : -1;
    }
    *out = set >= 0;
    return CLCNN_OK;
}

/* The cache directory: the option, $CLCNN_CACHE_DIR, $XDG_CACHE_HOME/clcnn
 * or $HOME/.cache/clcnn (the last two are platform conventions, read even
 * with ignore_environment); "" when the cache is off. */
static int resolve_cache(clcnn_ctx *ctx, const clcnn_ctx_options *o, clcnn_config *cfg)
{
    int on = 0;
    int st = resolve_switch(ctx, o, o->cache, "cache", "CLCNN_CACHE", &on);
    if (st)
        return st;
    cfg->cache_dir[0] = '\0';
    if (!on)
        return CLCNN_OK;
    if (o->cache_dir && *o->cache_dir)
        return copy_string(ctx, cfg->cache_dir, sizeof cfg->cache_dir, o->cache_dir, "clcnn_ctx_options.cache_dir");
    const char *v = env(o, "CLCNN_CACHE_DIR");
    if (v)
        return copy_string(ctx, cfg->cache_dir, sizeof cfg->cache_dir, v, "CLCNN_CACHE_DIR");
    const char *base = getenv("XDG_CACHE_HOME"), *sub = "clcnn";
    if (!base || !*base) {
        base = getenv("HOME");
        sub = ".cache/clcnn";
    }
    if (!base || !*base)
        return CLCNN_OK; /* nowhere to put it: no cache, as documented */
    int n = snprintf(cfg->cache_dir, sizeof cfg->cache_dir, "%s/%s", base, sub);
    if (n < 0 || (size_t)n >= sizeof cfg->cache_dir)
        cfg->cache_dir[0] = '\0'; /* a default location too long to use: no cache */
    return CLCNN_OK;
}

/* A string field: the option, else the variable, else "". */
static int resolve_string(clcnn_ctx *ctx, const clcnn_ctx_options *o, char *dst, size_t len, const char *set,
                          const char *field, const char *var)
{
    dst[0] = '\0';
    if (set && *set)
        return copy_string(ctx, dst, len, set, field);
    const char *v = env(o, var);
    return v ? copy_string(ctx, dst, len, v, var) : CLCNN_OK;
}

/* A size field: the option when set (non-zero), else the variable (a whole
 * number >= 1), else fallback. */
static int resolve_size(clcnn_ctx *ctx, const clcnn_ctx_options *o, size_t set, const char *var, size_t fallback,
                        size_t *out)
{
    *out = set ? set : fallback;
    const char *v = env(o, var);
    if (set || !v)
        return CLCNN_OK;
    unsigned long long n = 0;
    int st = parse_count(ctx, var, v, 1, SIZE_MAX, &n);
    if (!st)
        *out = (size_t)n;
    return st;
}

int clcnn_config_resolve(clcnn_ctx *ctx, const clcnn_ctx_options *o, clcnn_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    /* "auto" is the default device, so the environment may replace it. */
    const char *device = o->device && strcmp(o->device, "auto") != 0 ? o->device : NULL;
    int st = resolve_string(ctx, o, cfg->device, sizeof cfg->device, device, "clcnn_ctx_options.device",
                            "CLCNN_DEVICE");
    if (!st)
        st = resolve_threads(ctx, o, cfg);
    if (!st)
        st = resolve_string(ctx, o, cfg->kernel_dir, sizeof cfg->kernel_dir, o->kernel_dir,
                            "clcnn_ctx_options.kernel_dir", "CLCNN_KERNEL_DIR");
    if (!st)
        st = resolve_string(ctx, o, cfg->build_options, sizeof cfg->build_options, o->build_options,
                            "clcnn_ctx_options.build_options", "CLCNN_BUILD_OPTIONS");
    if (!st)
        st = resolve_cache(ctx, o, cfg);
    /* CLCNN_OCL_DIRECT_CONV=1 is the older spelling of CLCNN_OCL_CONV=direct. */
    const char *conv = env(o, "CLCNN_OCL_CONV"), *conv_var = "CLCNN_OCL_CONV";
    const char *old = env(o, "CLCNN_OCL_DIRECT_CONV");
    if (!st && old && strcmp(old, "0") != 0 && strcmp(old, "1") != 0)
        st = clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "CLCNN_OCL_DIRECT_CONV=\"%s\": expected 0 or 1", old);
    if (!conv && old && strcmp(old, "1") == 0) {
        conv = "direct";
        conv_var = "CLCNN_OCL_DIRECT_CONV";
    }
    if (!st)
        st = resolve_path(ctx, o->conv_path, "conv_path", conv, conv_var, &cfg->conv_path);
    if (!st)
        st = resolve_path(ctx, o->dense_path, "dense_path", env(o, "CLCNN_OCL_DENSE"), "CLCNN_OCL_DENSE",
                          &cfg->dense_path);
    if (!st)
        st = resolve_size(ctx, o, o->col_limit, "CLCNN_OCL_COL_LIMIT", CLCNN_CONFIG_COL_LIMIT, &cfg->col_limit);
    if (!st)
        st = resolve_size(ctx, o, o->max_work_group, "CLCNN_OCL_MAX_WORK_GROUP", 0, &cfg->max_work_group);
    if (!st)
        st = resolve_size(ctx, o, o->max_local_mem, "CLCNN_OCL_MAX_LOCAL_MEM", 0, &cfg->max_local_mem);
    if (!st)
        st = resolve_size(ctx, o, o->max_alloc, "CLCNN_OCL_MAX_ALLOC", 0, &cfg->max_alloc);
    if (!st)
        st = resolve_switch(ctx, o, o->tuned, "tuned", "CLCNN_TUNED", &cfg->tuned);
    return st;
}
