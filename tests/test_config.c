/*
 * Context settings (clcnn_ctx_options and their environment variables,
 * src/core/config.c): defaults, the environment as default, options winning
 * over it, ignore_environment, and clear errors for invalid values.  CPU
 * contexts only: the settings are resolved before any device is chosen.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clcnn.h"
#include "internal.h"
#include "testutil.h"

static const char *const variables[] = {
    "CLCNN_DEVICE",        "CLCNN_THREADS",  "CLCNN_KERNEL_DIR",      "CLCNN_CACHE",
    "CLCNN_CACHE_DIR",     "CLCNN_OCL_CONV", "CLCNN_OCL_DIRECT_CONV", "CLCNN_OCL_DENSE",
    "CLCNN_OCL_COL_LIMIT", "CLCNN_BUILD_OPTIONS", "CLCNN_OCL_MAX_WORK_GROUP", "CLCNN_OCL_MAX_LOCAL_MEM",
    "CLCNN_OCL_MAX_ALLOC", "CLCNN_TUNED",
};

static void clear_environment(void)
{
    for (size_t i = 0; i < sizeof variables / sizeof *variables; i++)
        unsetenv(variables[i]);
}

/* A CPU context with options o (device "cpu" unless o sets one). */
static int create(clcnn_ctx **ctx, clcnn_ctx_options o)
{
    if (!o.device)
        o.device = "cpu";
    *ctx = NULL;
    return clcnn_ctx_create_with_options(ctx, &o);
}

static clcnn_ctx *open_ok(clcnn_ctx_options o)
{
    clcnn_ctx *ctx;
    int st = create(&ctx, o);
    ck_assert_msg(st == CLCNN_OK, "%s (%s)", clcnn_status_str(st), clcnn_errmsg(ctx));
    return ctx;
}

/* Creation fails with CLCNN_ERR_ARGUMENT and a message containing what. */
static void expect_error(clcnn_ctx_options o, const char *what)
{
    clcnn_ctx *ctx;
    int st = create(&ctx, o);
    ck_assert_msg(st == CLCNN_ERR_ARGUMENT, "status %d, want CLCNN_ERR_ARGUMENT (%s)", st, what);
    ck_assert_msg(strstr(clcnn_errmsg(ctx), what) != NULL, "message \"%s\" does not name %s", clcnn_errmsg(ctx),
                  what);
    clcnn_ctx_free(ctx);
}

START_TEST(defaults)
{
    clear_environment();
    setenv("HOME", "/home/someone", 1);
    unsetenv("XDG_CACHE_HOME");
    clcnn_ctx *ctx = open_ok((clcnn_ctx_options){0});
    const clcnn_config *c = &ctx->config;
    ck_assert_int_eq(c->threads, 0);
    ck_assert_str_eq(c->kernel_dir, "");
    ck_assert_str_eq(c->build_options, "");
    ck_assert_str_eq(c->cache_dir, "/home/someone/.cache/clcnn");
    ck_assert_int_eq(c->conv_path, CLCNN_PATH_AUTO);
    ck_assert_int_eq(c->dense_path, CLCNN_PATH_AUTO);
    ck_assert_uint_eq(c->col_limit, (size_t)64 << 20);
    ck_assert_uint_eq(c->max_work_group + c->max_local_mem + c->max_alloc, 0); /* the device's own */
    ck_assert_int_eq(c->tuned, 1);
    clcnn_ctx_free(ctx);
    setenv("XDG_CACHE_HOME", "/xdg", 1);
    ctx = open_ok((clcnn_ctx_options){0});
    ck_assert_str_eq(ctx->config.cache_dir, "/xdg/clcnn");
    clcnn_ctx_free(ctx);
}
END_TEST

