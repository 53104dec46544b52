/*
 * The OpenCL backend itself: device discovery and the CPU fallback, kernel
 * build errors, the program binary cache, shared contexts.  Its ops are
 * checked against the naive reference by test_backend_ops.c.
 *
 * OpenCL implementations do not survive fork() once initialised (PoCL's
 * worker threads stay in the parent), so main() probes for a device in a
 * throw-away child and never touches OpenCL itself; each test then runs in
 * its own Check fork.  The no-ICD test re-executes this program, because the
 * ICD loader reads OCL_ICD_VENDORS only once per process.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <check.h>
#include <math.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include "clcnn.h"
#include "clcnn_opencl.h"
#include "internal.h"
#include "opencl/cache.h"
#include "opencl/ocl_backend.h"
#include "testutil.h"

#ifndef CLCNN_TEST_CL_DIR
#error "CLCNN_TEST_CL_DIR (the source cl/ directory) must be defined by the build"
#endif

#define NO_ICD_CHILD_FLAG "--no-icd-child"

static char self_path[4096];

/* ----------------------------------------------------------------- helpers */

typedef struct notices {
    int count;
    char last[1024];
} notices;

static void count_notice(void *user, const char *msg)
{
    notices *n = user;
    n->count++;
    snprintf(n->last, sizeof n->last, "%s", msg);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_tree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh temporary directory (the caller removes it with rm_tree). */
static void make_temp_dir(char *buf, size_t len, const char *what)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(buf, len, "%s/clcnn-test-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", what);
    ck_assert_msg(mkdtemp(buf) != NULL, "mkdtemp(%s): %s", buf, strerror(errno));
}

/* The settings every test's contexts get (the cache directory of env_reset;
 * tests change fields of it instead of the environment). */
static clcnn_ctx_options g_opts;

/* The environment every test starts from: no overrides (whatever meson
 * set), the suite's settings with a given cache dir (NULL: the default). */
static void env_reset(const char *cache_dir)
{
    unsetenv("CLCNN_DEVICE");
    unsetenv("CLCNN_KERNEL_DIR");
    unsetenv("CLCNN_CACHE");
    unsetenv("CLCNN_CACHE_DIR");
    unsetenv("CLCNN_OCL_COL_LIMIT");
    unsetenv("CLCNN_OCL_DIRECT_CONV");
    unsetenv("CLCNN_OCL_CONV");
    unsetenv("CLCNN_OCL_DENSE");
    unsetenv("CLCNN_BUILD_OPTIONS");
    g_opts = (clcnn_ctx_options){.cache_dir = cache_dir};
}

/* A context on device with settings o and a log hook; the status. */
static int create_with(clcnn_ctx **ctx, const char *device, const clcnn_ctx_options *o, clcnn_log_fn log,
                       void *user)
{
    clcnn_ctx_options with = *o;
    with.device = device;
    with.log = log;
    with.log_user = user;
    *ctx = NULL;
    return clcnn_ctx_create_with_options(ctx, &with);
}

/* A context with the suite's settings and a log hook. */
static int create_logged(clcnn_ctx **ctx, const char *device, clcnn_log_fn log, void *user)
{
    return create_with(ctx, device, &g_opts, log, user);
}

static clcnn_ctx *open_ctx_with(const char *device, const clcnn_ctx_options *o)
{
    clcnn_ctx *ctx = NULL;
    int st = create_with(&ctx, device, o, NULL, NULL);
    ck_assert_msg(st == CLCNN_OK, "context %s: %s (%s)", device, clcnn_status_str(st), ctx ? clcnn_errmsg(ctx) : "");
    return ctx;
}

static clcnn_ctx *open_ctx(const char *device)
{
    return open_ctx_with(device, &g_opts);
}

/* Names of the *.bin entries of dir, sorted; returns how many (<= max). */
static int list_entries(const char *dir, char names[][256], int max)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".bin") == 0 && n < max)
            snprintf(names[n++], 256, "%s", e->d_name);
    }
    closedir(d);
    for (int i = 1; i < n; i++) /* insertion sort: a handful of names */
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char t[256];
            memcpy(t, names[j], 256);
            memcpy(names[j], names[j - 1], 256);
            memcpy(names[j - 1], t, 256);
        }
    return n;
}

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc(size > 0 ? (size_t)size : 1);
    ck_assert_ptr_nonnull(data);
    ck_assert_int_eq(fread(data, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *len = (size_t)size;
    return data;
}

/* The key stored in a cache entry (malloc'd), or NULL when the header is
 * too short to hold one (layout: src/opencl/cache.h). */
static char *entry_key(const unsigned char *data, size_t len)
{
    if (len < 32)
        return NULL;
    uint32_t key_len = (uint32_t)data[12] | (uint32_t)data[13] << 8 | (uint32_t)data[14] << 16 |
                       (uint32_t)data[15] << 24;
    if ((size_t)key_len > len - 32)
        return NULL;
    char *key = malloc(key_len + 1);
    ck_assert_ptr_nonnull(key);
    memcpy(key, data + 32, key_len);
    key[key_len] = '\0';
    return key;
}

/* The value of the line "NAME=value" of a cache key into buf: 1, or 0
 * when the key has no such line. */
static int key_line(const char *key, const char *name, char *buf, size_t len)
{
    size_t n = strlen(name);
    for (const char *p = key; *p; p += strcspn(p, "\n"), p += *p == '\n')
        if (strncmp(p, name, n) == 0) {
            snprintf(buf, len, "%.*s", (int)strcspn(p + n, "\n"), p + n);
            return 1;
        }
    return 0;
}

/* 1 when the entry at path is whole and well formed: the library's loader
 * accepts it under the key it holds. */
static int entry_valid(const char *path)
{
    size_t len;
    unsigned char *data = slurp(path, &len);
    char *key = entry_key(data, len);
    free(data);
    if (!key)
        return 0;
    unsigned char *bin = NULL;
    size_t bin_len = 0, block = 0;
    int ok = ocl_cache_load(NULL, path, key, &bin, &bin_len, &block);
    if (ok)
        clcnn_mem_free(NULL, bin, block);
    free(key);
    return ok;
}

static void spill(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "open %s: %s", path, strerror(errno));
    ck_assert_int_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static void copy_file(const char *from, const char *to)
{
    size_t len;
    unsigned char *data = slurp(from, &len);
    spill(to, data, len);
    free(data);
}

/* Copies every kernel source of the source tree's cl/ into dir. */
static void copy_kernels(const char *dir)
{
    DIR *d = opendir(CLCNN_TEST_CL_DIR);
    ck_assert_msg(d != NULL, "opendir %s: %s", CLCNN_TEST_CL_DIR, strerror(errno));
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len > 3 && strcmp(e->d_name + len - 3, ".cl") == 0) {
            char from[8192], to[8192];
            snprintf(from, sizeof from, "%s/%s", CLCNN_TEST_CL_DIR, e->d_name);
            snprintf(to, sizeof to, "%s/%s", dir, e->d_name);
            copy_file(from, to);
            n++;
        }
    }
    closedir(d);
    ck_assert_int_gt(n, 1);
}

