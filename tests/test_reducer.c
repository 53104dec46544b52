/* The gradient-reduction hook (clcnn_model_set_reducer) with a fake
 * communicator: N threads, each with its own context and model, sum their
 * buffers through a barrier, as MPI_Allreduce would between processes.
 * N = 1, 2, 3 ranks must train the model one process trains (up to the
 * order of float sums), evaluate to the same figures, and fail cleanly
 * when the hook fails. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define MAX_RANKS 3
#define H 8
#define CLASSES 3
#define COUNT 101 /* with batch 10 the last batch has 1 example: empty shares */
#define BATCH 10
#define EPOCHS 2
#define SEED 5

/* The fake communicator every rank's hooks share. */
typedef struct comm {
    unsigned size;
    pthread_barrier_t barrier;
    void *buf[MAX_RANKS];
    double scratch[4096];
    size_t examples[MAX_RANKS], batch[MAX_RANKS]; /* of the last gradient call */
    int bad_counts;                               /* a call whose counts do not add up */
    unsigned fail_rank;                           /* MAX_RANKS: none fails */
} comm;

typedef struct rank_user {
    comm *c;
    unsigned rank;
} rank_user;

/* Sums the ranks' buffers of n elements (float or double) in rank order. */
static int allreduce(rank_user *u, void *buf, size_t n, int is_float)
{
    comm *c = u->c;
    c->buf[u->rank] = buf;
    pthread_barrier_wait(&c->barrier);
    if (u->rank == 0)
        for (size_t i = 0; i < n; i++) {
            double s = 0.0;
            for (unsigned r = 0; r < c->size; r++)
                s += is_float ? (double)((float *)c->buf[r])[i] : ((double *)c->buf[r])[i];
            c->scratch[i] = s;
        }
    pthread_barrier_wait(&c->barrier);
    for (size_t i = 0; i < n; i++) {
        if (is_float)
            ((float *)buf)[i] = (float)c->scratch[i];
        else
            ((double *)buf)[i] = c->scratch[i];
    }
    pthread_barrier_wait(&c->barrier);
    return 0;
}

static int reduce_gradients(void *user, float *grad, size_t count, size_t examples, size_t batch)
{
    rank_user *u = user;
    comm *c = u->c;
    if (count > sizeof c->scratch / sizeof c->scratch[0])
        return 1;
    c->examples[u->rank] = examples;
    c->batch[u->rank] = batch;
    pthread_barrier_wait(&c->barrier);
    if (u->rank == 0) {
        size_t sum = 0;
        for (unsigned r = 0; r < c->size; r++)
            sum += c->examples[r];
        if (sum != batch || sum == 0 || c->batch[c->size - 1] != batch)
            c->bad_counts = 1;
    }
    return u->rank == c->fail_rank ? 1 : allreduce(u, grad, count, 1);
}

static int reduce_sums(void *user, double *sums, size_t count)
{
    return allreduce(user, sums, count, 0);
}

static clcnn_dataset *make_data(clcnn_ctx *ctx)
{
    float *x = malloc(COUNT * H * H * sizeof *x);
    int32_t y[COUNT];
    ck_assert_ptr_nonnull(x);
    tu_fill_random(x, COUNT * H * H, 11, 0.0f, 0.5f);
    for (size_t i = 0; i < COUNT; i++) {
        y[i] = (int32_t)(i * 7 % CLASSES);
        x[i * H * H + (size_t)y[i]] = 1.0f; /* something to learn */
    }
    clcnn_dataset *ds = NULL;
    ck_assert_int_eq(clcnn_dataset_create(ctx, &ds, COUNT, H, H, 1, x, y), CLCNN_OK);
    free(x);
    return ds;
}

static clcnn_model *make_model(clcnn_ctx *ctx)
{
    clcnn_model *m = NULL;
    ck_assert_int_eq(clcnn_model_create(ctx, &m, H, H, 1), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_conv(m, 4, 3, 3, 1, 1, CLCNN_PAD_SAME, CLCNN_ACT_RELU), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_pool(m, 2, 2, 2, 2, CLCNN_POOL_MAX), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_flatten(m), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_dense(m, 12, CLCNN_ACT_RELU), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_dense(m, CLASSES, CLCNN_ACT_SOFTMAX), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_init(m, SEED), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_set_adam(m, 0.01f, 0.9f, 0.999f, 1e-7f), CLCNN_OK);
    return m;
}

/* What one rank (or the single process) ends with. */
typedef struct outcome {
    float *params; /* every parameter, layers in order */
    size_t nparams;
    double loss_sum, correct; /* of the last epoch */
    double eval_loss, eval_acc;
    int status;
    char msg[256];
} outcome;

typedef struct rank_job {
    rank_user user; /* user.c NULL: one process, no reducer */
    char checkpoint[64];
    outcome out;
} rank_job;

