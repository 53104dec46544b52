/*
 * Embedding: what an application that links clcnn relies on.
 *
 * - The log hook: clcnn_ctx_create_with_log delivers the CPU fallback
 *   notice through the hook, exactly once, with the user pointer; a NULL
 *   hook silences it (nothing on stderr); clcnn_ctx_create writes it to
 *   stderr; clcnn_ctx_set_log replaces the hook.  The fallback is provoked
 *   with OCL_ICD_VENDORS pointing at an empty directory, in a re-executed
 *   copy of this program: the ICD loader reads that variable once per
 *   process, and OpenCL must not be initialised before a fork.
 * - Two contexts used from two threads at once (one on the CPU backend, one
 *   on CLCNN_DEVICE's backend) each train a small model for a few steps and
 *   run the four operations; the results equal the same work done
 *   sequentially, so contexts share no mutable state.
 */
#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h" /* clcnn_notice: the only way to send a notice on demand */
#include "testutil.h"

#define LOG_CHILD_FLAG "--log-hook-child"

static char self_path[4096];

/* ------------------------------------------------------------- log hook */

typedef struct {
    int count;
    void *user_seen;
    char last[1024];
} log_record;

static void record_log(void *user, const char *msg)
{
    log_record *r = user;
    r->count++;
    r->user_seen = user;
    snprintf(r->last, sizeof r->last, "%s", msg);
}

/* Size of a file, or -1. */
static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Runs f(ctx out) with stderr redirected to path; returns f's status. */
static int with_stderr_to(const char *path, int (*f)(clcnn_ctx **), clcnn_ctx **ctx)
{
    fflush(stderr);
    int saved = dup(2);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (saved < 0 || fd < 0)
        return -1000;
    dup2(fd, 2);
    close(fd);
    int st = f(ctx);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    return st;
}

static int create_auto_silent(clcnn_ctx **ctx)
{
    return clcnn_ctx_create_with_log(ctx, "auto", NULL, NULL);
}

static int create_auto_default(clcnn_ctx **ctx)
{
    return clcnn_ctx_create(ctx, "auto");
}

/* The re-executed child: OCL_ICD_VENDORS names an empty directory, so
 * "auto" must fall back to the CPU backend.  Returns 0 when every check
 * held; each failure is printed. */
static int log_hook_child(void)
{
    int bad = 0;
    unsetenv("CLCNN_DEVICE"); /* "auto" must mean auto, whatever meson set */

    /* 1. The hook receives the notice exactly once, with our pointer. */
    log_record rec = {0, NULL, ""};
    clcnn_ctx *ctx = NULL;
    int st = clcnn_ctx_create_with_log(&ctx, "auto", record_log, &rec);
    if (st != CLCNN_OK || strcmp(clcnn_ctx_backend(ctx), "cpu") != 0) {
        fprintf(stderr, "auto without an ICD: status %d, backend %s (%s)\n", st, clcnn_ctx_backend(ctx),
                clcnn_errmsg(ctx));
        bad = 1;
    }
    if (rec.count != 1) {
        fprintf(stderr, "auto without an ICD: %d notices through the hook, want exactly 1\n", rec.count);
        bad = 1;
    }
    if (rec.user_seen != &rec) {
        fprintf(stderr, "the hook got user pointer %p, want %p\n", rec.user_seen, (void *)&rec);
        bad = 1;
    }
    if (!strstr(rec.last, "CPU backend") || strchr(rec.last, '\n')) {
        fprintf(stderr, "unexpected notice text \"%s\" (want one line naming the CPU backend)\n", rec.last);
        bad = 1;
    }
    if (ctx && clcnn_errmsg(ctx)[0] != '\0') {
        fprintf(stderr, "a successful fallback left an error message: \"%s\"\n", clcnn_errmsg(ctx));
        bad = 1;
    }
    clcnn_ctx_free(ctx);

    /* 2. A NULL hook: no notice anywhere, in particular not on stderr. */
    char path[4096];
    snprintf(path, sizeof path, "%s/clcnn-embed-stderr-%ld", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (long)getpid());
    ctx = NULL;
    st = with_stderr_to(path, create_auto_silent, &ctx);
    long size = file_size(path);
    if (st != CLCNN_OK || size != 0) {
        fprintf(stderr, "NULL hook: status %d, %ld bytes on stderr (want 0)\n", st, size);
        bad = 1;
    }
    clcnn_ctx_free(ctx);

    /* 3. clcnn_ctx_create: the notice goes to stderr, one line. */
    ctx = NULL;
    st = with_stderr_to(path, create_auto_default, &ctx);
    char text[2048] = "";
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = '\0';
    if (f)
        fclose(f);
    char *nl = strchr(text, '\n');
    if (st != CLCNN_OK || strncmp(text, "clcnn: ", 7) != 0 || !nl || nl[1] != '\0') {
        fprintf(stderr, "clcnn_ctx_create: status %d, stderr \"%s\" (want one line \"clcnn: ...\")\n", st, text);
        bad = 1;
    }
    clcnn_ctx_free(ctx);
    unlink(path);
    return bad;
}