START_TEST(environment_is_the_default)
{
    clear_environment();
    setenv("CLCNN_THREADS", "3", 1);
    setenv("CLCNN_KERNEL_DIR", "/k", 1);
    setenv("CLCNN_CACHE_DIR", "/c", 1);
    setenv("CLCNN_BUILD_OPTIONS", "-DX=1", 1);
    setenv("CLCNN_OCL_CONV", "gemm", 1);
    setenv("CLCNN_OCL_DENSE", "direct", 1);
    setenv("CLCNN_OCL_COL_LIMIT", "4096", 1);
    setenv("CLCNN_OCL_MAX_WORK_GROUP", "32", 1);
    setenv("CLCNN_OCL_MAX_LOCAL_MEM", "16384", 1);
    setenv("CLCNN_OCL_MAX_ALLOC", "67108864", 1);
    setenv("CLCNN_TUNED", "0", 1);
    /* clcnn_ctx_create reads the environment as a zeroed options struct. */
    clcnn_ctx *ctx = NULL;
    ck_assert_int_eq(clcnn_ctx_create_with_log(&ctx, "cpu", NULL, NULL), CLCNN_OK);
    const clcnn_config *c = &ctx->config;
    ck_assert_int_eq(c->threads, 3);
    ck_assert_str_eq(c->kernel_dir, "/k");
    ck_assert_str_eq(c->cache_dir, "/c");
    ck_assert_str_eq(c->build_options, "-DX=1");
    ck_assert_int_eq(c->conv_path, CLCNN_PATH_GEMM);
    ck_assert_int_eq(c->dense_path, CLCNN_PATH_DIRECT);
    ck_assert_uint_eq(c->col_limit, 4096);
    ck_assert_uint_eq(c->max_work_group, 32);
    ck_assert_uint_eq(c->max_local_mem, 16384);
    ck_assert_uint_eq(c->max_alloc, 67108864);
    ck_assert_int_eq(c->tuned, 0);
    clcnn_ctx_free(ctx);

    /* An option wins over its variable. */
    ctx = open_ok((clcnn_ctx_options){.max_work_group = 8, .max_alloc = 1024});
    ck_assert_uint_eq(ctx->config.max_work_group, 8);
    ck_assert_uint_eq(ctx->config.max_local_mem, 16384);
    ck_assert_uint_eq(ctx->config.max_alloc, 1024);
    clcnn_ctx_free(ctx);

    /* CLCNN_CACHE=0 turns the cache off whatever the directory. */
    setenv("CLCNN_CACHE", "0", 1);
    ctx = open_ok((clcnn_ctx_options){0});
    ck_assert_str_eq(ctx->config.cache_dir, "");
    clcnn_ctx_free(ctx);

    /* The older spelling of CLCNN_OCL_CONV=direct. */
    unsetenv("CLCNN_OCL_CONV");
    setenv("CLCNN_OCL_DIRECT_CONV", "1", 1);
    ctx = open_ok((clcnn_ctx_options){0});
    ck_assert_int_eq(ctx->config.conv_path, CLCNN_PATH_DIRECT);
    clcnn_ctx_free(ctx);
}
END_TEST

