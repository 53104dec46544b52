/* Faults in training: a NaN stops training with a clear error and is never
 * written into a model or checkpoint file (the last good one is kept); a
 * device out of memory mid-run is an error, not a crash. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef CLCNN_HAVE_OPENCL
#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include "clcnn_opencl.h"
#endif

#include "testutil.h"

#define BATCH 8

/* LeNet-5 with one NaN among its dense weights, and a batch to train on. */
static clcnn_model *poisoned_lenet(clcnn_ctx *ctx, float *images, int32_t *labels)
{
    clcnn_model *m = NULL;
    ck_assert_int_eq(clcnn_model_lenet5(ctx, &m), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_init(m, 3), CLCNN_OK);
    size_t n = clcnn_model_param_size(m, 5, 0);
    float *w = malloc(n * sizeof *w);
    ck_assert_ptr_nonnull(w);
    ck_assert_int_eq(clcnn_model_read_param(m, 5, 0, w, n), CLCNN_OK);
    w[17] = NAN;
    ck_assert_int_eq(clcnn_model_write_param(m, 5, 0, w, n), CLCNN_OK);
    free(w);
    tu_fill_random(images, BATCH * 28 * 28, 5, 0.0f, 1.0f);
    for (int i = 0; i < BATCH; i++)
        labels[i] = i % 10;
    return m;
}

START_TEST(nan_loss_is_an_error)
{
    clcnn_ctx *ctx = tu_ctx();
    float images[BATCH * 28 * 28];
    int32_t labels[BATCH];
    clcnn_model *m = poisoned_lenet(ctx, images, labels);
    float loss = 0.0f;
    ck_assert_int_eq(clcnn_model_train_step(m, images, labels, BATCH, &loss, NULL), CLCNN_ERR_NUMERIC);
    ck_assert_msg(strstr(clcnn_errmsg(ctx), "NaN") != NULL, "message: %s", clcnn_errmsg(ctx));

    clcnn_dataset *ds = NULL;
    ck_assert_int_eq(clcnn_dataset_create(ctx, &ds, BATCH, 28, 28, 1, images, labels), CLCNN_OK);
    double l, a;
    ck_assert_int_eq(clcnn_model_train_epoch(m, ds, 4, 1, NULL, NULL, 0, &l, &a), CLCNN_ERR_NUMERIC);
    clcnn_dataset_free(ds);
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
}
END_TEST

START_TEST(nan_is_never_saved)
{
    clcnn_ctx *ctx = tu_ctx();
    char dir[] = "/tmp/clcnn-faults-XXXXXX", path[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/run.ck", dir);

    /* A good checkpoint first: the one a failed save must leave alone. */
    clcnn_model *good = NULL;
    ck_assert_int_eq(clcnn_model_lenet5(ctx, &good), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_init(good, 1), CLCNN_OK);
    clcnn_train_state state = {.seed = 1, .epoch = 1, .batch_size = 32};
    ck_assert_int_eq(clcnn_model_save_checkpoint(good, path, &state), CLCNN_OK);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    static unsigned char before[1 << 20], after[1 << 20];
    size_t nb = fread(before, 1, sizeof before, f);
    fclose(f);

    float images[BATCH * 28 * 28];
    int32_t labels[BATCH];
    clcnn_model *bad = poisoned_lenet(ctx, images, labels);
    ck_assert_int_eq(clcnn_model_save_checkpoint(bad, path, &state), CLCNN_ERR_NUMERIC);
    ck_assert_int_eq(clcnn_model_save(bad, path), CLCNN_ERR_NUMERIC);
    f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    size_t na = fread(after, 1, sizeof after, f);
    fclose(f);
    ck_assert_uint_eq(na, nb);
    ck_assert_msg(memcmp(before, after, nb) == 0, "the good checkpoint was changed");

    clcnn_model *loaded = NULL;
    clcnn_train_state back;
    ck_assert_int_eq(clcnn_model_load_checkpoint(ctx, &loaded, path, &back), CLCNN_OK);
    ck_assert_uint_eq(back.seed, 1);
    clcnn_model_free(loaded);
    clcnn_model_free(bad);
    clcnn_model_free(good);
    unlink(path);
    rmdir(dir);
    clcnn_ctx_free(ctx);
}
END_TEST

/* The largest single buffer the device of an OpenCL context can hold, as
 * far as it says: the most of CL_DEVICE_MAX_MEM_ALLOC_SIZE and
 * CL_DEVICE_GLOBAL_MEM_SIZE.  Above both, an allocation fails on every
 * device, whether or not its driver enforces the first (some do not). */
static uint64_t opencl_buffer_limit(clcnn_ctx *ctx)
{
#ifdef CLCNN_HAVE_OPENCL
    size_t one = 1;
    clcnn_tensor *t = tu_tensor(ctx, 1, &one, NULL);
    cl_context context;
    cl_device_id device;
    cl_ulong max_alloc = 0, global = 0;
    ck_assert_int_eq(clGetMemObjectInfo(clcnn_tensor_cl_mem(t), CL_MEM_CONTEXT, sizeof context, &context, NULL),
                     CL_SUCCESS);
    ck_assert_int_eq(clGetContextInfo(context, CL_CONTEXT_DEVICES, sizeof device, &device, NULL), CL_SUCCESS);
    ck_assert_int_eq(clGetDeviceInfo(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc, NULL),
                     CL_SUCCESS);
    ck_assert_int_eq(clGetDeviceInfo(device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof global, &global, NULL), CL_SUCCESS);
    clcnn_tensor_free(t);
    printf("device_out_of_memory_mid_run: max allocation %llu bytes, global memory %llu bytes\n",
           (unsigned long long)max_alloc, (unsigned long long)global);
    return max_alloc > global ? max_alloc : global;
#else
    (void)ctx;
    ck_abort_msg("an OpenCL context in a build without OpenCL");
    return 0;
#endif
}

/* On the CPU backend the device memory is host memory, which the host
 * would overcommit and then fill: instead the context's allocator hook
 * refuses any block above CPU_BUFFER_LIMIT, a device with that limit. */
#define CPU_BUFFER_LIMIT ((size_t)256 << 20)

static void *capped_alloc(void *user, size_t size, size_t align)
{
    void *p = NULL;
    if (size > *(const size_t *)user || posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size))
        return NULL;
    return p;
}

