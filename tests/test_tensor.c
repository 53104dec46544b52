/* Tensors: create, write, read, shape, count, free, reuse; context basics. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

START_TEST(context_basics)
{
    clcnn_ctx *ctx = tu_ctx();
    ck_assert_str_eq(clcnn_version(), CLCNN_VERSION_STRING);
    const char *backend = clcnn_ctx_backend(ctx);
    ck_assert_ptr_nonnull(backend);
    /* the suite's device is what CLCNN_DEVICE asked for */
    if (strcmp(tu_device(), "cpu") == 0)
        ck_assert_str_eq(backend, "cpu");
    else if (strncmp(tu_device(), "opencl", 6) == 0)
        ck_assert_str_eq(backend, "opencl");
    const char *dev = clcnn_ctx_device_name(ctx);
    ck_assert_ptr_nonnull(dev);
    ck_assert_str_ne(dev, "");
    ck_assert_int_eq(clcnn_ctx_finish(ctx), CLCNN_OK);
    clcnn_ctx_free(ctx);
}
END_TEST

/* Every rank 1..4: shape, rank and count as created, zero contents, exact
 * round trip, and an overwrite that replaces every element. */
START_TEST(create_write_read)
{
    static const size_t shapes[4][4] = {{7}, {3, 5}, {2, 3, 4}, {2, 3, 4, 5}};
    int rank = _i + 1;
    clcnn_ctx *ctx = tu_ctx();
    clcnn_tensor *t = NULL;
    ck_assert_int_eq(clcnn_tensor_create(ctx, &t, rank, shapes[_i]), CLCNN_OK);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(clcnn_tensor_rank(t), rank);
    size_t shape[CLCNN_MAX_RANK] = {991, 992, 993, 994}, count = 1;
    clcnn_tensor_shape(t, shape);
    for (int d = 0; d < rank; d++) {
        ck_assert_uint_eq(shape[d], shapes[_i][d]);
        count *= shapes[_i][d];
    }
    for (int d = rank; d < CLCNN_MAX_RANK; d++)
        ck_assert_uint_eq(shape[d], (size_t)991 + (size_t)d); /* only rank entries are written */
    ck_assert_uint_eq(clcnn_tensor_count(t), count);

    float *got = tu_read(t);
    for (size_t i = 0; i < count; i++)
        ck_assert_msg(got[i] == 0.0f, "new tensor [%zu] = %g, want 0", i, got[i]);
    free(got);

    float *v = malloc(count * sizeof *v);
    ck_assert_ptr_nonnull(v);
    tu_fill_random(v, count, 42u + (unsigned)_i, -1e3f, 1e3f);
    ck_assert_int_eq(clcnn_tensor_write(t, v, count), CLCNN_OK);
    got = tu_read(t);
    ck_assert_msg(memcmp(got, v, count * sizeof *v) == 0, "round trip of rank %d is not exact", rank);
    free(got);

    for (size_t i = 0; i < count; i++)
        v[i] = -(float)i;
    ck_assert_int_eq(clcnn_tensor_write(t, v, count), CLCNN_OK);
    got = tu_read(t);
    ck_assert_msg(memcmp(got, v, count * sizeof *v) == 0, "overwrite of rank %d is not exact", rank);
    free(got);
    free(v);
    clcnn_tensor_free(t);
    clcnn_ctx_free(ctx);
}
END_TEST

/* Special float values travel unchanged (no arithmetic on the way). */
START_TEST(special_values)
{
    clcnn_ctx *ctx = tu_ctx();
    const float v[6] = {0.0f, -0.0f, 1e-40f /* subnormal */, 3.4e38f, -1.17549435e-38f, 1.0f / 3.0f};
    size_t n = 6;
    clcnn_tensor *t = tu_tensor(ctx, 1, &n, v);
    float *got = tu_read(t);
    ck_assert_msg(memcmp(got, v, sizeof v) == 0, "special values changed");
    free(got);
    clcnn_tensor_free(t);
    clcnn_ctx_free(ctx);
}
END_TEST

/* Many tensors live side by side; freeing some leaves the others intact. */
START_TEST(independent_tensors)
{
    enum { N = 16 };
    clcnn_ctx *ctx = tu_ctx();
    clcnn_tensor *ts[N];
    float vals[N][10];
    for (int k = 0; k < N; k++) {
        size_t shape[2] = {2, 5};
        for (int i = 0; i < 10; i++)
            vals[k][i] = (float)(k * 100 + i);
        ts[k] = tu_tensor(ctx, 2, shape, vals[k]);
    }
    for (int k = 0; k < N; k += 2) {
        clcnn_tensor_free(ts[k]);
        ts[k] = NULL;
    }
    for (int k = 1; k < N; k += 2) {
        float *got = tu_read(ts[k]);
        ck_assert_msg(memcmp(got, vals[k], sizeof vals[k]) == 0, "tensor %d changed when others were freed", k);
        free(got);
        clcnn_tensor_free(ts[k]);
    }
    clcnn_ctx_free(ctx);
}
END_TEST