static int on_epoch(void *user, clcnn_train_event event, const clcnn_train_state *s)
{
    if (event == CLCNN_TRAIN_EPOCH_END) {
        outcome *o = user;
        o->loss_sum = s->loss_sum;
        o->correct = s->correct;
    }
    return 0;
}

static void read_params(clcnn_model *m, outcome *o)
{
    o->nparams = clcnn_model_param_count(m);
    o->params = malloc(o->nparams * sizeof *o->params);
    size_t off = 0, nl = clcnn_model_layer_count(m);
    for (size_t i = 0; i < nl; i++)
        for (int w = 0; w < 2; w++) {
            size_t n = clcnn_model_param_size(m, i, w);
            if (n && clcnn_model_read_param(m, i, w, o->params + off, n) == CLCNN_OK)
                off += n;
        }
}

static void *run_rank(void *arg)
{
    rank_job *j = arg;
    clcnn_ctx_options co = {.device = tu_device(), .threads = 1};
    clcnn_ctx *ctx = NULL;
    /* One at a time: PoCL's first device discovery in a process is not
     * safe from two threads at once (it crashed in hwloc/strlen here);
     * real ranks are processes of their own. */
    static pthread_mutex_t creating = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&creating);
    int created = clcnn_ctx_create_with_options(&ctx, &co);
    pthread_mutex_unlock(&creating);
    if (created != CLCNN_OK) {
        j->out.status = -100;
        clcnn_ctx_free(ctx);
        return NULL;
    }
    clcnn_dataset *ds = make_data(ctx);
    clcnn_model *m = make_model(ctx);
    if (j->user.c) {
        clcnn_reducer r = {j->user.rank, j->user.c->size, reduce_gradients, reduce_sums, &j->user};
        j->out.status = clcnn_model_set_reducer(m, &r);
    }
    clcnn_train_state state;
    clcnn_train_state_init(&state, ds, SEED, BATCH);
    clcnn_train_options opt = {.epochs = EPOCHS, .callback = on_epoch, .user = &j->out,
                               .checkpoint = j->checkpoint[0] ? j->checkpoint : NULL};
    if (j->out.status == CLCNN_OK)
        j->out.status = clcnn_model_train_run(m, ds, &state, &opt);
    if (j->out.status == CLCNN_OK)
        j->out.status = clcnn_model_evaluate(m, ds, 7, &j->out.eval_loss, &j->out.eval_acc);
    snprintf(j->out.msg, sizeof j->out.msg, "%s", clcnn_errmsg(ctx));
    read_params(m, &j->out);
    clcnn_model_free(m);
    clcnn_dataset_free(ds);
    clcnn_ctx_free(ctx);
    return NULL;
}

/* Runs `size` ranks (0: one process without a reducer) into jobs. */
static void run_job(unsigned size, unsigned fail_rank, rank_job *jobs, comm *c)
{
    memset(c, 0, sizeof *c);
    c->size = size;
    c->fail_rank = fail_rank;
    unsigned n = size ? size : 1;
    memset(jobs, 0, n * sizeof *jobs);
    if (size)
        ck_assert_int_eq(pthread_barrier_init(&c->barrier, NULL, size), 0);
    pthread_t t[MAX_RANKS];
    for (unsigned r = 0; r < n; r++) {
        jobs[r].user = (rank_user){size ? c : NULL, r};
        ck_assert_int_eq(pthread_create(&t[r], NULL, run_rank, &jobs[r]), 0);
    }
    for (unsigned r = 0; r < n; r++)
        pthread_join(t[r], NULL);
    if (size)
        pthread_barrier_destroy(&c->barrier);
}

static void close_rel(double got, double want, const char *what, unsigned size)
{
    ck_assert_msg(fabs(got - want) <= 1e-5 * fmax(fabs(want), 1.0), "%u ranks: %s %.9g, one process %.9g", size,
                  what, got, want);
}