static void capped_free(void *user, void *p, size_t size)
{
    (void)user, (void)size;
    free(p);
}

/* A device that runs out of memory in the middle of a run gives an error,
 * and the context goes on working.  The run's batch is sized from the
 * device's limit so that one activation buffer exceeds it, and the
 * allocation fails before any work is done on that batch. */
START_TEST(device_out_of_memory_mid_run)
{
    static const size_t cpu_limit = CPU_BUFFER_LIMIT;
    const clcnn_allocator capped = {capped_alloc, capped_free, (void *)&cpu_limit};
    clcnn_ctx *ctx = tu_ctx();
    uint64_t limit = CPU_BUFFER_LIMIT;
    if (strcmp(clcnn_ctx_backend(ctx), "opencl") == 0) {
        limit = opencl_buffer_limit(ctx);
    } else {
        clcnn_ctx_free(ctx);
        const clcnn_ctx_options o = {.device = tu_device(), .allocator = &capped};
        ck_assert_int_eq(clcnn_ctx_create_with_options(&ctx, &o), CLCNN_OK);
    }
    /* Many channels, so that the images stay small next to the first
     * layer's output (1024 times smaller). */
    enum { CHANNELS = 1024 };
    const uint64_t example_bytes = 28 * 28 * CHANNELS * sizeof(float);
    const size_t n = (size_t)(limit / example_bytes + 1);
    float *images = calloc(n * 784, sizeof *images);
    int32_t *labels = calloc(n, sizeof *labels);
    ck_assert_ptr_nonnull(images);
    ck_assert_ptr_nonnull(labels);
    clcnn_dataset *ds = NULL;
    ck_assert_int_eq(clcnn_dataset_create(ctx, &ds, n, 28, 28, 1, images, labels), CLCNN_OK);
    clcnn_model *m = NULL;
    ck_assert_int_eq(clcnn_model_create(ctx, &m, 28, 28, 1), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_conv(m, CHANNELS, 3, 3, 1, 1, CLCNN_PAD_SAME, CLCNN_ACT_RELU), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_flatten(m), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_dense(m, 10, CLCNN_ACT_SOFTMAX), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_init(m, 1), CLCNN_OK);
    double l, a;
    int st = clcnn_model_train_epoch(m, ds, n, 1, NULL, NULL, 0, &l, &a);
    ck_assert_msg(st == CLCNN_ERR_NOMEM || st == CLCNN_ERR_OPENCL || st == CLCNN_ERR_UNSUPPORTED,
                  "%zu examples of %llu bytes of activations over a limit of %llu bytes: status %d: %s", n,
                  (unsigned long long)example_bytes, (unsigned long long)limit, st, clcnn_errmsg(ctx));
    ck_assert_msg(strlen(clcnn_errmsg(ctx)) > 0, "no message");
    /* The same model still trains at a batch the device can hold. */
    ck_assert_int_eq(clcnn_model_train_step(m, images, labels, 16, NULL, NULL), CLCNN_OK);
    clcnn_model_free(m);
    clcnn_dataset_free(ds);
    free(images);
    free(labels);
    clcnn_ctx_free(ctx);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("numeric");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, nan_loss_is_an_error);
    tcase_add_test(tc, nan_is_never_saved);
    tcase_add_test(tc, device_out_of_memory_mid_run);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
