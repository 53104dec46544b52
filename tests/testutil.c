#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *tu_device(void)
{
    const char *d = getenv("CLCNN_DEVICE");
    return (d && *d) ? d : "cpu";
}

/* Probes the device in a child process: an OpenCL context made (and its
 * driver threads started) in the parent would not survive Check's fork. */
void tu_skip_if_no_device(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        clcnn_ctx *ctx = NULL;
        int st = clcnn_ctx_create_with_log(&ctx, tu_device(), NULL, NULL);
        if (st == CLCNN_ERR_NO_DEVICE)
            fprintf(stderr, "skipping: %s\n", clcnn_errmsg(ctx));
        _exit(st == CLCNN_ERR_NO_DEVICE ? 77 : 0);
    }
    int status = 0;
    if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 77)
        exit(77);
}

clcnn_ctx *tu_ctx(void)
{
    clcnn_ctx *ctx = NULL;
    int st = clcnn_ctx_create_with_log(&ctx, tu_device(), NULL, NULL);
    if (st == CLCNN_ERR_NO_DEVICE) {
        fprintf(stderr, "skipping: %s\n", clcnn_errmsg(ctx));
        clcnn_ctx_free(ctx);
        exit(77);
    }
    ck_assert_msg(st == CLCNN_OK, "context for %s: %s", tu_device(), ctx ? clcnn_errmsg(ctx) : "out of memory");
    return ctx;
}

clcnn_tensor *tu_tensor(clcnn_ctx *ctx, int rank, const size_t *shape, const float *data)
{
    clcnn_tensor *t = NULL;
    int st = clcnn_tensor_create(ctx, &t, rank, shape);
    ck_assert_msg(st == CLCNN_OK, "tensor_create: %s", clcnn_errmsg(ctx));
    if (data) {
        st = clcnn_tensor_write(t, data, clcnn_tensor_count(t));
        ck_assert_msg(st == CLCNN_OK, "tensor_write: %s", clcnn_errmsg(ctx));
    }
    return t;
}

clcnn_tensor *tu_golden(clcnn_ctx *ctx, const char *name)
{
    const char *dir = getenv("CLCNN_GOLDEN_DIR");
    ck_assert_msg(dir != NULL, "CLCNN_GOLDEN_DIR is not set");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.npy", dir, name);
    float *data = NULL;
    int rank = 0;
    size_t shape[CLCNN_MAX_RANK];
    int st = clcnn_npy_read(ctx, path, &data, &rank, shape);
    ck_assert_msg(st == CLCNN_OK, "golden %s: %s", name, clcnn_errmsg(ctx));
    clcnn_tensor *t = tu_tensor(ctx, rank, shape, data);
    clcnn_free(ctx, data);
    return t;
}

float *tu_read(const clcnn_tensor *t)
{
    size_t n = clcnn_tensor_count(t);
    float *x = malloc((n ? n : 1) * sizeof *x);
    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(clcnn_tensor_read(t, x, n), CLCNN_OK);
    return x;
}

float *tu_random_array(size_t n, unsigned seed, float lo, float hi)
{
    float *x = malloc((n ? n : 1) * sizeof *x);
    ck_assert_ptr_nonnull(x);
    tu_fill_random(x, n, seed, lo, hi);
    return x;
}

double tu_dot_with(const clcnn_tensor *t, const float *R)
{
    float *y = tu_read(t);
    double s = 0;
    for (size_t i = 0, n = clcnn_tensor_count(t); i < n; i++)
        s += (double)R[i] * y[i];
    free(y);
    return s;
}

void tu_assert_close(const float *got, const float *want, size_t n, double rtol, double atol, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        double g = got[i], w = want[i];
        ck_assert_msg(isfinite(g), "%s[%zu] = %g is not finite", what, i, g);
        ck_assert_msg(fabs(g - w) <= atol + rtol * fabs(w), "%s[%zu] = %.9g, want %.9g (rtol %g, atol %g)", what, i,
                      g, w, rtol, atol);
    }
}

void tu_assert_tensor_close(const clcnn_tensor *got, const clcnn_tensor *want, double rtol, double atol,
                            const char *what)
{
    size_t sg[CLCNN_MAX_RANK], sw[CLCNN_MAX_RANK];
    int r = clcnn_tensor_rank(got);
    ck_assert_msg(r == clcnn_tensor_rank(want), "%s: rank %d, want %d", what, r, clcnn_tensor_rank(want));
    clcnn_tensor_shape(got, sg);
    clcnn_tensor_shape(want, sw);
    for (int i = 0; i < r; i++)
        ck_assert_msg(sg[i] == sw[i], "%s: dim %d is %zu, want %zu", what, i, sg[i], sw[i]);
    float *g = tu_read(got), *w = tu_read(want);
    tu_assert_close(g, w, clcnn_tensor_count(got), rtol, atol, what);
    free(g);
    free(w);
}