START_TEST(fallback_notice_goes_through_the_hook_once)
{
    int status = tu_rerun_without_opencl(self_path, LOG_CHILD_FLAG);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "the log-hook child failed (status 0x%x; its stderr says why)", status);
}
END_TEST

START_TEST(set_log_replaces_the_hook)
{
    log_record a = {0, NULL, ""}, b = {0, NULL, ""};
    clcnn_ctx *ctx = NULL;
    ck_assert_int_eq(clcnn_ctx_create_with_log(&ctx, "cpu", record_log, &a), CLCNN_OK);
    ck_assert_int_eq(a.count, 0); /* "cpu" is no fallback: no notice */

    clcnn_notice(ctx, "first %d", 1);
    ck_assert_int_eq(a.count, 1);
    ck_assert_str_eq(a.last, "first 1");

    clcnn_ctx_set_log(ctx, record_log, &b);
    clcnn_notice(ctx, "second");
    ck_assert_int_eq(a.count, 1);
    ck_assert_int_eq(b.count, 1);
    ck_assert_ptr_eq(b.user_seen, &b);
    ck_assert_str_eq(b.last, "second");

    clcnn_ctx_set_log(ctx, NULL, NULL);
    clcnn_notice(ctx, "third");
    ck_assert_int_eq(a.count, 1);
    ck_assert_int_eq(b.count, 1);

    clcnn_ctx_set_log(NULL, record_log, &a); /* NULL context: no effect, no crash */
    clcnn_ctx_free(ctx);
}
END_TEST

/* -------------------------------------------------- contexts in threads */

#define W_H 8
#define W_N 16 /* examples */
#define W_STEPS 4
#define W_CLASSES 4

/* Everything one unit of work produces, compared between runs. */
typedef struct {
    float losses[W_STEPS];
    float *params; /* every parameter of the trained model, concatenated */
    size_t nparams;
    float probs[W_N * W_CLASSES];
    float *ops; /* the four operations' outputs, concatenated */
    size_t nops;
    int status;
    char err[512];
} work_result;

typedef struct {
    clcnn_ctx *ctx;
    work_result *res;
} work_arg;

static void fill(float *x, size_t n, unsigned seed, float lo, float hi)
{
    unsigned s = seed * 2654435761u + 12345u;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = lo + (hi - lo) * (float)(s >> 8) / 16777216.0f;
    }
}

static int append(work_result *r, const clcnn_tensor *t)
{
    size_t n = clcnn_tensor_count(t);
    float *grown = realloc(r->ops, (r->nops + n) * sizeof *grown);
    if (!grown)
        return CLCNN_ERR_NOMEM;
    r->ops = grown;
    int st = clcnn_tensor_read(t, r->ops + r->nops, n);
    r->nops += n;
    return st;
}

static int make_tensor(clcnn_ctx *ctx, clcnn_tensor **t, size_t a, size_t b, size_t c, size_t d, unsigned seed)
{
    const size_t shape[4] = {a, b, c, d};
    int st = clcnn_tensor_create(ctx, t, 4, shape);
    if (st != CLCNN_OK)
        return st;
    size_t n = a * b * c * d;
    float *x = malloc(n * sizeof *x);
    if (!x)
        return CLCNN_ERR_NOMEM;
    fill(x, n, seed, -1.0f, 1.0f);
    st = clcnn_tensor_write(*t, x, n);
    free(x);
    return st;
}

/* Trains a small model for W_STEPS steps and runs the four operations;
 * the same work on the same backend gives the same numbers. */
