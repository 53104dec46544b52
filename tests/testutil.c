#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *device_choice(void)
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
        int st = clcnn_ctx_create_with_log(&ctx, device_choice(), NULL, NULL);
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
    int st = clcnn_ctx_create_with_log(&ctx, device_choice(), NULL, NULL);
    if (st == CLCNN_ERR_NO_DEVICE) {
        fprintf(stderr, "skipping: %s\n", clcnn_errmsg(ctx));
        clcnn_ctx_free(ctx);
        exit(77);
    }
    ck_assert_msg(st == CLCNN_OK, "context for %s: %s", device_choice(), ctx ? clcnn_errmsg(ctx) : "out of memory");
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
    free(data);
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

int tu_run(Suite *s)
{
    tu_skip_if_no_device();
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