/* A small convolution whose result tells whether the device computes. */
static float *conv_probe(clcnn_ctx *ctx, size_t *count)
{
    const size_t xs[4] = {2, 9, 8, 3}, ws[4] = {3, 3, 3, 4}, bs[1] = {4};
    float x[2 * 9 * 8 * 3], w[3 * 3 * 3 * 4], b[4];
    tu_fill_random(x, sizeof x / sizeof *x, 1, -1, 1);
    tu_fill_random(w, sizeof w / sizeof *w, 2, -1, 1);
    tu_fill_random(b, 4, 3, -1, 1);
    clcnn_tensor *tx = tu_tensor(ctx, 4, xs, x), *tw = tu_tensor(ctx, 4, ws, w), *tb = tu_tensor(ctx, 1, bs, b);
    clcnn_tensor *y = NULL;
    int st = clcnn_conv_forward(ctx, tx, tw, tb, CLCNN_ACT_TANH, CLCNN_PAD_SAME, 2, 1, &y);
    ck_assert_msg(st == CLCNN_OK, "conv_forward: %s", clcnn_errmsg(ctx));
    float *out = tu_read(y);
    *count = clcnn_tensor_count(y);
    clcnn_tensor_free(tx);
    clcnn_tensor_free(tw);
    clcnn_tensor_free(tb);
    clcnn_tensor_free(y);
    return out;
}

/* ------------------------------------------------- (a) no ICD, no device */

/* Runs in a re-executed copy of this program with OCL_ICD_VENDORS pointing
 * to an empty directory; returns the exit status (0 = all checks held). */
static int no_icd_child(void)
{
    int bad = 0;
    env_reset(NULL);
    clcnn_ctx *ctx = NULL;
    notices n = {0, ""};
    int st = create_logged(&ctx, "opencl", count_notice, &n);
    if (st != CLCNN_ERR_NO_DEVICE) {
        fprintf(stderr, "\"opencl\" without an ICD: status %d (%s), want CLCNN_ERR_NO_DEVICE\n", st,
                ctx ? clcnn_errmsg(ctx) : "");
        bad = 1;
    } else if (!strstr(clcnn_errmsg(ctx), "platform")) {
        fprintf(stderr, "\"opencl\" without an ICD: unclear message \"%s\"\n", clcnn_errmsg(ctx));
        bad = 1;
    }
    if (n.count != 0) {
        fprintf(stderr, "\"opencl\" sent %d notices, want none\n", n.count);
        bad = 1;
    }
    clcnn_ctx_free(ctx);

    ctx = NULL;
    n.count = 0;
    st = create_logged(&ctx, "auto", count_notice, &n);
    if (st != CLCNN_OK || strcmp(clcnn_ctx_backend(ctx), "cpu") != 0) {
        fprintf(stderr, "\"auto\" without an ICD: status %d, backend %s (%s)\n", st, clcnn_ctx_backend(ctx),
                ctx ? clcnn_errmsg(ctx) : "");
        bad = 1;
    }
    if (n.count != 1) {
        fprintf(stderr, "\"auto\" without an ICD sent %d notices, want exactly 1 (last: %s)\n", n.count, n.last);
        bad = 1;
    }
    clcnn_ctx_free(ctx);

    size_t count = 99;
    st = clcnn_devices_list(NULL, NULL, 0, &count);
    if (st != CLCNN_OK || count != 0) {
        fprintf(stderr, "clcnn_devices_list without an ICD: status %d, count %zu\n", st, count);
        bad = 1;
    }
    return bad;
}

START_TEST(no_icd_falls_back_to_cpu)
{
    int status = tu_rerun_without_opencl(self_path, NO_ICD_CHILD_FLAG);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "the no-ICD child failed (status 0x%x; its stderr says why)", status);
}
END_TEST

/* ------------------------------------------------- (b) kernel build errors */

/* The value the OpenCL context ctx built tunable name with. */
static size_t tunable_of(clcnn_ctx *ctx, const ocl_family *f, const char *name)
{
    const ocl_backend *b = ctx->bctx;
    for (int t = 0; t < f->tunable_count; t++)
        if (strcmp(f->tunables[t].name, name) == 0)
            return b->tunables[f->id][t];
    ck_abort_msg("no tunable %s in %s", name, f->file);
    return 0;
}