/* A larger tensor (4 MiB) round trips exactly. */
START_TEST(large_tensor)
{
    clcnn_ctx *ctx = tu_ctx();
    size_t shape[4] = {16, 64, 64, 16};
    size_t n = 16 * 64 * 64 * 16;
    float *v = malloc(n * sizeof *v);
    ck_assert_ptr_nonnull(v);
    for (size_t i = 0; i < n; i++)
        v[i] = (float)(i % 8191) - 4000.5f;
    clcnn_tensor *t = tu_tensor(ctx, 4, shape, v);
    ck_assert_uint_eq(clcnn_tensor_count(t), n);
    float *got = tu_read(t);
    ck_assert_msg(memcmp(got, v, n * sizeof *v) == 0, "large round trip is not exact");
    free(got);
    free(v);
    clcnn_tensor_free(t);
    clcnn_ctx_free(ctx);
}
END_TEST

/* An op's output tensor reused across calls: the pointer stays, the
 * contents follow the new inputs, the inputs are not modified. */
START_TEST(output_reuse)
{
    clcnn_ctx *ctx = tu_ctx();
    size_t xs[4] = {1, 4, 4, 1};
    float a[16], b[16];
    for (int i = 0; i < 16; i++) {
        a[i] = (float)i;
        b[i] = (float)(100 - i);
    }
    clcnn_tensor *x = tu_tensor(ctx, 4, xs, a), *y = NULL;
    ck_assert_int_eq(clcnn_pool_forward(ctx, x, 2, 2, 2, 2, CLCNN_POOL_MAX, &y), CLCNN_OK);
    clcnn_tensor *keep = y;
    float *got = tu_read(y);
    /* windows of 0..15 in a 4x4 grid: maxima 5, 7, 13, 15 */
    ck_assert_float_eq(got[0], 5);
    ck_assert_float_eq(got[1], 7);
    ck_assert_float_eq(got[2], 13);
    ck_assert_float_eq(got[3], 15);
    free(got);
    ck_assert_int_eq(clcnn_tensor_write(x, b, 16), CLCNN_OK);
    ck_assert_int_eq(clcnn_pool_forward(ctx, x, 2, 2, 2, 2, CLCNN_POOL_MAX, &y), CLCNN_OK);
    ck_assert_ptr_eq(y, keep);
    got = tu_read(y);
    ck_assert_float_eq(got[0], 100);
    ck_assert_float_eq(got[1], 98);
    ck_assert_float_eq(got[2], 92);
    ck_assert_float_eq(got[3], 90);
    free(got);
    got = tu_read(x);
    ck_assert_msg(memcmp(got, b, sizeof b) == 0, "pool_forward modified its input");
    free(got);
    clcnn_tensor_free(y);
    clcnn_tensor_free(x);
    clcnn_ctx_free(ctx);
}
END_TEST

/* Two contexts are independent: freeing one leaves the other's tensors. */
START_TEST(two_contexts)
{
    clcnn_ctx *c1 = tu_ctx(), *c2 = tu_ctx();
    size_t n = 3;
    const float v1[3] = {1, 2, 3}, v2[3] = {4, 5, 6};
    clcnn_tensor *t1 = tu_tensor(c1, 1, &n, v1), *t2 = tu_tensor(c2, 1, &n, v2);
    clcnn_tensor_free(t1);
    clcnn_ctx_free(c1);
    float *got = tu_read(t2);
    ck_assert_msg(memcmp(got, v2, sizeof v2) == 0, "a tensor changed when another context was freed");
    free(got);
    clcnn_tensor_free(t2);
    clcnn_ctx_free(c2);
}
END_TEST

static Suite *tensor_suite(void)
{
    Suite *s = suite_create("tensor");
    TCase *tc = tcase_create("tensor");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, context_basics);
    tcase_add_loop_test(tc, create_write_read, 0, 4);
    tcase_add_test(tc, special_values);
    tcase_add_test(tc, independent_tensors);
    tcase_add_test(tc, large_tensor);
    tcase_add_test(tc, output_reuse);
    tcase_add_test(tc, two_contexts);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(tensor_suite());
}