START_TEST(test_ranks_train_like_one_process)
{
    static rank_job single[1], ranks[MAX_RANKS];
    static comm c;
    run_job(0, MAX_RANKS, single, &c);
    ck_assert_msg(single[0].out.status == CLCNN_OK, "one process: %s", single[0].out.msg);
    const outcome *want = &single[0].out;
    unsigned size = (unsigned)_i + 1;
    run_job(size, MAX_RANKS, ranks, &c);
    ck_assert_msg(!c.bad_counts, "the shares' example counts do not add up to the batch");
    for (unsigned r = 0; r < size; r++) {
        const outcome *got = &ranks[r].out;
        ck_assert_msg(got->status == CLCNN_OK, "rank %u of %u: %s", r, size, got->msg);
        ck_assert_uint_eq(got->nparams, want->nparams);
        double scale = 0.0, worst = 0.0;
        for (size_t i = 0; i < want->nparams; i++) {
            scale = fmax(scale, fabs(want->params[i]));
            worst = fmax(worst, fabs((double)got->params[i] - want->params[i]));
        }
        ck_assert_msg(worst <= 1e-5 * scale, "rank %u of %u: weights differ by %g (largest weight %g)", r, size,
                      worst, scale);
        close_rel(got->loss_sum, want->loss_sum, "last epoch's loss sum", size);
        close_rel(got->correct, want->correct, "last epoch's correct count", size);
        close_rel(got->eval_loss, want->eval_loss, "evaluated loss", size);
        close_rel(got->eval_acc, want->eval_acc, "evaluated accuracy", size);
        free(ranks[r].out.params);
    }
    /* The weights moved: the comparison above compared trained models. */
    clcnn_ctx *ctx = tu_ctx();
    clcnn_model *fresh = make_model(ctx);
    outcome init = {0};
    read_params(fresh, &init);
    double moved = 0.0;
    for (size_t i = 0; i < init.nparams; i++)
        moved = fmax(moved, fabs((double)init.params[i] - want->params[i]));
    ck_assert_msg(moved > 1e-3, "training did not change the weights (%g)", moved);
    free(init.params);
    clcnn_model_free(fresh);
    clcnn_ctx_free(ctx);
    free(single[0].out.params);
}
END_TEST

START_TEST(test_failing_hook)
{
    static rank_job ranks[MAX_RANKS];
    static comm c;
    /* Rank 0 fails before the exchange; rank 1 must not wait for it, so
     * one rank alone: the failure is its own. */
    run_job(1, 0, ranks, &c);
    ck_assert_int_eq(ranks[0].out.status, CLCNN_ERR_IO);
    ck_assert_msg(strstr(ranks[0].out.msg, "gradient reduction"), "unclear message: %s", ranks[0].out.msg);
    free(ranks[0].out.params);
}
END_TEST

START_TEST(test_rank0_alone_checkpoints)
{
    static rank_job ranks[2];
    static comm c;
    memset(&c, 0, sizeof c);
    c.size = 2;
    c.fail_rank = MAX_RANKS;
    ck_assert_int_eq(pthread_barrier_init(&c.barrier, NULL, 2), 0);
    pthread_t t[2];
    for (unsigned r = 0; r < 2; r++) {
        memset(&ranks[r], 0, sizeof ranks[r]);
        ranks[r].user = (rank_user){&c, r};
        snprintf(ranks[r].checkpoint, sizeof ranks[r].checkpoint, "reducer-rank%u.ck", r);
        remove(ranks[r].checkpoint);
        ck_assert_int_eq(pthread_create(&t[r], NULL, run_rank, &ranks[r]), 0);
    }
    for (unsigned r = 0; r < 2; r++)
        pthread_join(t[r], NULL);
    pthread_barrier_destroy(&c.barrier);
    for (unsigned r = 0; r < 2; r++) {
        ck_assert_msg(ranks[r].out.status == CLCNN_OK, "rank %u: %s", r, ranks[r].out.msg);
        FILE *f = fopen(ranks[r].checkpoint, "rb");
        ck_assert_msg((f != NULL) == (r == 0), "rank %u %s a checkpoint", r, f ? "wrote" : "did not write");
        if (f)
            fclose(f);
        remove(ranks[r].checkpoint);
        free(ranks[r].out.params);
    }
}
END_TEST

START_TEST(test_set_reducer_arguments)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_model *m = make_model(ctx);
    comm c = {.size = 2};
    rank_user u = {&c, 0};
    clcnn_reducer r = {2, 2, reduce_gradients, reduce_sums, &u};
    ck_assert_int_eq(clcnn_model_set_reducer(NULL, &r), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_model_set_reducer(m, &r), CLCNN_ERR_ARGUMENT); /* rank 2 of 2 */
    r.rank = 1;
    r.sums = NULL;
    ck_assert_int_eq(clcnn_model_set_reducer(m, &r), CLCNN_ERR_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clcnn_errmsg(ctx), "hook"));
    r.sums = reduce_sums;
    ck_assert_int_eq(clcnn_model_set_reducer(m, &r), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_set_reducer(m, NULL), CLCNN_OK);
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
}
END_TEST

static Suite *reducer_suite(void)
{
    Suite *s = suite_create("reducer");
    TCase *tc = tcase_create("reducer");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_ranks_train_like_one_process, 0, MAX_RANKS);
    tcase_add_test(tc, test_failing_hook);
    tcase_add_test(tc, test_rank0_alone_checkpoints);
    tcase_add_test(tc, test_set_reducer_arguments);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    tu_skip_if_no_device();
    return tu_run(reducer_suite());
}
