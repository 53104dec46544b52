/*
 * The allocator hook (clcnn_allocator, clcnn_ctx_create_with_options).
 *
 * The counting allocator of testutil (tu_counter) records every block it
 * gives out (size, alignment) and takes back; its blocks are aligned to
 * exactly what was asked, filled with garbage and poisoned when they come
 * back (so that the asan and valgrind setups see misuse as well).
 *
 * - every_block_comes_back: a context made with the hook runs the four
 *   operations, loads data (an IDX directory, gzip'd and raw, an .npz with
 *   deflated members, one IDX file), builds, initialises, trains,
 *   evaluates, saves and loads a model and a checkpoint, splits and creates
 *   data sets, reads an .npy (freed with clcnn_free) and lists devices; the
 *   data sets are freed after the context.  Then every block the hook gave
 *   out is back, with the size it was given with; nothing else was freed;
 *   the peak is non-zero; the context is the first block; alignments are
 *   powers of two and the CPU backend's buffers are 64-byte aligned; the
 *   hook was only ever called on the test's thread.
 * - every_failure_point: the same with an allocator that fails every
 *   allocation after the first N, for N = 0, 1, ... until the whole run
 *   needs no more: each run stops at a call that returns CLCNN_ERR_NOMEM
 *   with a message about memory (never another status), and every block is
 *   back afterwards.
 * - options: a half-set allocator, NULL options, a failed context (which
 *   also comes from the hook), a device name with OpenCL handles, the log
 *   hook given through the options.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "internal.h" /* struct clcnn_ctx (its size, clearing its message), tensors' buffers */
#include "testutil.h"

/* ---------------------------------------------------------------- files */

static char dir[64];

static const char *path_in_dir(const char *name)
{
    static char p[4][128];
    static int next;
    char *out = p[next++ % 4];
    snprintf(out, sizeof p[0], "%s/%s", dir, name);
    return out;
}

/* 16 images of 8x8 (pixel i = i % 256) and labels i % 4, as IDX files
 * (gzip'd for the training split), in dir/idx/ and dir/. */
#define N_IMG 16
#define IMG 8
static void write_idx(const char *path, int rank, const uint32_t *dims, const unsigned char *data, size_t len,
                      int gzip)
{
    unsigned char head[16] = {0, 0, 0x08, (unsigned char)rank};
    for (int i = 0; i < rank; i++)
        for (int k = 0; k < 4; k++)
            head[4 + 4 * i + k] = (unsigned char)(dims[i] >> (24 - 8 * k));
    size_t hlen = 4 + 4 * (size_t)rank;
    if (gzip) {
        gzFile f = gzopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(gzwrite(f, head, (unsigned)hlen), (int)hlen);
        ck_assert_int_eq(gzwrite(f, data, (unsigned)len), (int)len);
        ck_assert_int_eq(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(head, 1, hlen, f), hlen);
        ck_assert_uint_eq(fwrite(data, 1, len, f), len);
        ck_assert_int_eq(fclose(f), 0);
    }
}

static void make_files(void)
{
    /* tmpfs where there is one: the runs save models (fsync) hundreds of times */
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    snprintf(dir, sizeof dir, "%s/clcnn-alloc-XXXXXX", base);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(mkdir(path_in_dir("idx"), 0700), 0);
    static unsigned char px[N_IMG * IMG * IMG], lab[N_IMG];
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (unsigned char)(i % 256);
    for (size_t i = 0; i < N_IMG; i++)
        lab[i] = (unsigned char)(i % 4);
    const uint32_t idims[3] = {N_IMG, IMG, IMG}, ldims[1] = {N_IMG};
    write_idx(path_in_dir("idx/train-images-idx3-ubyte.gz"), 3, idims, px, sizeof px, 1);
    write_idx(path_in_dir("idx/train-labels-idx1-ubyte.gz"), 1, ldims, lab, sizeof lab, 1);
    write_idx(path_in_dir("idx/t10k-images-idx3-ubyte"), 3, idims, px, sizeof px, 0);
    write_idx(path_in_dir("idx/t10k-labels-idx1-ubyte"), 1, ldims, lab, sizeof lab, 0);
}