START_TEST(build_options_set_the_tunables)
{
    env_reset(NULL);
    /* The host owns the values: defaults, and a -D moves them (and the grid). */
    clcnn_ctx *ctx = open_ctx("opencl");
    ck_assert_uint_eq(tunable_of(ctx, &ocl_family_conv, "CONV_PB"), 4);
    ck_assert_uint_eq(tunable_of(ctx, &ocl_family_dense, "DENSE_RB"), 4);
    clcnn_ctx_free(ctx);
    g_opts.build_options = "-DCONV_PB=8 -D DENSE_RB=2 -DUNRELATED=1 -cl-mad-enable";
    ctx = open_ctx("opencl");
    ck_assert_uint_eq(tunable_of(ctx, &ocl_family_conv, "CONV_PB"), 8);
    ck_assert_uint_eq(tunable_of(ctx, &ocl_family_dense, "DENSE_RB"), 2);
    ck_assert_uint_eq(tunable_of(ctx, &ocl_family_conv, "CONV_CB"), 8);
    clcnn_ctx_free(ctx);
    /* Refused with a message naming the tunable: a fixed one, a value that
     * is not a number, a work-group size that is not a power of two. */
    static const char *const bad[][2] = {
        {"-DCONV_KB=4", "CONV_KB"}, {"-DCONV_PB=abc", "CONV_PB"}, {"-DDENSE_RB", "DENSE_RB"},
        {"-DCOLSUM_WG=48", "COLSUM_WG"}, {"-D XENT_WG=0", "XENT_WG"}, {"-DDENSE_OB=16", "DENSE_OB"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        g_opts.build_options = bad[i][0];
        int st = create_logged(&ctx, "opencl", NULL, NULL);
        ck_assert_msg(st == CLCNN_ERR_ARGUMENT, "%s: status %d (%s)", bad[i][0], st, clcnn_errmsg(ctx));
        ck_assert_msg(strstr(clcnn_errmsg(ctx), bad[i][1]) != NULL, "%s: message \"%s\"", bad[i][0],
                      clcnn_errmsg(ctx));
        clcnn_ctx_free(ctx);
    }
}
END_TEST


/* (c) The limits of a smaller device, forced with the context options: the
 * work-group tunables come down to them, a -D above them is refused, a
 * buffer above the allocation limit is a clear error, and im2col work is
 * chunked within it with unchanged results. */
START_TEST(forced_small_limits_are_obeyed)
{
    env_reset(NULL);
    /* Work-groups of 32 lower every 64-wide tunable to 32; 512 bytes of
     * local memory lower CONV_DW_WG further, to the largest power of two
     * whose kernel uses no more than that, as the driver counts it: its
     * kernel keeps 8 floats per work-item (16 on PoCL and Intel), but
     * Mesa 22.3's rusticl reports twice its arrays' size for
     * CL_KERNEL_LOCAL_MEM_SIZE (8 there). */
    g_opts.max_work_group = 32;
    g_opts.max_local_mem = 512;
    clcnn_ctx *ctx = open_ctx("opencl");
    ck_assert_uint_eq(tunable_of(ctx, &ocl_family_dense, "COLSUM_WG"), 32);
    ck_assert_uint_eq(tunable_of(ctx, &ocl_family_loss, "XENT_WG"), 32);
    const ocl_backend *b = ctx->bctx;
    const size_t dw_wg = tunable_of(ctx, &ocl_family_conv, "CONV_DW_WG");
    int k_dw = -1;
    for (int k = 0; k < ocl_family_conv.kernel_count; k++)
        if (strcmp(ocl_family_conv.kernels[k], "conv_backward") == 0)
            k_dw = k;
    ck_assert_int_ge(k_dw, 0);
    cl_ulong dw_local = 0;
    ck_assert_int_eq(clGetKernelWorkGroupInfo(b->kernels[ocl_family_conv.id][k_dw].kernel, b->dev.device,
                                              CL_KERNEL_LOCAL_MEM_SIZE, sizeof dw_local, &dw_local, NULL),
                     CL_SUCCESS);
    const size_t per_item = (size_t)dw_local / dw_wg; /* bytes per work-item, as the driver counts */
    ck_assert_uint_ge(per_item, 8 * sizeof(float));
    size_t want = 32;
    while (want > 1 && want * per_item > 512)
        want /= 2;
    ck_assert_msg(dw_wg == want, "CONV_DW_WG %zu, %zu bytes of local memory per work-item: want %zu", dw_wg, per_item,
                  want);
    for (int f = 0; f < OCL_FAMILY_COUNT; f++)
        for (int k = 0; k < ocl_families[f]->kernel_count; k++)
            ck_assert_msg(b->kernels[f][k].local <= 32, "kernel %s: work-groups of %zu",
                          ocl_families[f]->kernels[k], b->kernels[f][k].local);
    clcnn_ctx_free(ctx);

    g_opts.build_options = "-DXENT_WG=64";
    ctx = NULL;
    int st = create_logged(&ctx, "opencl", NULL, NULL);
    ck_assert_msg(st == CLCNN_ERR_ARGUMENT && strstr(clcnn_errmsg(ctx), "XENT_WG"), "-DXENT_WG=64 over 32: %d (%s)",
                  st, clcnn_errmsg(ctx));
    clcnn_ctx_free(ctx);

    /* One MiB per buffer: a 2 MiB tensor is refused, saying why. */
    env_reset(NULL);
    g_opts.max_alloc = (size_t)1 << 20;
    g_opts.conv_path = CLCNN_PATH_GEMM;
    ctx = open_ctx("opencl");
    clcnn_tensor *big = NULL;
    st = clcnn_tensor_create(ctx, &big, 1, (size_t[]){(size_t)1 << 19});
    ck_assert_msg(st == CLCNN_ERR_NOMEM && big == NULL && strstr(clcnn_errmsg(ctx), "max_alloc"),
                  "a 2 MiB tensor under a 1 MiB limit: %d (%s)", st, clcnn_errmsg(ctx));

    /* A convolution whose im2col matrix (8 images x 28x28 x 150 floats,
     * 3.8 MB) exceeds it runs in chunks, as the CPU backend computes it. */
    clcnn_ctx *cpu = open_ctx_with("cpu", &(clcnn_ctx_options){.threads = 1, .ignore_environment = 1});
    const size_t xs[4] = {8, 28, 28, 6}, ws[4] = {5, 5, 6, 4}, bs[1] = {4};
    float *x = malloc(8 * 28 * 28 * 6 * sizeof *x), w[600], bias[4];
    ck_assert_ptr_nonnull(x);
    tu_fill_random(x, 8 * 28 * 28 * 6, 1, -1.0f, 1.0f);
    tu_fill_random(w, 600, 2, -1.0f, 1.0f);
    tu_fill_random(bias, 4, 3, -1.0f, 1.0f);
    float *y[2] = {NULL, NULL};
    clcnn_ctx *ctxs[2] = {ctx, cpu};
    for (int i = 0; i < 2; i++) {
        clcnn_tensor *tx = NULL, *tw = NULL, *tb = NULL, *ty = NULL;
        ck_assert_int_eq(clcnn_tensor_create(ctxs[i], &tx, 4, xs), CLCNN_OK);
        ck_assert_int_eq(clcnn_tensor_create(ctxs[i], &tw, 4, ws), CLCNN_OK);
        ck_assert_int_eq(clcnn_tensor_create(ctxs[i], &tb, 1, bs), CLCNN_OK);
        ck_assert_int_eq(clcnn_tensor_write(tx, x, 8 * 28 * 28 * 6), CLCNN_OK);
        ck_assert_int_eq(clcnn_tensor_write(tw, w, 600), CLCNN_OK);
        ck_assert_int_eq(clcnn_tensor_write(tb, bias, 4), CLCNN_OK);
        st = clcnn_conv_forward(ctxs[i], tx, tw, tb, CLCNN_ACT_RELU, CLCNN_PAD_SAME, 1, 1, &ty);
        ck_assert_msg(st == CLCNN_OK, "conv under a 1 MiB limit: %s", clcnn_errmsg(ctxs[i]));
        y[i] = malloc(clcnn_tensor_count(ty) * sizeof(float));
        ck_assert_ptr_nonnull(y[i]);
        ck_assert_int_eq(clcnn_tensor_read(ty, y[i], clcnn_tensor_count(ty)), CLCNN_OK);
        clcnn_tensor_free(tx);
        clcnn_tensor_free(tw);
        clcnn_tensor_free(tb);
        clcnn_tensor_free(ty);
    }
    /* |error| within 1e-5: 150-term sums of values in [-1, 1] */
    for (size_t i = 0; i < 8 * 28 * 28 * 4; i++)
        ck_assert_msg(fabsf(y[0][i] - y[1][i]) <= 1e-5f, "y[%zu] = %g, CPU %g", i, y[0][i], y[1][i]);
    free(y[0]);
    free(y[1]);
    free(x);
    clcnn_ctx_free(cpu);
    clcnn_ctx_free(ctx);
}
END_TEST

START_TEST(broken_kernel_is_a_build_error)
{
    char kdir[4096], cdir[4096], path[4200];
    make_temp_dir(kdir, sizeof kdir, "kernels");
    make_temp_dir(cdir, sizeof cdir, "cache");
    env_reset(cdir);
    copy_kernels(kdir);
    g_opts.kernel_dir = kdir;

    /* An intact copy builds and computes. */
    clcnn_ctx *ctx = open_ctx("opencl");
    ck_assert_str_eq(clcnn_ctx_backend(ctx), "opencl");
    clcnn_ctx_free(ctx);

    snprintf(path, sizeof path, "%s/pool.cl", kdir);
    FILE *f = fopen(path, "a");
    ck_assert_ptr_nonnull(f);
    fputs("\n__kernel void broken(__global float *x) { x[0] = undeclared_identifier_xyz; }\n", f);
    fclose(f);

    ctx = NULL;
    notices n = {0, ""};
    int st = create_logged(&ctx, "opencl", count_notice, &n);
    ck_assert_msg(st == CLCNN_ERR_BUILD, "status %d (%s), want CLCNN_ERR_BUILD", st, clcnn_errmsg(ctx));
    const char *msg = clcnn_errmsg(ctx);
    ck_assert_msg(strstr(msg, "pool.cl") != NULL, "the message does not name the file: %s", msg);
    ck_assert_msg(strstr(msg, "undeclared_identifier_xyz") != NULL, "the message lacks the build log: %s", msg);
    ck_assert_int_eq(n.count, 0);
    clcnn_ctx_free(ctx);

    ctx = NULL;
    st = create_logged(&ctx, "auto", count_notice, &n);
    ck_assert_msg(st == CLCNN_OK, "auto: %s", clcnn_errmsg(ctx));
    ck_assert_str_eq(clcnn_ctx_backend(ctx), "cpu");
    ck_assert_int_eq(n.count, 1);
    clcnn_ctx_free(ctx);

    /* A missing file is named in the error. */
    snprintf(path, sizeof path, "%s/data.cl", kdir);
    ck_assert_int_eq(remove(path), 0);
    ctx = NULL;
    st = create_logged(&ctx, "opencl", NULL, NULL);
    ck_assert_int_ne(st, CLCNN_OK);
    ck_assert_msg(strstr(clcnn_errmsg(ctx), "data.cl") != NULL, "missing file not named: %s", clcnn_errmsg(ctx));
    clcnn_ctx_free(ctx);

    rm_tree(kdir);
    rm_tree(cdir);
}
END_TEST

/* ------------------------------------------------------ (c) cache entries */

#define MAX_ENTRIES 32

START_TEST(corrupt_cache_entries_are_rebuilt)
{
    char cdir[4096], path[16384], other[16384];
    char names[MAX_ENTRIES][256];
    make_temp_dir(cdir, sizeof cdir, "cache");
    env_reset(cdir);

    clcnn_ctx *ctx = open_ctx("opencl");
    size_t n_ref;
    float *ref = conv_probe(ctx, &n_ref);
    clcnn_ctx_free(ctx);

    int n = list_entries(cdir, names, MAX_ENTRIES);
    ck_assert_msg(n >= 5, "only %d cache entries written", n);
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", cdir, names[i]);
        ck_assert_msg(entry_valid(path), "entry %s is not valid after a cold start", names[i]);
    }
    ck_assert_int_eq(count_files(cdir), n); /* no temporary files left */

    /* A warm start gives the same results. */
    ctx = open_ctx("opencl");
    size_t n_warm;
    float *warm = conv_probe(ctx, &n_warm);
    clcnn_ctx_free(ctx);
    ck_assert_int_eq(n_warm, n_ref);
    ck_assert_msg(memcmp(warm, ref, n_ref * sizeof *ref) == 0, "warm start changed the results");
    free(warm);

    size_t len;
    unsigned char *data;
    /* 0: truncated. */
    snprintf(path, sizeof path, "%s/%s", cdir, names[0]);
    data = slurp(path, &len);
    spill(path, data, len / 2);
    free(data);
    /* 1: one bit flipped in the binary. */
    snprintf(path, sizeof path, "%s/%s", cdir, names[1]);
    data = slurp(path, &len);
    data[len - len / 3] ^= 0x10;
    spill(path, data, len);
    free(data);
    ck_assert(!entry_valid(path));
    /* 2: a whole entry, but for another key (entry 3's). */
    snprintf(path, sizeof path, "%s/%s", cdir, names[2]);
    snprintf(other, sizeof other, "%s/%s", cdir, names[3]);
    copy_file(other, path);
    /* 4: the right key and checksums, but the binary of another program
     * (another file's entry: a binary of this driver's own, which every
     * driver accepts, without this program's kernels).  Not bytes the
     * driver never wrote: drivers may crash on those rather than refuse
     * them (rusticl panics on any, PoCL asserts on a truncated binary of
     * its own), so the library hands a driver only entries whose key and
     * checksums say that same driver wrote them. */
    snprintf(path, sizeof path, "%s/%s", cdir, names[4]);
    data = slurp(path, &len);
    char *key = entry_key(data, len);
    ck_assert_ptr_nonnull(key);
    free(data);
    /* The key names the driver's library file, as it is on disk. */
    char lib_path[4096];
    ck_assert_msg(key_line(key, "library=", lib_path, sizeof lib_path) && lib_path[0] == '/',
                  "no driver library in the key:\n%s", key);
    char *size_at = strstr(lib_path, " size ");
    ck_assert_ptr_nonnull(size_at);
    *size_at = '\0'; /* the path, before its size and time */
    struct stat lib_st;
    ck_assert_msg(stat(lib_path, &lib_st) == 0, "the key's driver library %s: %s", lib_path, strerror(errno));
    char file4[512], file[512];
    ck_assert(key_line(key, "file=", file4, sizeof file4));
    int donor = -1;
    for (int i = 3; i < n && donor < 0; i++) {
        snprintf(other, sizeof other, "%s/%s", cdir, names[i]);
        data = slurp(other, &len);
        char *k = entry_key(data, len);
        free(data);
        if (i != 4 && k && key_line(k, "file=", file, sizeof file) && strcmp(file, file4) != 0)
            donor = i;
        free(k);
    }
    ck_assert_msg(donor >= 0, "no entry of another program file to take a binary from");
    unsigned char *planted;
    size_t planted_len, planted_block;
    snprintf(other, sizeof other, "%s/%s", cdir, names[donor]);
    data = slurp(other, &len);
    char *donor_key = entry_key(data, len);
    free(data);
    ck_assert(ocl_cache_load(NULL, other, donor_key, &planted, &planted_len, &planted_block));
    free(donor_key);
    ck_assert(ocl_cache_store(path, key, planted, planted_len));
    ck_assert(entry_valid(path));
    free(key);

    ctx = open_ctx("opencl");
    size_t n_after;
    float *after = conv_probe(ctx, &n_after);
    clcnn_ctx_free(ctx);
    ck_assert_int_eq(n_after, n_ref);
    ck_assert_msg(memcmp(after, ref, n_ref * sizeof *ref) == 0, "results differ after rebuilding the cache");
    free(after);
    free(ref);

    ck_assert_int_eq(list_entries(cdir, names, MAX_ENTRIES), n);
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", cdir, names[i]);
        ck_assert_msg(entry_valid(path), "entry %s was not rewritten valid", names[i]);
    }
    /* The entries with another key and with another program's binary were
     * rewritten. */
    size_t l2, l3, l4;
    snprintf(path, sizeof path, "%s/%s", cdir, names[2]);
    unsigned char *e2 = slurp(path, &l2);
    snprintf(path, sizeof path, "%s/%s", cdir, names[3]);
    unsigned char *e3 = slurp(path, &l3);
    ck_assert_msg(l2 != l3 || memcmp(e2, e3, l2) != 0, "the entry holding another key was not rewritten");
    snprintf(path, sizeof path, "%s/%s", cdir, names[4]);
    unsigned char *e4 = slurp(path, &l4);
    ck_assert_msg(l4 < planted_len || memcmp(e4 + l4 - planted_len, planted, planted_len) != 0,
                  "the entry holding another program's binary was not rewritten");
    clcnn_mem_free(NULL, planted, planted_block);
    free(e2);
    free(e3);
    free(e4);
    ck_assert_int_eq(count_files(cdir), n);
    rm_tree(cdir);
}
END_TEST