void tu_fill_random(float *x, size_t n, unsigned seed, float lo, float hi)
{
    unsigned long long s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        x[i] = lo + (hi - lo) * (float)((s >> 40) / (double)(1ull << 24));
    }
}

int tu_rerun_without_opencl(const char *self, const char *flag)
{
    const char *tmp = getenv("TMPDIR");
    char vendors[4096];
    snprintf(vendors, sizeof vendors, "%s/clcnn-no-icd-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    ck_assert_msg(mkdtemp(vendors) != NULL, "mkdtemp failed");
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        setenv("OCL_ICD_VENDORS", vendors, 1);
        setenv("OPENCL_VENDOR_PATH", vendors, 1);
        execl(self, self, flag, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    rmdir(vendors);
    return status;
}

/* ------------------------------------------------- the counting allocator */

static void *counting_alloc(void *user, size_t size, size_t align)
{
    tu_counter *c = user;
    if (!pthread_equal(pthread_self(), c->thread))
        c->foreign_thread++;
    if (size == 0 || align == 0 || (align & (align - 1)) != 0) {
        c->bad_request++;
        return NULL;
    }
    if (c->fail_after >= 0 && c->given >= (size_t)c->fail_after) {
        c->refused++;
        return NULL;
    }
    if (c->nlive == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        tu_block *grown = realloc(c->live, cap * sizeof *grown);
        if (!grown)
            return NULL;
        c->live = grown;
        c->cap = cap;
    }
    /* Aligned to align but not to 2 * align. */
    size_t total = (size + align + 2 * align - 1) / (2 * align) * (2 * align);
    unsigned char *base = aligned_alloc(2 * align, total);
    if (!base)
        return NULL;
    unsigned char *p = base + align;
    memset(p, 0xA5, size);
    c->live[c->nlive++] = (tu_block){p, base, size, align};
    if (c->given++ == 0)
        c->first_size = size;
    c->live_bytes += size;
    if (c->live_bytes > c->peak_bytes)
        c->peak_bytes = c->live_bytes;
    if (align > c->max_align)
        c->max_align = align;
    return p;
}

static void counting_free(void *user, void *ptr, size_t size)
{
    tu_counter *c = user;
    if (!pthread_equal(pthread_self(), c->thread))
        c->foreign_thread++;
    for (size_t i = 0; i < c->nlive; i++) {
        tu_block *b = &c->live[i];
        if (b->p != ptr)
            continue;
        if (b->size != size) {
            fprintf(stderr, "free of a %zu-byte block with size %zu\n", b->size, size);
            c->bad_free++;
        }
        memset(b->p, 0x5A, b->size);
        free(b->base);
        c->live_bytes -= b->size;
        *b = c->live[--c->nlive];
        return;
    }
    fprintf(stderr, "free of %p (%zu bytes), which the hook did not give out\n", ptr, size);
    c->bad_free++;
}

void tu_counter_init(tu_counter *c, long fail_after)
{
    memset(c, 0, sizeof *c);
    c->hook = (clcnn_allocator){counting_alloc, counting_free, c};
    c->thread = pthread_self();
    c->fail_after = fail_after;
}

/* 1 when p lies inside a live block. */
int tu_counter_owns(const tu_counter *c, const void *p)
{
    const unsigned char *q = p;
    for (size_t i = 0; i < c->nlive; i++)
        if (q >= c->live[i].p && q < c->live[i].p + c->live[i].size)
            return 1;
    return 0;
}

/* Everything given out came back, and nothing else. */
void tu_counter_check_clean(tu_counter *c, const char *when)
{
    ck_assert_msg(c->nlive == 0 && c->live_bytes == 0, "%s: %zu blocks (%zu bytes) never came back", when, c->nlive,
                  c->live_bytes);
    ck_assert_msg(c->bad_free == 0, "%s: %d frees of blocks the hook did not give (or with a wrong size)", when,
                  c->bad_free);
    ck_assert_msg(c->bad_request == 0, "%s: %d requests of size 0 or a bad alignment", when, c->bad_request);
    ck_assert_msg(c->foreign_thread == 0, "%s: the hook was called %d times on another thread", when,
                  c->foreign_thread);
    free(c->live);
    c->live = NULL;
    c->cap = 0;
}

TCase *tu_learning_tcase(Suite *s, int timeout)
{
    TCase *tc = tcase_create("learning");
    tcase_set_tags(tc, "learning");
    tcase_set_timeout(tc, timeout);
    suite_add_tcase(s, tc);
    return tc;
}

int tu_run(Suite *s)
{
    tu_skip_if_no_device();
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