static void remove_files(void)
{
    const char *names[] = {"idx/train-images-idx3-ubyte.gz", "idx/train-labels-idx1-ubyte.gz",
                           "idx/t10k-images-idx3-ubyte",     "idx/t10k-labels-idx1-ubyte",
                           "m.model",                        "m.ck",
                           "a.npy",                          "idx"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        remove(path_in_dir(names[i]));
    rmdir(dir);
}

/* ------------------------------------------------------------- the run */

typedef struct outcome {
    int status;
    const char *where;   /* the call that failed */
    char message[512];   /* its message */
    char backend[16];
    int cpu_buffers_aligned;
} outcome;

/* Runs call with the context's message cleared; on failure notes the call
 * and its message and goes to the clean-up. */
#define STEP(call)                                                                      \
    do {                                                                                \
        ctx->errmsg[0] = '\0';                                                          \
        int st_ = (call);                                                               \
        if (st_ != CLCNN_OK) {                                                          \
            r.status = st_;                                                             \
            r.where = #call;                                                            \
            snprintf(r.message, sizeof r.message, "%s", clcnn_errmsg(ctx));             \
            goto out;                                                                   \
        }                                                                               \
    } while (0)

/* Everything the library allocates for, on a context with c's hook; every
 * object is freed before returning, the data sets after the context. */
static outcome run_everything(tu_counter *c)
{
    outcome r = {CLCNN_OK, "", "", "", 1};
    clcnn_ctx *ctx = NULL;
    clcnn_tensor *x = NULL, *w = NULL, *b = NULL, *a = NULL, *p = NULL, *da = NULL, *dx = NULL, *dw = NULL,
                 *db = NULL;
    clcnn_dataset *train = NULL, *test = NULL, *ntrain = NULL, *nvalid = NULL, *ntest = NULL, *tail = NULL,
                  *made = NULL, *single = NULL;
    clcnn_model *m = NULL, *loaded = NULL, *resumed = NULL;
    float *npy = NULL;

    /* Worker threads in the CPU backend, so that a hook called from one of
     * them would be seen. */
    const clcnn_ctx_options opts = {.device = tu_device(), .allocator = &c->hook, .threads = 3};
    r.status = clcnn_ctx_create_with_options(&ctx, &opts);
    if (r.status != CLCNN_OK) {
        r.where = "clcnn_ctx_create_with_options";
        snprintf(r.message, sizeof r.message, "%s", clcnn_errmsg(ctx));
        goto out;
    }
    snprintf(r.backend, sizeof r.backend, "%s", clcnn_ctx_backend(ctx));
    ck_assert_uint_eq(c->first_size, sizeof(struct clcnn_ctx));

    /* the four operations */
    const size_t xs[4] = {2, IMG, IMG, 1}, ws[4] = {3, 3, 1, 2}, bs[1] = {2};
    float xv[2 * IMG * IMG], wv[18], bv[2] = {0.1f, -0.1f}, dbv[2];
    tu_fill_random(xv, sizeof xv / sizeof *xv, 1, -1.0f, 1.0f);
    tu_fill_random(wv, sizeof wv / sizeof *wv, 2, -1.0f, 1.0f);
    STEP(clcnn_tensor_create(ctx, &x, 4, xs));
    STEP(clcnn_tensor_create(ctx, &w, 4, ws));
    STEP(clcnn_tensor_create(ctx, &b, 1, bs));
    STEP(clcnn_tensor_write(x, xv, sizeof xv / sizeof *xv));
    STEP(clcnn_tensor_write(w, wv, sizeof wv / sizeof *wv));
    STEP(clcnn_tensor_write(b, bv, 2));
    STEP(clcnn_conv_forward(ctx, x, w, b, CLCNN_ACT_RELU, CLCNN_PAD_SAME, 1, 1, &a));
    STEP(clcnn_pool_forward(ctx, a, 2, 2, 2, 2, CLCNN_POOL_MAX, &p));
    STEP(clcnn_pool_backward(ctx, p, a, 2, 2, 2, 2, CLCNN_POOL_MAX, &da));
    STEP(clcnn_conv_backward(ctx, da, x, w, b, CLCNN_PAD_SAME, 1, 1, &dx, &dw, &db));
    STEP(clcnn_tensor_read(db, dbv, 2));
    if (strcmp(r.backend, "cpu") == 0) /* there a buffer is the host array itself */
        r.cpu_buffers_aligned = (uintptr_t)(void *)x->buf % 64 == 0 && (uintptr_t)(void *)dx->buf % 64 == 0;

    /* data */
    char npz[4096];
    snprintf(npz, sizeof npz, "%s/good_compressed.npz", getenv("CLCNN_FIXTURE_DIR"));
    STEP(clcnn_data_load(ctx, path_in_dir("idx"), &train, NULL, &test));
    STEP(clcnn_data_load(ctx, npz, &ntrain, &nvalid, &ntest));
    STEP(clcnn_dataset_split_tail(ctx, train, 4, &tail));
    float img[4 * IMG * IMG];
    int32_t lab[4];
    STEP(clcnn_dataset_get(ctx, tail, 0, 4, img, lab));
    STEP(clcnn_dataset_create(ctx, &made, 4, IMG, IMG, 1, img, lab));
    STEP(clcnn_dataset_load_idx(ctx, &single, path_in_dir("idx/t10k-images-idx3-ubyte"), NULL));

    /* a model */
    float probs[4 * 4], loss, acc;
    double dloss, dacc;
    clcnn_train_state state = {.seed = 1, .epoch = 1, .batch_size = 4};
    STEP(clcnn_model_create(ctx, &m, IMG, IMG, 1));
    STEP(clcnn_model_add_conv(m, 2, 3, 3, 1, 1, CLCNN_PAD_SAME, CLCNN_ACT_RELU));
    STEP(clcnn_model_add_pool(m, 2, 2, 2, 2, CLCNN_POOL_MAX));
    STEP(clcnn_model_add_flatten(m));
    STEP(clcnn_model_add_dense(m, 4, CLCNN_ACT_SOFTMAX));
    STEP(clcnn_model_init(m, 7));
    STEP(clcnn_model_train_epoch(m, train, 4, 1, NULL, NULL, 0, &dloss, &dacc));
    STEP(clcnn_model_train_step(m, img, lab, 4, &loss, &acc));
    STEP(clcnn_model_evaluate(m, test, 5, &dloss, &dacc));
    STEP(clcnn_model_predict(m, img, 4, probs));
    STEP(clcnn_model_save(m, path_in_dir("m.model")));
    STEP(clcnn_model_load(ctx, &loaded, path_in_dir("m.model")));
    STEP(clcnn_model_save_checkpoint(m, path_in_dir("m.ck"), &state));
    STEP(clcnn_model_load_checkpoint(ctx, &resumed, path_in_dir("m.ck"), &state));

    /* .npy: the array handed over comes from the hook */
    int rank;
    size_t shape[CLCNN_MAX_RANK];
    STEP(clcnn_npy_write(ctx, path_in_dir("a.npy"), xv, 4, xs));
    STEP(clcnn_npy_read(ctx, path_in_dir("a.npy"), &npy, &rank, shape));
    ck_assert(tu_counter_owns(c, npy));
    size_t before = c->nlive;
    clcnn_free(ctx, npy);
    npy = NULL;
    ck_assert_uint_eq(c->nlive, before - 1);

    clcnn_device_info devices[4];
    size_t ndevices;
    STEP(clcnn_devices_list(ctx, devices, 4, &ndevices));
    STEP(clcnn_ctx_finish(ctx));
out:
    clcnn_free(ctx, npy);
    clcnn_model_free(resumed);
    clcnn_model_free(loaded);
    clcnn_model_free(m);
    clcnn_tensor *ts[] = {x, w, b, a, p, da, dx, dw, db};
    for (size_t i = 0; i < sizeof ts / sizeof *ts; i++)
        clcnn_tensor_free(ts[i]);
    clcnn_ctx_free(ctx);
    /* Data sets belong to no context: they give their memory back to the
     * hook they were made with, after the context is gone. */
    clcnn_dataset *ds[] = {train, test, ntrain, nvalid, ntest, tail, made, single};
    for (size_t i = 0; i < sizeof ds / sizeof *ds; i++)
        clcnn_dataset_free(ds[i]);
    return r;
}

START_TEST(every_block_comes_back)
{
    make_files();
    tu_counter c;
    tu_counter_init(&c, -1);
    outcome r = run_everything(&c);
    ck_assert_msg(r.status == CLCNN_OK, "%s: %s: %s", r.where, clcnn_status_str(r.status), r.message);
    ck_assert_msg(c.given > 50, "only %zu blocks from the hook", c.given);
    ck_assert_msg(c.peak_bytes > 0, "the peak is 0");
    if (strcmp(r.backend, "cpu") == 0) {
        ck_assert_msg(r.cpu_buffers_aligned, "a CPU buffer is not 64-byte aligned");
        ck_assert_uint_ge(c.max_align, 64);
    }
    fprintf(stderr, "%s backend: %zu blocks, peak %zu bytes\n", r.backend, c.given, c.peak_bytes);
    tu_counter_check_clean(&c, "after a whole run");
    remove_files();
}
END_TEST

START_TEST(every_failure_point)
{
    make_files();
    long n = 0;
    for (;; n++) {
        tu_counter c;
        tu_counter_init(&c, n);
        outcome r = run_everything(&c);
        char when[64];
        snprintf(when, sizeof when, "failing after %ld allocations", n);
        tu_counter_check_clean(&c, when);
        if (r.status == CLCNN_OK && c.refused == 0)
            break; /* the run needed no more than n blocks */
        if (r.status == CLCNN_OK)
            continue; /* a refusal the library may shrug off (a shrink) */
        ck_assert_msg(r.status == CLCNN_ERR_NOMEM, "%s: %s returned %s: %s", when, r.where,
                      clcnn_status_str(r.status), r.message);
        ck_assert_msg(strstr(r.message, "memory") != NULL, "%s: %s: message \"%s\" does not say memory ran out",
                      when, r.where, r.message);
        ck_assert_msg(r.cpu_buffers_aligned, "a CPU buffer is not 64-byte aligned");
    }
    fprintf(stderr, "every failure point of %ld allocations: NOMEM and nothing leaked\n", n);
    ck_assert_int_gt(n, 50);
    remove_files();
}
END_TEST

/* ---------------------------------------------------------------- options */

typedef struct log_record {
    int count;
    void *user_seen;
} log_record;

static void record_log(void *user, const char *msg)
{
    (void)msg;
    log_record *l = user;
    l->count++;
    l->user_seen = user;
}

START_TEST(options)
{
    tu_counter c;
    clcnn_ctx *ctx = (clcnn_ctx *)&ctx; /* anything but NULL */

    /* An allocator needs both functions; nothing is allocated without. */
    tu_counter_init(&c, -1);
    clcnn_allocator half = {c.hook.alloc, NULL, &c};
    clcnn_ctx_options o = {.device = "cpu", .allocator = &half};
    ck_assert_int_eq(clcnn_ctx_create_with_options(&ctx, &o), CLCNN_ERR_ARGUMENT);
    ck_assert_ptr_null(ctx);
    half = (clcnn_allocator){NULL, c.hook.free, &c};
    ck_assert_int_eq(clcnn_ctx_create_with_options(&ctx, &o), CLCNN_ERR_ARGUMENT);
    ck_assert_uint_eq(c.given, 0);
    ck_assert_int_eq(clcnn_ctx_create_with_options(NULL, &o), CLCNN_ERR_ARGUMENT);

    /* A failed context holds its message in a block of the hook's. */
    o = (clcnn_ctx_options){.device = "no-such-device", .allocator = &c.hook};
    ck_assert_int_eq(clcnn_ctx_create_with_options(&ctx, &o), CLCNN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(ctx);
    ck_assert_msg(strstr(clcnn_errmsg(ctx), "no-such-device") != NULL, "%s", clcnn_errmsg(ctx));
    ck_assert_uint_eq(c.nlive, 1);
    clcnn_ctx_free(ctx);

    /* A device name and OpenCL handles exclude each other (the handles are
     * not looked at). */
    int fake;
    o = (clcnn_ctx_options){.device = "cpu", .allocator = &c.hook, .cl_context = (struct _cl_context *)(void *)&fake};
    ck_assert_int_eq(clcnn_ctx_create_with_options(&ctx, &o), CLCNN_ERR_ARGUMENT);
    ck_assert_msg(strstr(clcnn_errmsg(ctx), "OpenCL handles") != NULL, "%s", clcnn_errmsg(ctx));
    clcnn_ctx_free(ctx);
    tu_counter_check_clean(&c, "after failed contexts");

    /* The log hook and its user pointer, given through the options. */
    log_record rec = {0, NULL};
    o = (clcnn_ctx_options){.device = tu_device(), .log = record_log, .log_user = &rec};
    ck_assert_int_eq(clcnn_ctx_create_with_options(&ctx, &o), CLCNN_OK);
    clcnn_notice(ctx, "a notice");
    ck_assert_int_eq(rec.count, 1);
    ck_assert_ptr_eq(rec.user_seen, &rec);
    clcnn_ctx_free(ctx);

    /* NULL options: all defaults ("auto", i.e. CLCNN_DEVICE here). */
    ck_assert_int_eq(clcnn_ctx_create_with_options(&ctx, NULL), CLCNN_OK);
    ck_assert_str_eq(clcnn_ctx_backend(ctx), strncmp(tu_device(), "opencl", 6) == 0 ? "opencl" : "cpu");
    clcnn_ctx_free(ctx);
}
END_TEST

static Suite *alloc_suite(void)
{
    Suite *s = suite_create("alloc");
    TCase *tc = tcase_create("hook");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, every_block_comes_back);
    tcase_add_test(tc, every_failure_point);
    tcase_add_test(tc, options);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(alloc_suite());
}