START_TEST(unwritable_cache_is_not_an_error)
{
    char cdir[4096];
    make_temp_dir(cdir, sizeof cdir, "cache");
    char file[4200];
    snprintf(file, sizeof file, "%s/not-a-dir", cdir);
    spill(file, "x", 1);
    char below[4300];
    snprintf(below, sizeof below, "%s/sub", file); /* a path below a regular file */
    env_reset(below);
    clcnn_ctx *ctx = open_ctx("opencl");
    ck_assert_str_eq(clcnn_ctx_backend(ctx), "opencl");
    clcnn_ctx_free(ctx);
    rm_tree(cdir);
}
END_TEST

/* ---------------------------------------------------- (d) CLCNN_CACHE=0 */

START_TEST(cache_disabled_writes_nothing)
{
    char cdir[4096], sub[4200];
    make_temp_dir(cdir, sizeof cdir, "cache");
    snprintf(sub, sizeof sub, "%s/clcnn", cdir);
    env_reset(sub);
    g_opts.cache = -1;
    clcnn_ctx *ctx = open_ctx("opencl");
    size_t n;
    free(conv_probe(ctx, &n));
    clcnn_ctx_free(ctx);
    ck_assert_int_eq(count_files(cdir), 0);
    /* The default locations are not used either. */
    g_opts.cache_dir = NULL;
    setenv("XDG_CACHE_HOME", cdir, 1); /* the platform's location, not a clcnn setting */
    ctx = open_ctx("opencl");
    clcnn_ctx_free(ctx);
    ck_assert_int_eq(count_files(cdir), 0);
    rm_tree(cdir);
}
END_TEST

/* clcnn_tune's stored values: the first file under dir whose bytes hold
 * "clcnn tuned v1" into path (1), or 0 when there is none. */