static void *do_work(void *p)
{
    work_arg *arg = p;
    clcnn_ctx *ctx = arg->ctx;
    work_result *r = arg->res;
    clcnn_model *m = NULL;
    clcnn_tensor *x = NULL, *w = NULL, *b = NULL, *y = NULL, *dx = NULL, *dw = NULL, *db = NULL, *py = NULL,
                 *dpx = NULL;
    float images[W_N * W_H * W_H];
    int32_t labels[W_N];
    int st;
    const char *where = "model";

    /* Model: conv 4 3x3 same relu, max pool 2x2, flatten, dense 4 softmax. */
    if ((st = clcnn_model_create(ctx, &m, W_H, W_H, 1)) != CLCNN_OK ||
        (st = clcnn_model_add_conv(m, 4, 3, 3, 1, 1, CLCNN_PAD_SAME, CLCNN_ACT_RELU)) != CLCNN_OK ||
        (st = clcnn_model_add_pool(m, 2, 2, 2, 2, CLCNN_POOL_MAX)) != CLCNN_OK ||
        (st = clcnn_model_add_flatten(m)) != CLCNN_OK ||
        (st = clcnn_model_add_dense(m, W_CLASSES, CLCNN_ACT_SOFTMAX)) != CLCNN_OK ||
        (st = clcnn_model_init(m, 11)) != CLCNN_OK)
        goto fail;
    fill(images, sizeof images / sizeof *images, 3, 0.0f, 1.0f);
    for (int i = 0; i < W_N; i++)
        labels[i] = i % W_CLASSES;
    where = "train_step";
    for (int s = 0; s < W_STEPS; s++)
        if ((st = clcnn_model_train_step(m, images, labels, W_N, &r->losses[s], NULL)) != CLCNN_OK)
            goto fail;
    where = "predict";
    if ((st = clcnn_model_predict(m, images, W_N, r->probs)) != CLCNN_OK)
        goto fail;
    where = "parameters";
    r->nparams = clcnn_model_param_count(m);
    r->params = malloc(r->nparams * sizeof *r->params);
    if (!r->params) {
        st = CLCNN_ERR_NOMEM;
        goto fail;
    }
    size_t at = 0;
    for (size_t i = 0; i < clcnn_model_layer_count(m); i++)
        for (int which = 0; which < 2; which++) {
            size_t n = clcnn_model_param_size(m, i, which);
            if (n && (st = clcnn_model_read_param(m, i, which, r->params + at, n)) != CLCNN_OK)
                goto fail;
            at += n;
        }

    /* The four operations: a strided conv with "same" padding and
     * overlapping max pooling, forward and backward. */
    where = "operations";
    if ((st = make_tensor(ctx, &x, 2, 9, 7, 3, 21)) != CLCNN_OK ||
        (st = make_tensor(ctx, &w, 3, 3, 3, 5, 22)) != CLCNN_OK ||
        (st = make_tensor(ctx, &b, 1, 1, 1, 5, 23)) != CLCNN_OK ||
        (st = clcnn_conv_forward(ctx, x, w, b, CLCNN_ACT_TANH, CLCNN_PAD_SAME, 2, 1, &y)) != CLCNN_OK ||
        (st = append(r, y)) != CLCNN_OK ||
        (st = clcnn_conv_backward(ctx, y, x, w, b, CLCNN_PAD_SAME, 2, 1, &dx, &dw, &db)) != CLCNN_OK ||
        (st = append(r, dx)) != CLCNN_OK || (st = append(r, dw)) != CLCNN_OK || (st = append(r, db)) != CLCNN_OK ||
        (st = clcnn_pool_forward(ctx, x, 3, 2, 2, 1, CLCNN_POOL_MAX, &py)) != CLCNN_OK ||
        (st = append(r, py)) != CLCNN_OK ||
        (st = clcnn_pool_backward(ctx, py, x, 3, 2, 2, 1, CLCNN_POOL_MAX, &dpx)) != CLCNN_OK ||
        (st = append(r, dpx)) != CLCNN_OK || (st = clcnn_ctx_finish(ctx)) != CLCNN_OK)
        goto fail;
fail:
    r->status = st;
    if (st != CLCNN_OK)
        snprintf(r->err, sizeof r->err, "%s on %s: %s", where, clcnn_ctx_backend(ctx), clcnn_errmsg(ctx));
    clcnn_tensor *all[] = {x, w, b, y, dx, dw, db, py, dpx};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        clcnn_tensor_free(all[i]);
    clcnn_model_free(m);
    return NULL;
}

static void result_free(work_result *r)
{
    free(r->params);
    free(r->ops);
}