START_TEST(options_win_over_the_environment)
{
    clear_environment();
    setenv("CLCNN_THREADS", "abc", 1); /* invalid, but not read: the option is set */
    setenv("CLCNN_KERNEL_DIR", "/k", 1);
    setenv("CLCNN_CACHE", "0", 1);
    setenv("CLCNN_OCL_CONV", "gemm", 1);
    setenv("CLCNN_OCL_COL_LIMIT", "4096", 1);
    setenv("CLCNN_DEVICE", "opencl:99:99", 1);
    clcnn_ctx *ctx = open_ok((clcnn_ctx_options){.threads = 2, .kernel_dir = "/mine", .cache = 1,
                                                 .cache_dir = "/cache", .conv_path = CLCNN_PATH_DIRECT,
                                                 .col_limit = 100});
    const clcnn_config *c = &ctx->config;
    ck_assert_int_eq(c->threads, 2);
    ck_assert_str_eq(c->kernel_dir, "/mine");
    ck_assert_str_eq(c->cache_dir, "/cache");
    ck_assert_int_eq(c->conv_path, CLCNN_PATH_DIRECT);
    ck_assert_uint_eq(c->col_limit, 100);
    ck_assert_str_eq(clcnn_ctx_backend(ctx), "cpu");
    clcnn_ctx_free(ctx);

    /* cache = -1 wins over a directory. */
    ctx = open_ok((clcnn_ctx_options){.threads = 1, .cache = -1, .cache_dir = "/cache"});
    ck_assert_str_eq(ctx->config.cache_dir, "");
    clcnn_ctx_free(ctx);

    /* ignore_environment: none of the variables is read (CLCNN_DEVICE's
     * opencl:99:99 would fail). */
    ctx = open_ok((clcnn_ctx_options){.device = "auto", .ignore_environment = 1, .cache = -1});
    c = &ctx->config;
    ck_assert_int_eq(c->threads, 0);
    ck_assert_str_eq(c->kernel_dir, "");
    ck_assert_int_eq(c->conv_path, CLCNN_PATH_AUTO);
    ck_assert_uint_eq(c->col_limit, (size_t)64 << 20);
    clcnn_ctx_free(ctx);
}
END_TEST

START_TEST(invalid_values_are_errors)
{
    static const struct {
        const char *var, *value;
    } bad_env[] = {
        {"CLCNN_THREADS", "abc"},       {"CLCNN_THREADS", "0"},     {"CLCNN_THREADS", "257"},
        {"CLCNN_THREADS", "-2"},        {"CLCNN_OCL_CONV", "fast"}, {"CLCNN_OCL_DENSE", "Direct"},
        {"CLCNN_OCL_COL_LIMIT", "1k"},  {"CLCNN_CACHE", "no"},      {"CLCNN_OCL_DIRECT_CONV", "yes"},
        {"CLCNN_OCL_COL_LIMIT", "0"},   {"CLCNN_OCL_MAX_WORK_GROUP", "0"}, {"CLCNN_OCL_MAX_LOCAL_MEM", "16k"},
        {"CLCNN_OCL_MAX_ALLOC", "-1"},  {"CLCNN_TUNED", "yes"},
    };
    for (size_t i = 0; i < sizeof bad_env / sizeof *bad_env; i++) {
        clear_environment();
        setenv(bad_env[i].var, bad_env[i].value, 1);
        expect_error((clcnn_ctx_options){0}, bad_env[i].var);
    }
    clear_environment();
    expect_error((clcnn_ctx_options){.threads = -1}, "threads");
    expect_error((clcnn_ctx_options){.threads = 1000}, "threads");
    expect_error((clcnn_ctx_options){.cache = 2}, "cache");
    expect_error((clcnn_ctx_options){.tuned = 5}, "tuned");
    expect_error((clcnn_ctx_options){.conv_path = (clcnn_path)7}, "conv_path");
    expect_error((clcnn_ctx_options){.dense_path = (clcnn_path)-1}, "dense_path");
    static char long_path[5000];
    memset(long_path, 'a', sizeof long_path - 1);
    expect_error((clcnn_ctx_options){.kernel_dir = long_path}, "kernel_dir");
    expect_error((clcnn_ctx_options){.cache_dir = long_path}, "cache_dir");
    expect_error((clcnn_ctx_options){.build_options = long_path}, "build_options");
    setenv("CLCNN_CACHE_DIR", long_path, 1);
    expect_error((clcnn_ctx_options){0}, "CLCNN_CACHE_DIR");
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    /* "auto" with the cache off builds every OpenCL program (about 3 s on
     * PoCL, more on a loaded machine): past Check's default of 4 s. */
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, environment_is_the_default);
    tcase_add_test(tc, options_win_over_the_environment);
    tcase_add_test(tc, invalid_values_are_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(config_suite());
}