static int find_tuned_entry(const char *dir, char *path, size_t len)
{
    char names[64][256];
    int n = list_entries(dir, names, 64);
    for (int i = 0; i < n; i++) {
        int w = snprintf(path, len, "%s/%.255s", dir, names[i]);
        FILE *f = w > 0 && (size_t)w < len ? fopen(path, "rb") : NULL;
        char buf[4096];
        size_t got = f ? fread(buf, 1, sizeof buf, f) : 0;
        if (f)
            fclose(f);
        for (size_t j = 0; j + 14 <= got; j++)
            if (memcmp(buf + j, "clcnn tuned v1", 14) == 0)
                return 1;
    }
    return 0;
}

START_TEST(tuned_values_are_stored_and_used)
{
    char cdir[4096], entry[4400];
    make_temp_dir(cdir, sizeof cdir, "tune");
    env_reset(cdir);

    /* A quick tuning of one tunable: stored, and new contexts use it.  The
     * default and the candidates (16 to 256) depend on the device's limit
     * (32 under the limits setup). */
    clcnn_ctx *ctx = open_ctx("opencl");
    const size_t limit = ((const ocl_backend *)ctx->bctx)->limits.work_group;
    const size_t xent = tunable_of(ctx, &ocl_family_loss, "XENT_WG"); /* nothing stored yet */
    unsigned candidates = 0;
    for (size_t w = 16; w <= 256 && w <= limit; w *= 2)
        candidates += w != xent;
    clcnn_tune_options o = {.batch = 8, .rounds = 1, .seconds = 0.02, .only = "XENT_WG"};
    clcnn_tune_report r;
    int st = clcnn_tune(ctx, &o, &r);
    ck_assert_msg(st == CLCNN_OK, "clcnn_tune: %s", clcnn_errmsg(ctx));
    ck_assert_int_eq(r.stored, 1);
    ck_assert_uint_eq(r.measured, candidates);
    ck_assert(r.default_rate > 0.0 && r.tuned_rate >= r.default_rate);
    ck_assert_ptr_nonnull(strstr(r.options, "-DCONV_PB=4 ")); /* not tuned: the default */
    const char *x = strstr(r.options, "-DXENT_WG=");
    ck_assert_ptr_nonnull(x);
    size_t chosen = (size_t)strtoul(x + 10, NULL, 10);
    clcnn_ctx *again = open_ctx("opencl");
    ck_assert_uint_eq(tunable_of(again, &ocl_family_loss, "XENT_WG"), chosen);
    clcnn_ctx_free(again);
    ck_assert(find_tuned_entry(cdir, entry, sizeof entry));

    /* A stored value that is not the default: used; ignored with tuned = -1
     * and with a kernel directory; lowered, not refused, under a smaller
     * work-group limit; a -D wins over it. */
    size_t values[OCL_FAMILY_COUNT][OCL_MAX_TUNABLES];
    memcpy(values, ((ocl_backend *)ctx->bctx)->tunables, sizeof values);
    const size_t stored = xent == 32 ? 16 : 32; /* not the default, within any limit here */
    values[OCL_FAMILY_loss][0] = stored;
    ck_assert_int_eq(ocl_tuned_write(ctx->bctx, (const size_t(*)[OCL_MAX_TUNABLES])values, "a test"), CLCNN_OK);
    again = open_ctx("opencl");
    ck_assert_uint_eq(tunable_of(again, &ocl_family_loss, "XENT_WG"), stored);
    clcnn_ctx_free(again);
    g_opts.tuned = -1;
    again = open_ctx("opencl");
    ck_assert_uint_eq(tunable_of(again, &ocl_family_loss, "XENT_WG"), xent);
    clcnn_ctx_free(again);
    g_opts.tuned = 0;
    g_opts.kernel_dir = CLCNN_TEST_CL_DIR;
    again = open_ctx("opencl");
    ck_assert_uint_eq(tunable_of(again, &ocl_family_loss, "XENT_WG"), xent);
    clcnn_ctx_free(again);
    g_opts.kernel_dir = NULL;
    g_opts.max_work_group = stored / 2;
    again = open_ctx("opencl");
    ck_assert_uint_eq(tunable_of(again, &ocl_family_loss, "XENT_WG"), stored / 2);
    clcnn_ctx_free(again);
    g_opts.max_work_group = 0;
    g_opts.build_options = stored == 16 ? "-DXENT_WG=32" : "-DXENT_WG=16";
    again = open_ctx("opencl");
    ck_assert_uint_eq(tunable_of(again, &ocl_family_loss, "XENT_WG"), stored == 16 ? 32 : 16);
    clcnn_ctx_free(again);
    g_opts.build_options = NULL;

    /* A damaged entry is ignored: the defaults serve. */
    ck_assert(find_tuned_entry(cdir, entry, sizeof entry));
    ck_assert_int_eq(truncate(entry, 40), 0);
    again = open_ctx("opencl");
    ck_assert_uint_eq(tunable_of(again, &ocl_family_loss, "XENT_WG"), xent);
    clcnn_ctx_free(again);

    /* Refusals, with messages. */
    o.only = "XENT_WG,NOPE";
    st = clcnn_tune(ctx, &o, &r);
    ck_assert_msg(st == CLCNN_ERR_ARGUMENT && strstr(clcnn_errmsg(ctx), "'NOPE' is not a tunable"), "%s",
                  clcnn_errmsg(ctx));
    clcnn_ctx *cpu = open_ctx_with("cpu", &(clcnn_ctx_options){.ignore_environment = 1});
    st = clcnn_tune(cpu, NULL, &r);
    ck_assert_msg(st == CLCNN_ERR_ARGUMENT && strstr(clcnn_errmsg(cpu), "not on an OpenCL device"), "%s",
                  clcnn_errmsg(cpu));
    clcnn_ctx_free(cpu);
    clcnn_ctx_free(ctx);
    g_opts.cache = -1;
    ctx = open_ctx("opencl");
    o.only = "XENT_WG";
    st = clcnn_tune(ctx, &o, &r);
    ck_assert_msg(st == CLCNN_ERR_IO && strstr(clcnn_errmsg(ctx), "cache"), "%s", clcnn_errmsg(ctx));
    clcnn_ctx_free(ctx);
    rm_tree(cdir);
}
END_TEST

/* ------------------------------------------------------ (e) device listing */

START_TEST(devices_list_marks_one_auto_choice)
{
    env_reset(NULL);
    size_t count = 0;
    ck_assert_int_eq(clcnn_devices_list(NULL, NULL, 0, &count), CLCNN_OK);
    ck_assert_uint_ge(count, 1);
    clcnn_device_info *list = calloc(count, sizeof *list);
    ck_assert_ptr_nonnull(list);
    size_t again = 0;
    ck_assert_int_eq(clcnn_devices_list(NULL, list, count, &again), CLCNN_OK);
    ck_assert_uint_eq(again, count);
    int autos = 0;
    const clcnn_device_info *pick = NULL;
    for (size_t i = 0; i < count; i++) {
        ck_assert(list[i].device_name[0] != '\0');
        ck_assert(list[i].platform_name[0] != '\0');
        ck_assert(list[i].opencl_c_version[0] != '\0');
        ck_assert(list[i].compute_units > 0);
        ck_assert(list[i].global_mem_bytes > 0);
        if (list[i].is_auto_choice) {
            autos++;
            pick = &list[i];
        }
    }
    ck_assert_int_eq(autos, 1);

    /* "opencl" opens the device listed as the auto choice. */
    clcnn_ctx *ctx = open_ctx("opencl");
    char want[64];
    snprintf(want, sizeof want, "OpenCL %d:%d ", pick->platform_index, pick->device_index);
    ck_assert_msg(strncmp(clcnn_ctx_device_name(ctx), want, strlen(want)) == 0, "device %s, want %s...",
                  clcnn_ctx_device_name(ctx), want);
    ck_assert(strstr(clcnn_ctx_device_name(ctx), pick->device_name) != NULL);
    clcnn_ctx_free(ctx);
    char spec[64];
    snprintf(spec, sizeof spec, "opencl:%d:%d", pick->platform_index, pick->device_index);
    ctx = open_ctx(spec);
    clcnn_ctx_free(ctx);

    /* Out of range: a clear error, no fallback. */
    ctx = NULL;
    ck_assert_int_eq(clcnn_ctx_create_with_log(&ctx, "opencl:99:0", NULL, NULL), CLCNN_ERR_NO_DEVICE);
    ck_assert_msg(strstr(clcnn_errmsg(ctx), "platform 99") != NULL, "%s", clcnn_errmsg(ctx));
    clcnn_ctx_free(ctx);
    ctx = NULL;
    ck_assert_int_eq(clcnn_ctx_create_with_log(&ctx, "opencl:0:99", NULL, NULL), CLCNN_ERR_NO_DEVICE);
    ck_assert_msg(strstr(clcnn_errmsg(ctx), "device 99") != NULL, "%s", clcnn_errmsg(ctx));
    clcnn_ctx_free(ctx);
    free(list);
}
END_TEST