static void assert_same(const work_result *got, const work_result *want, const char *what)
{
    ck_assert_msg(got->status == CLCNN_OK, "%s: %s", what, got->err);
    ck_assert_msg(want->status == CLCNN_OK, "%s (sequential): %s", what, want->err);
    ck_assert_msg(memcmp(got->losses, want->losses, sizeof got->losses) == 0, "%s: losses differ", what);
    ck_assert_uint_eq(got->nparams, want->nparams);
    ck_assert_msg(memcmp(got->params, want->params, got->nparams * sizeof *got->params) == 0,
                  "%s: trained parameters differ", what);
    ck_assert_msg(memcmp(got->probs, want->probs, sizeof got->probs) == 0, "%s: predictions differ", what);
    ck_assert_uint_eq(got->nops, want->nops);
    for (size_t i = 0; i < got->nops; i++)
        ck_assert_msg(got->ops[i] == want->ops[i], "%s: operation output %zu: %.9g, sequentially %.9g", what, i,
                      (double)got->ops[i], (double)want->ops[i]);
}

START_TEST(two_contexts_in_two_threads)
{
    /* One context on the CPU backend, one on CLCNN_DEVICE's (cpu or
     * opencl): the same work sequentially, then at once from two threads,
     * each thread on a fresh context of its own. */
    work_result seq[2], par[2];
    memset(seq, 0, sizeof seq);
    memset(par, 0, sizeof par);
    clcnn_ctx *ctx[2];
    ck_assert_int_eq(clcnn_ctx_create_with_log(&ctx[0], "cpu", NULL, NULL), CLCNN_OK);
    ctx[1] = tu_ctx();
    for (int i = 0; i < 2; i++) {
        work_arg arg = {ctx[i], &seq[i]};
        do_work(&arg);
        ck_assert_msg(seq[i].status == CLCNN_OK, "sequential work: %s", seq[i].err);
    }
    ck_assert_float_gt(seq[0].losses[0], seq[0].losses[W_STEPS - 1]); /* it did learn */
    for (int i = 0; i < 2; i++)
        clcnn_ctx_free(ctx[i]);

    ck_assert_int_eq(clcnn_ctx_create_with_log(&ctx[0], "cpu", NULL, NULL), CLCNN_OK);
    ctx[1] = tu_ctx();
    pthread_t th[2];
    work_arg args[2] = {{ctx[0], &par[0]}, {ctx[1], &par[1]}};
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, do_work, &args[i]), 0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    assert_same(&par[0], &seq[0], "cpu context in a thread");
    assert_same(&par[1], &seq[1], "second context in a thread");
    for (int i = 0; i < 2; i++) {
        clcnn_ctx_free(ctx[i]);
        result_free(&seq[i]);
        result_free(&par[i]);
    }
}
END_TEST

START_TEST(many_cpu_contexts_at_once)
{
    /* Four CPU contexts at once (each with its own worker pool): the same
     * answers as one context alone. */
    enum { N = 4 };
    clcnn_ctx *ctx[N];
    work_result ref, res[N];
    memset(&ref, 0, sizeof ref);
    memset(res, 0, sizeof res);
    ck_assert_int_eq(clcnn_ctx_create_with_log(&ctx[0], "cpu", NULL, NULL), CLCNN_OK);
    work_arg a = {ctx[0], &ref};
    do_work(&a);
    clcnn_ctx_free(ctx[0]);
    pthread_t th[N];
    work_arg args[N];
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(clcnn_ctx_create_with_log(&ctx[i], "cpu", NULL, NULL), CLCNN_OK);
        args[i] = (work_arg){ctx[i], &res[i]};
        ck_assert_int_eq(pthread_create(&th[i], NULL, do_work, &args[i]), 0);
    }
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < N; i++) {
        assert_same(&res[i], &ref, "one of four cpu contexts");
        clcnn_ctx_free(ctx[i]);
        result_free(&res[i]);
    }
    result_free(&ref);
}
END_TEST

static Suite *embed_suite(void)
{
    Suite *s = suite_create("embed");
    TCase *log = tcase_create("log");
    tcase_set_timeout(log, 120);
    tcase_add_test(log, fallback_notice_goes_through_the_hook_once);
    tcase_add_test(log, set_log_replaces_the_hook);
    suite_add_tcase(s, log);

    TCase *th = tcase_create("threads");
    tcase_set_timeout(th, 300);
    tcase_add_test(th, two_contexts_in_two_threads);
    tcase_add_test(th, many_cpu_contexts_at_once);
    suite_add_tcase(s, th);
    return s;
}

int main(int argc, char **argv)
{
    ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    if (n > 0)
        self_path[n] = '\0';
    else
        snprintf(self_path, sizeof self_path, "%s", argv[0]);
    if (argc > 1 && strcmp(argv[1], LOG_CHILD_FLAG) == 0)
        return log_hook_child();
    tu_skip_if_no_device();
    return tu_run(embed_suite());
}