/* ------------------------------------- (h) the application's own context */

/* What an application that already uses OpenCL holds: its own context and
 * in-order queue on the device clcnn's "auto" would choose. */
typedef struct app_cl {
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
} app_cl;

static app_cl app_open(void)
{
    clcnn_device_info info[16];
    size_t n = 0;
    ck_assert_int_eq(clcnn_devices_list(NULL, info, 16, &n), CLCNN_OK);
    size_t pick = 0;
    for (size_t i = 0; i < n && i < 16; i++)
        if (info[i].is_auto_choice)
            pick = i;
    cl_platform_id plats[16];
    cl_device_id devs[16];
    cl_uint np = 0, nd = 0;
    ck_assert_int_eq(clGetPlatformIDs(16, plats, &np), CL_SUCCESS);
    ck_assert_int_lt(info[pick].platform_index, (int)np);
    ck_assert_int_eq(clGetDeviceIDs(plats[info[pick].platform_index], CL_DEVICE_TYPE_ALL, 16, devs, &nd),
                     CL_SUCCESS);
    ck_assert_int_lt(info[pick].device_index, (int)nd);
    app_cl a;
    a.device = devs[info[pick].device_index];
    cl_int err;
    a.context = clCreateContext(NULL, 1, &a.device, NULL, NULL, &err);
    ck_assert_int_eq(err, CL_SUCCESS);
    a.queue = clCreateCommandQueue(a.context, a.device, 0, &err);
    ck_assert_int_eq(err, CL_SUCCESS);
    return a;
}

/* Releasing the application's handles must succeed: clcnn left its own
 * references balanced and did not release the application's. */
static void app_close(app_cl *a)
{
    ck_assert_int_eq(clReleaseCommandQueue(a->queue), CL_SUCCESS);
    ck_assert_int_eq(clReleaseContext(a->context), CL_SUCCESS);
}

static cl_uint context_refs(cl_context c)
{
    cl_uint n = 0;
    ck_assert_int_eq(clGetContextInfo(c, CL_CONTEXT_REFERENCE_COUNT, sizeof n, &n, NULL), CL_SUCCESS);
    return n;
}

static cl_uint queue_refs(cl_command_queue q)
{
    cl_uint n = 0;
    ck_assert_int_eq(clGetCommandQueueInfo(q, CL_QUEUE_REFERENCE_COUNT, sizeof n, &n, NULL), CL_SUCCESS);
    return n;
}

/* The queue's reference count once it has come down to want, or what it is
 * after two seconds: PoCL drops the references its finished commands hold
 * on a thread of its own, shortly after clFinish has returned (seen as a
 * count one too high under load). */
static cl_uint settled_queue_refs(cl_command_queue q, cl_uint want)
{
    cl_uint n = queue_refs(q);
    for (int i = 0; i < 200 && n != want; i++) {
        usleep(10000);
        n = queue_refs(q);
    }
    return n;
}

static cl_uint mem_refs(cl_mem m)
{
    cl_uint n = 0;
    ck_assert_int_eq(clGetMemObjectInfo(m, CL_MEM_REFERENCE_COUNT, sizeof n, &n, NULL), CL_SUCCESS);
    return n;
}

static cl_mem app_buffer(const app_cl *a, size_t bytes)
{
    cl_int err;
    cl_mem m = clCreateBuffer(a->context, CL_MEM_READ_WRITE, bytes, NULL, &err);
    ck_assert_int_eq(err, CL_SUCCESS);
    return m;
}

/* The CPU backend's conv (tanh, same) then 2x2 max pool of x: the oracle. */
static float *cpu_conv_pool(const size_t *xs, const float *x, const size_t *ws, const float *w, const size_t *bs,
                            const float *b, float **conv_out)
{
    clcnn_ctx *cpu = open_ctx("cpu");
    clcnn_tensor *tx = tu_tensor(cpu, 4, xs, x), *tw = tu_tensor(cpu, 4, ws, w), *tb = tu_tensor(cpu, 1, bs, b);
    clcnn_tensor *y = NULL, *p = NULL;
    ck_assert_int_eq(clcnn_conv_forward(cpu, tx, tw, tb, CLCNN_ACT_TANH, CLCNN_PAD_SAME, 1, 1, &y), CLCNN_OK);
    ck_assert_int_eq(clcnn_pool_forward(cpu, y, 2, 2, 2, 2, CLCNN_POOL_MAX, &p), CLCNN_OK);
    /* A tensor of the CPU backend has no cl_mem, and cannot wrap one. */
    ck_assert_ptr_null(clcnn_tensor_cl_mem(p));
    clcnn_tensor *wrapped = NULL;
    int dummy;
    ck_assert_int_eq(clcnn_tensor_from_cl_mem(cpu, &wrapped, 1, bs, (cl_mem)(void *)&dummy), CLCNN_ERR_ARGUMENT);
    ck_assert_ptr_null(wrapped);
    ck_assert_ptr_nonnull(strstr(clcnn_errmsg(cpu), "not OpenCL"));
    *conv_out = tu_read(y);
    float *out = tu_read(p);
    clcnn_tensor_free(tx);
    clcnn_tensor_free(tw);
    clcnn_tensor_free(tb);
    clcnn_tensor_free(y);
    clcnn_tensor_free(p);
    clcnn_ctx_free(cpu);
    return out;
}

START_TEST(shared_context_runs_ops_on_application_buffers)
{
    env_reset(NULL);
    app_cl app = app_open();
    cl_uint ctx_refs0 = context_refs(app.context), queue_refs0 = queue_refs(app.queue);

    /* Before any command is enqueued, the counts are exact: clcnn holds one
     * reference to the queue and some to the context (its own, its programs'),
     * and gives every one back. */
    clcnn_ctx *ctx = NULL;
    int st = clcnn_ctx_create_opencl(&ctx, app.context, app.device, app.queue, NULL, NULL);
    ck_assert_msg(st == CLCNN_OK, "clcnn_ctx_create_opencl: %s", ctx ? clcnn_errmsg(ctx) : "NULL");
    ck_assert_str_eq(clcnn_ctx_backend(ctx), "opencl");
    ck_assert_ptr_nonnull(strstr(clcnn_ctx_device_name(ctx), "application"));
    ck_assert_uint_gt(context_refs(app.context), ctx_refs0);
    ck_assert_uint_eq(queue_refs(app.queue), queue_refs0 + 1);
    clcnn_ctx_free(ctx);
    ck_assert_uint_eq(context_refs(app.context), ctx_refs0);
    ck_assert_uint_eq(queue_refs(app.queue), queue_refs0);

    ctx = NULL;
    st = clcnn_ctx_create_opencl(&ctx, app.context, app.device, app.queue, NULL, NULL);
    ck_assert_msg(st == CLCNN_OK, "clcnn_ctx_create_opencl: %s", clcnn_errmsg(ctx));

    const size_t xs[4] = {2, 8, 6, 3}, ws[4] = {3, 3, 3, 4}, bs[1] = {4}, ps[4] = {2, 4, 3, 4};
    const size_t nx = 2 * 8 * 6 * 3, ny = 2 * 8 * 6 * 4, np = 2 * 4 * 3 * 4;
    float x[2 * 8 * 6 * 3], w[3 * 3 * 3 * 4], b[4];
    tu_fill_random(x, nx, 11, -1, 1);
    tu_fill_random(w, sizeof w / sizeof *w, 12, -0.5f, 0.5f);
    tu_fill_random(b, 4, 13, -0.5f, 0.5f);

    /* The application's input, written on its queue without waiting: clcnn's
     * work on the same in-order queue comes after it. */
    cl_mem xbuf = app_buffer(&app, nx * sizeof(float));
    ck_assert_int_eq(clEnqueueWriteBuffer(app.queue, xbuf, CL_FALSE, 0, nx * sizeof(float), x, 0, NULL, NULL),
                     CL_SUCCESS);
    clcnn_tensor *tx = NULL;
    st = clcnn_tensor_from_cl_mem(ctx, &tx, 4, xs, xbuf);
    ck_assert_msg(st == CLCNN_OK, "clcnn_tensor_from_cl_mem: %s", clcnn_errmsg(ctx));
    ck_assert_ptr_eq(clcnn_tensor_cl_mem(tx), xbuf);
    ck_assert_uint_ge(mem_refs(xbuf), 2); /* the tensor's, and maybe the write still in flight */
    ck_assert_uint_eq(clcnn_tensor_count(tx), nx);

    /* The pool's output goes straight into a buffer of the application's
     * (larger than needed), passed as the op's existing output tensor. */
    cl_mem pbuf = app_buffer(&app, (np + 5) * sizeof(float));
    clcnn_tensor *tp = NULL;
    ck_assert_int_eq(clcnn_tensor_from_cl_mem(ctx, &tp, 4, ps, pbuf), CLCNN_OK);
    ck_assert_uint_eq(mem_refs(pbuf), 2);

    clcnn_tensor *tw = tu_tensor(ctx, 4, ws, w), *tb = tu_tensor(ctx, 1, bs, b), *ty = NULL;
    st = clcnn_conv_forward(ctx, tx, tw, tb, CLCNN_ACT_TANH, CLCNN_PAD_SAME, 1, 1, &ty);
    ck_assert_msg(st == CLCNN_OK, "conv_forward: %s", clcnn_errmsg(ctx));
    st = clcnn_pool_forward(ctx, ty, 2, 2, 2, 2, CLCNN_POOL_MAX, &tp);
    ck_assert_msg(st == CLCNN_OK, "pool_forward: %s", clcnn_errmsg(ctx));
    ck_assert_ptr_eq(clcnn_tensor_cl_mem(tp), pbuf);

    /* Both results read by the application on its own queue. */
    float y[2 * 8 * 6 * 4], pooled[2 * 4 * 3 * 4];
    cl_mem ymem = clcnn_tensor_cl_mem(ty);
    ck_assert_ptr_nonnull(ymem);
    ck_assert_int_eq(clEnqueueReadBuffer(app.queue, ymem, CL_TRUE, 0, ny * sizeof(float), y, 0, NULL, NULL),
                     CL_SUCCESS);
    ck_assert_int_eq(clEnqueueReadBuffer(app.queue, pbuf, CL_TRUE, 0, np * sizeof(float), pooled, 0, NULL, NULL),
                     CL_SUCCESS);

    float *want_y = NULL;
    float *want_p = cpu_conv_pool(xs, x, ws, w, bs, b, &want_y);
    tu_assert_close(y, want_y, ny, 1e-5, 1e-5, "conv on the application's context");
    tu_assert_close(pooled, want_p, np, 1e-5, 1e-5, "pool into the application's buffer");
    free(want_y);
    free(want_p);

    clcnn_tensor_free(tx);
    clcnn_tensor_free(tp);
    clcnn_tensor_free(tw);
    clcnn_tensor_free(tb);
    clcnn_tensor_free(ty);
    /* Once work has run, the driver may keep references of its own for a
     * while (PoCL keeps a queue's last command event), so only the drop is
     * checked here: clcnn_ctx_free gives back at least its queue reference. */
    cl_uint queue_refs_before_free = queue_refs(app.queue);
    clcnn_ctx_free(ctx); /* waits for the queue: nothing is in flight after it */
    ck_assert_uint_lt(queue_refs(app.queue), queue_refs_before_free);
    ck_assert_uint_eq(mem_refs(xbuf), 1);
    ck_assert_uint_eq(mem_refs(pbuf), 1);

    /* Everything clcnn retained is released; the application's handles
     * still work and are released by the application. */
    ck_assert_int_eq(clFinish(app.queue), CL_SUCCESS);
    float back[4];
    ck_assert_int_eq(clEnqueueReadBuffer(app.queue, xbuf, CL_TRUE, 0, sizeof back, back, 0, NULL, NULL), CL_SUCCESS);
    ck_assert_float_eq(back[0], x[0]);
    ck_assert_int_eq(clReleaseMemObject(xbuf), CL_SUCCESS);
    ck_assert_int_eq(clReleaseMemObject(pbuf), CL_SUCCESS);
    app_close(&app);
}
END_TEST

/* A failed clcnn_ctx_create_opencl: ARGUMENT, a context holding only the
 * message (which contains expect), nothing retained. */
static void expect_create_fails(const app_cl *a, cl_context c, cl_device_id d, cl_command_queue q, const char *expect)
{
    cl_uint refs = context_refs(a->context), qrefs = queue_refs(a->queue);
    clcnn_ctx *ctx = NULL;
    int st = clcnn_ctx_create_opencl(&ctx, c, d, q, NULL, NULL);
    ck_assert_int_eq(st, CLCNN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(ctx);
    ck_assert_str_eq(clcnn_ctx_backend(ctx), "none");
    ck_assert_msg(strstr(clcnn_errmsg(ctx), expect) != NULL, "message \"%s\" lacks \"%s\"", clcnn_errmsg(ctx),
                  expect);
    clcnn_ctx_free(ctx);
    ck_assert_uint_eq(context_refs(a->context), refs);
    ck_assert_uint_eq(queue_refs(a->queue), qrefs);
}

START_TEST(shared_context_errors)
{
    env_reset(NULL);
    app_cl app = app_open(), other = app_open();
    ck_assert_int_eq(clcnn_ctx_create_opencl(NULL, app.context, app.device, app.queue, NULL, NULL),
                     CLCNN_ERR_ARGUMENT);
    expect_create_fails(&app, NULL, app.device, app.queue, "NULL context");
    expect_create_fails(&app, app.context, NULL, app.queue, "NULL device");
    expect_create_fails(&app, app.context, app.device, NULL, "NULL queue");
    expect_create_fails(&app, app.context, app.device, other.queue, "another context");

    cl_int err;
    cl_command_queue ooo =
        clCreateCommandQueue(app.context, app.device, CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE, &err);
    if (err == CL_SUCCESS) {
        expect_create_fails(&app, app.context, app.device, ooo, "out-of-order");
        ck_assert_int_eq(clReleaseCommandQueue(ooo), CL_SUCCESS);
    } else {
        ck_assert_int_eq(err, CL_INVALID_QUEUE_PROPERTIES); /* the device has none to test with */
    }

    clcnn_ctx *ctx = NULL;
    int st = clcnn_ctx_create_opencl(&ctx, app.context, app.device, app.queue, NULL, NULL);
    ck_assert_msg(st == CLCNN_OK, "%s", clcnn_errmsg(ctx));
    const size_t shape[2] = {3, 4};
    clcnn_tensor *t = NULL;

    cl_mem foreign = app_buffer(&other, 12 * sizeof(float));
    ck_assert_int_eq(clcnn_tensor_from_cl_mem(ctx, &t, 2, shape, foreign), CLCNN_ERR_ARGUMENT);
    ck_assert_ptr_null(t);
    ck_assert_ptr_nonnull(strstr(clcnn_errmsg(ctx), "another cl_context"));
    ck_assert_uint_eq(mem_refs(foreign), 1);

    cl_mem small = app_buffer(&app, 11 * sizeof(float));
    ck_assert_int_eq(clcnn_tensor_from_cl_mem(ctx, &t, 2, shape, small), CLCNN_ERR_ARGUMENT);
    ck_assert_ptr_null(t);
    ck_assert_ptr_nonnull(strstr(clcnn_errmsg(ctx), "44"));
    ck_assert_uint_eq(mem_refs(small), 1);

    ck_assert_int_eq(clcnn_tensor_from_cl_mem(ctx, &t, 2, shape, NULL), CLCNN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clcnn_errmsg(ctx), "NULL buffer"));
    ck_assert_int_eq(clcnn_tensor_from_cl_mem(ctx, NULL, 2, shape, small), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_tensor_from_cl_mem(ctx, &t, 2, NULL, small), CLCNN_ERR_ARGUMENT);
    const size_t zero[2] = {3, 0};
    ck_assert_int_eq(clcnn_tensor_from_cl_mem(ctx, &t, 2, zero, small), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_tensor_from_cl_mem(NULL, &t, 2, shape, small), CLCNN_ERR_ARGUMENT);
    ck_assert_ptr_null(t);
    ck_assert_uint_eq(mem_refs(small), 1);
    ck_assert_ptr_null(clcnn_tensor_cl_mem(NULL));

    clcnn_ctx_free(ctx);
    ck_assert_int_eq(clReleaseMemObject(foreign), CL_SUCCESS);
    ck_assert_int_eq(clReleaseMemObject(small), CL_SUCCESS);
    app_close(&other);
    app_close(&app);
}
END_TEST

/* clcnn_ctx_create_with_options with the application's handles and an
 * allocator hook: the context and everything on it take their host memory
 * from the hook and give it all back; with a hook that fails after N
 * blocks, for every N until creation needs no more, creation fails with
 * CLCNN_ERR_NOMEM, retains nothing and leaks nothing. */
START_TEST(shared_context_with_an_allocator_hook)
{
    env_reset(NULL);
    app_cl app = app_open();
    cl_uint ctx_refs0 = context_refs(app.context), queue_refs0 = queue_refs(app.queue);
    tu_counter c;
    tu_counter_init(&c, -1);
    clcnn_ctx_options o = {.allocator = &c.hook, .cl_context = app.context, .cl_device = app.device,
                           .cl_queue = app.queue};
    clcnn_ctx *ctx = NULL;
    int st = clcnn_ctx_create_with_options(&ctx, &o);
    ck_assert_msg(st == CLCNN_OK, "%s", ctx ? clcnn_errmsg(ctx) : "NULL");
    ck_assert_ptr_nonnull(strstr(clcnn_ctx_device_name(ctx), "application"));
    ck_assert_uint_eq(c.first_size, sizeof(struct clcnn_ctx));
    const size_t xs[4] = {1, 4, 4, 2};
    float x[32];
    tu_fill_random(x, 32, 3, -1, 1);
    cl_mem xbuf = app_buffer(&app, sizeof x);
    ck_assert_int_eq(clEnqueueWriteBuffer(app.queue, xbuf, CL_TRUE, 0, sizeof x, x, 0, NULL, NULL), CL_SUCCESS);
    clcnn_tensor *tx = NULL, *tp = NULL;
    ck_assert_int_eq(clcnn_tensor_from_cl_mem(ctx, &tx, 4, xs, xbuf), CLCNN_OK);
    ck_assert_int_eq(clcnn_pool_forward(ctx, tx, 2, 2, 2, 2, CLCNN_POOL_AVG, &tp), CLCNN_OK);
    ck_assert(tu_counter_owns(&c, tx) && tu_counter_owns(&c, tp));
    clcnn_tensor_free(tx);
    clcnn_tensor_free(tp);
    clcnn_ctx_free(ctx);
    size_t needed = c.given;
    tu_counter_check_clean(&c, "after a shared context");
    ck_assert_int_eq(clReleaseMemObject(xbuf), CL_SUCCESS);

    for (long n = 0;; n++) {
        tu_counter_init(&c, n);
        ctx = NULL;
        st = clcnn_ctx_create_with_options(&ctx, &o);
        int refused = c.refused != 0;
        if (st == CLCNN_OK)
            clcnn_ctx_free(ctx);
        else {
            ck_assert_msg(st == CLCNN_ERR_NOMEM, "failing after %ld: %s: %s", n, clcnn_status_str(st),
                          clcnn_errmsg(ctx));
            ck_assert_ptr_nonnull(strstr(clcnn_errmsg(ctx), "memory"));
            clcnn_ctx_free(ctx);
        }
        ck_assert_uint_eq(context_refs(app.context), ctx_refs0);
        ck_assert_uint_eq(settled_queue_refs(app.queue, queue_refs0), queue_refs0);
        tu_counter_check_clean(&c, "after a failed shared context");
        if (st == CLCNN_OK && !refused)
            break;
        ck_assert_uint_lt((size_t)n, needed);
    }
    app_close(&app);
}
END_TEST

/* -------------------------------------------------------------------- main */

/* 1 when an OpenCL device exists, found in a child so that this process
 * never initialises OpenCL (see the top of the file). */
static int have_device(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return 1; /* let the tests find out */
    if (pid == 0) {
        size_t count = 0;
        _exit(clcnn_devices_list(NULL, NULL, 0, &count) == CLCNN_OK && count > 0 ? 0 : 77);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid)
        return 1;
    return !(WIFEXITED(status) && WEXITSTATUS(status) == 77);
}

static Suite *opencl_suite(void)
{
    Suite *s = suite_create("opencl");
    TCase *tc = tcase_create("device");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, no_icd_falls_back_to_cpu);
    tcase_add_test(tc, build_options_set_the_tunables);
    tcase_add_test(tc, forced_small_limits_are_obeyed);
    tcase_add_test(tc, broken_kernel_is_a_build_error);
    tcase_add_test(tc, corrupt_cache_entries_are_rebuilt);
    tcase_add_test(tc, unwritable_cache_is_not_an_error);
    tcase_add_test(tc, cache_disabled_writes_nothing);
    tcase_add_test(tc, tuned_values_are_stored_and_used);
    tcase_add_test(tc, devices_list_marks_one_auto_choice);
    tcase_add_test(tc, shared_context_runs_ops_on_application_buffers);
    tcase_add_test(tc, shared_context_errors);
    tcase_add_test(tc, shared_context_with_an_allocator_hook);
    suite_add_tcase(s, tc);

    return s;
}

int main(int argc, char **argv)
{
    ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    if (n > 0)
        self_path[n] = '\0';
    else
        snprintf(self_path, sizeof self_path, "%s", argv[0]);
    if (argc > 1 && strcmp(argv[1], NO_ICD_CHILD_FLAG) == 0)
        return no_icd_child();
    if (!have_device()) {
        fprintf(stderr, "skipping: no OpenCL device\n");
        return 77;
    }
    SRunner *sr = srunner_create(opencl_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
