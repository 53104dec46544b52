/* Running models: forward, backward, epochs and resumable runs, evaluation,
 * prediction; the loss, the optimizer and batch assembly are families of
 * src/ops/ (training.h).
 * Within a step every call is queued on the device; the host waits only
 * where it needs figures (loss reports, predictions). */
#include <math.h>
#include <string.h>

#include "bytes.h"
#include "data/dataset.h"
#include "model.h"
#include "ops/family.h"
#include "ops/training.h"

/* Small enough that evaluation buffers stay a few MB. */
#define DEFAULT_EVAL_BATCH 64
#define DEFAULT_REPORT_BATCHES 10

static layer *last_layer(clcnn_model *m)
{
    return &m->layers[m->nlayers - 1];
}

/* Layer i's forward on n examples in x, with act; a family that can run
 * the layer after it (after i's fused activation layer, if any) in the
 * same pass (forward_with_next) may do so, and *taken is then that
 * layer's index. */
static int forward_layer(clcnn_model *m, size_t i, const clcnn_buf *x, size_t n, clcnn_activation act,
                         size_t *taken)
{
    layer *l = &m->layers[i];
    const size_t next = i + 1 < m->nlayers && m->layers[i + 1].fused ? i + 2 : i + 1;
    if (next >= m->nlayers || !l->family->forward_with_next)
        return l->family->forward(m->ctx, l, x, n, act);
    int took = 0;
    int st = l->family->forward_with_next(m->ctx, l, &m->layers[next], x, n, act, &took);
    if (took)
        *taken = next;
    return st;
}

/* Runs the layers on n examples in x; with logits set, the last layer stops
 * before its activation (the loss applies the softmax).  A layer followed
 * by an activation layer fused into it applies that layer's activation,
 * and the fused layer's output is its own.  A layer whose output the layer
 * before filled (forward_layer) has no pass of its own.  In training, a
 * layer that draws random numbers (dropout) takes the seed of this step
 * and layer; the examples are those from m->batch_first of the whole
 * batch. */
static int forward(clcnn_model *m, const clcnn_buf *x, size_t n, int logits, int training)
{
    size_t taken = SIZE_MAX;
    for (size_t i = 0; i < m->nlayers; i++) {
        layer *l = &m->layers[i];
        l->training = training;
        l->noise_seed = clcnn_noise_seed(m->noise_seed, m->step, i);
        l->noise_first = training ? m->batch_first : 0;
        if (l->fused) {
            l->out = m->layers[i - 1].out;
            continue;
        }
        if (i != taken) {
            const layer *applied = i + 1 < m->nlayers && m->layers[i + 1].fused ? &m->layers[i + 1] : l;
            clcnn_activation act =
                logits && applied->index + 1 == m->nlayers ? CLCNN_ACT_IDENTITY : clcnn_layer_activation(applied);
            int st = forward_layer(m, i, x, n, act, &taken);
            if (st)
                return st;
        }
        x = l->out;
    }
    return CLCNN_OK;
}

/* From the logits' gradient in grad[0], every parameter gradient. */
static int backward(clcnn_model *m, size_t n)
{
    clcnn_ctx *ctx = m->ctx;
    int a = 0, applied = 0; /* applied: layer i's derivative is in grad[a] already */
    for (size_t i = m->nlayers; i-- > 0;) {
        layer *l = &m->layers[i];
        int st;
        /* The last layer's softmax is the loss's: grad[0] is at its logits. */
        if (i + 1 < m->nlayers && !applied && (st = clcnn_activation_backward_layer(ctx, l, m->grad[a], n)))
            return st;
        applied = 0;
        if (!l->family->backward)
            continue;
        /* The previous layer's element-wise derivative, in this dx's stores. */
        l->dx_act = CLCNN_ACT_IDENTITY;
        if (i && (l->family->flags & FAMILY_FUSES_DX_ACT)) {
            clcnn_activation act = clcnn_layer_activation(&m->layers[i - 1]);
            applied = act != CLCNN_ACT_SOFTMAX;
            if (applied)
                l->dx_act = act;
        }
        const clcnn_buf *x = i ? m->layers[i - 1].out : m->input;
        clcnn_buf *dx = i ? m->grad[1 - a] : NULL;
        if ((st = l->family->backward(ctx, l, x, m->grad[a], dx, n)))
            return st;
        a = 1 - a;
    }
    return CLCNN_OK;
}

/* One step on the batch already in m->input / m->labels. */
static int step_on_device(clcnn_model *m, size_t n)
{
    m->batch_first = 0;
    int st = forward(m, m->input, n, 1, 1);
    if (st == CLCNN_OK)
        st = clcnn_loss_accumulate(m, n, m->grad[0], n);
    if (st == CLCNN_OK)
        st = backward(m, n);
    if (st == CLCNN_OK)
        st = m->optimizer->step(m);
    return st;
}

/* ---- data parallelism through the reducer (clcnn_model_set_reducer) */

int clcnn_model_set_reducer(clcnn_model *m, const clcnn_reducer *r)
{
    if (!m)
        return CLCNN_ERR_ARGUMENT;
    if (r && (!r->gradients || !r->sums || r->size == 0 || r->rank >= r->size))
        return clcnn_error(m->ctx, CLCNN_ERR_ARGUMENT, "set_reducer: %s",
                           !r->gradients || !r->sums ? "a hook is NULL" : "rank must be below size (from 1)");
    m->reduced = r != NULL;
    m->reducer = r ? *r : (clcnn_reducer){0};
    return CLCNN_OK;
}

/* This process's share of n examples: [*first, *first + return). */
static size_t share_of(const clcnn_model *m, size_t n, size_t *first)
{
    if (!m->reduced) {
        *first = 0;
        return n;
    }
    size_t r = m->reducer.rank, size = m->reducer.size;
    *first = n * r / size;
    return n * (r + 1) / size - *first;
}

/* Every parameter gradient, contiguous on the host (the reducer's layout). */
static size_t grad_count(const clcnn_model *m)
{
    size_t count = 0;
    for (size_t i = 0; i < m->nlayers; i++)
        for (size_t p = 0; p < m->layers[i].nparams; p++)
            count += m->layers[i].params[p].count;
    return count;
}

/* Copies every parameter gradient to host (to_host) or back. */
static int stage_gradients(clcnn_model *m, float *host, int to_host)
{
    clcnn_ctx *ctx = m->ctx;
    size_t off = 0;
    for (size_t i = 0; i < m->nlayers; i++)
        for (size_t p = 0; p < m->layers[i].nparams; p++) {
            param *pr = &m->layers[i].params[p];
            size_t bytes = pr->count * sizeof *host;
            int st = to_host ? ctx->ops->read(ctx->bctx, pr->grad, 0, host + off, bytes)
                             : ctx->ops->write(ctx->bctx, pr->grad, 0, host + off, bytes);
            if (st)
                return st;
            off += pr->count;
        }
    return CLCNN_OK;
}

/* The step's gradients summed over every process, through the host buffer;
 * local 0: this process computed none, it adds zeros. */
static int reduce_gradients(clcnn_model *m, float *host, size_t local, size_t batch, const char *who)
{
    size_t count = grad_count(m);
    int st = CLCNN_OK;
    if (local == 0)
        memset(host, 0, count * sizeof *host);
    else if ((st = stage_gradients(m, host, 1)))
        return st;
    if (m->reducer.gradients(m->reducer.user, host, count, local, batch))
        return clcnn_error(m->ctx, CLCNN_ERR_IO, "%s: the gradient reduction (rank %u of %u) failed", who,
                           m->reducer.rank, m->reducer.size);
    return stage_gradients(m, host, 0);
}

/* One step on the batch of `batch` examples at position of the epoch's
 * order in d, of which this process takes its share (all of them without a
 * reducer); host is the reducer's staging buffer. */
static int step_shared(clcnn_model *m, const device_data *d, size_t position, size_t batch, float *host,
                       const char *who)
{
    if (!m->reduced) {
        int st = clcnn_gather_train_batch(m, d, position, batch);
        return st ? st : step_on_device(m, batch);
    }
    size_t first, n = share_of(m, batch, &first);
    int st = CLCNN_OK;
    m->batch_first = first; /* the masks of one process's whole batch */
    if (n && ((st = clcnn_gather_train_batch(m, d, position + first, n)) ||
              (st = forward(m, m->input, n, 1, 1)) ||
              (st = clcnn_loss_accumulate(m, n, m->grad[0], batch)) || (st = backward(m, n))))
        return st;
    if ((st = reduce_gradients(m, host, n, batch, who)))
        return st;
    return m->optimizer->step(m);
}

/* The loss and correct sums of every process (this one's without a
 * reducer). */
static int read_sums(clcnn_model *m, double *loss_sum, double *correct, const char *who)
{
    int st = clcnn_loss_read_sums(m, loss_sum, correct, who);
    if (st || !m->reduced)
        return st;
    double sums[2] = {*loss_sum, *correct};
    if (m->reducer.sums(m->reducer.user, sums, 2))
        return clcnn_error(m->ctx, CLCNN_ERR_IO, "%s: the reduction of the loss sums (rank %u of %u) failed", who,
                           m->reducer.rank, m->reducer.size);
    *loss_sum = sums[0];
    *correct = sums[1];
    return CLCNN_OK;
}

/* read_sums as means over n examples (either output may be NULL). */
static int read_means(clcnn_model *m, size_t n, double *loss, double *accuracy, const char *who)
{
    double l = 0.0, a = 0.0;
    int st = read_sums(m, &l, &a, who);
    if (st)
        return st;
    if (loss)
        *loss = l / (double)n;
    if (accuracy)
        *accuracy = a / (double)n;
    return CLCNN_OK;
}

/* Rank 0 alone writes files. */
static int writes_files(const clcnn_model *m)
{
    return !m->reduced || m->reducer.rank == 0;
}

static int check_dataset(clcnn_model *m, const clcnn_dataset *ds, const char *who)
{
    if (!ds)
        return clcnn_error(m->ctx, CLCNN_ERR_ARGUMENT, "%s: NULL data set", who);
    if (ds->count == 0)
        return clcnn_error(m->ctx, CLCNN_ERR_ARGUMENT, "%s: the data set is empty", who);
    if (ds->h != m->in_shape[0] || ds->w != m->in_shape[1] || ds->c != m->in_shape[2])
        return clcnn_error(m->ctx, CLCNN_ERR_SHAPE, "%s: the data set's images are %zux%zux%zu, the model takes %zux%zux%zu",
                           who, ds->h, ds->w, ds->c, m->in_shape[0], m->in_shape[1], m->in_shape[2]);
    if ((size_t)ds->classes > clcnn_model_classes(m))
        return clcnn_error(m->ctx, CLCNN_ERR_SHAPE, "%s: the data set has labels up to %d, the model has %zu classes",
                           who, ds->classes - 1, clcnn_model_classes(m));
    if (ds->count > INT32_MAX)
        return clcnn_error(m->ctx, CLCNN_ERR_ARGUMENT, "%s: data sets above %d examples are not supported", who,
                           INT32_MAX);
    return CLCNN_OK;
}

int clcnn_model_train_step(clcnn_model *m, const float *images, const int32_t *labels, size_t count, float *loss,
                           float *accuracy)
{
    static const char who[] = "train_step";
    if (!m)
        return CLCNN_ERR_ARGUMENT;
    clcnn_ctx *ctx = m->ctx;
    int st;
    if (!images || !labels || count == 0)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: %s", who, count ? "NULL images or labels" : "empty batch");
    if ((st = clcnn_loss_check_model(m, who)) || (st = clcnn_loss_check_labels(m, labels, count, who)) ||
        (st = clcnn_model_reserve(m, count)))
        return st;
    size_t row = clcnn_shape_size(m->in_shape);
    double l = 0.0, a = 0.0;
    if ((st = ctx->ops->write(ctx->bctx, m->input, 0, images, count * row * sizeof *images)) ||
        (st = ctx->ops->write(ctx->bctx, m->labels, 0, labels, count * sizeof *labels)) ||
        (st = clcnn_loss_reset(m, 0.0, 0.0)) || (st = step_on_device(m, count)) ||
        (st = clcnn_loss_read(m, count, &l, &a, who)))
        return st;
    if (loss)
        *loss = (float)l;
    if (accuracy)
        *accuracy = (float)a;
    return CLCNN_OK;
}

uint64_t clcnn_epoch_seed(uint64_t seed, uint32_t epoch)
{
    return seed * 1000003u + epoch;
}

uint32_t clcnn_dataset_fingerprint(const clcnn_dataset *ds)
{
    if (!ds)
        return 0;
    uint32_t crc = 0;
    for (size_t i = 0; i < ds->count; i++) {
        unsigned char b[4];
        put_le32(b, (uint32_t)ds->labels[i]);
        crc = clcnn_crc32(crc, b, 4);
    }
    return crc;
}

/* Called after every step of walk_epoch with the examples done so far (it
 * may read the running sums with read_sums); returns 0 to go on, 1 to stop
 * the epoch there, or a failure status. */
typedef int (*step_hook)(void *user, clcnn_model *m, size_t done, size_t total);

/* One epoch from the position in from (NULL: its start); *done receives
 * the examples done when it ended or stopped. */
static int walk_epoch(clcnn_model *m, const clcnn_dataset *ds, size_t batch_size, uint64_t shuffle_seed,
                      const clcnn_train_state *from, step_hook hook, void *user, size_t *done_out, const char *who)
{
    clcnn_ctx *ctx = m->ctx;
    int st;
    if (batch_size == 0)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: the batch size must be at least 1", who);
    if ((st = clcnn_loss_check_model(m, who)) || (st = check_dataset(m, ds, who)))
        return st;
    size_t n = ds->count;
    if (batch_size > n)
        batch_size = n;
    size_t start = from ? (size_t)from->done : 0;
    if (from && (from->done > n || !(from->loss_sum >= 0.0) || !(from->correct >= 0.0)))
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: cannot resume at example %llu of %zu", who,
                           (unsigned long long)from->done, n);

    int32_t *order = clcnn_mem_array(&ctx->allocator, n, sizeof *order);
    if (!order)
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory", who);
    clcnn_rng rng;
    clcnn_rng_seed(&rng, shuffle_seed);
    for (size_t i = 0; i < n; i++)
        order[i] = (int32_t)i;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)clcnn_rng_below(&rng, i + 1);
        int32_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }

    size_t ngrad = m->reduced ? grad_count(m) : 0;
    float *host = ngrad ? clcnn_mem_array(&ctx->allocator, ngrad, sizeof *host) : NULL;
    device_data d;
    if (ngrad && !host)
        st = clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory", who);
    else if ((st = clcnn_model_reserve(m, batch_size)) == CLCNN_OK &&
             (st = clcnn_device_data_upload(ctx, ds, order, &d)) == CLCNN_OK &&
             (st = clcnn_device_data_draws(m, &d, shuffle_seed)))
        clcnn_device_data_free(ctx, &d);
    if (st) {
        clcnn_mem_free(&ctx->allocator, host, ngrad * sizeof *host);
        clcnn_mem_free(&ctx->allocator, order, n * sizeof *order);
        return st;
    }
    /* A resumed state's sums are every process's: counted once, on rank 0. */
    int own = from && writes_files(m);
    st = clcnn_loss_reset(m, own ? from->loss_sum : 0.0, own ? from->correct : 0.0);
    size_t done = start;
    while (st == CLCNN_OK && done < n) {
        size_t mb = n - done < batch_size ? n - done : batch_size;
        if ((st = step_shared(m, &d, done, mb, host, who)))
            break;
        done += mb;
        int h = hook(user, m, done, n);
        if (h < 0)
            st = h;
        if (h)
            break;
    }
    clcnn_device_data_free(ctx, &d);
    clcnn_mem_free(&ctx->allocator, host, ngrad * sizeof *host);
    clcnn_mem_free(&ctx->allocator, order, n * sizeof *order);
    *done_out = done;
    return st;
}

/* clcnn_model_train_epoch's reports: every report_every examples. */
typedef struct progress_hook {
    clcnn_progress_fn progress;
    void *user;
    size_t report_every, next_report;
    const char *who;
} progress_hook;

static int report_progress(void *user, clcnn_model *m, size_t done, size_t total)
{
    progress_hook *p = user;
    /* Reading the sums waits for the device: with nothing to report to, the
     * epoch's end reads them once (with a reducer every process still takes
     * part in each report's reduction of the sums, as it may have a
     * callback where this one has none). */
    if ((done < p->next_report && done < total) || (!p->progress && !m->reduced))
        return 0;
    p->next_report = done + p->report_every;
    double l = 0.0, a = 0.0;
    int st = read_means(m, done, &l, &a, p->who);
    if (st)
        return st;
    return p->progress && p->progress(p->user, done, total, l, a) ? 1 : 0;
}

int clcnn_model_train_epoch(clcnn_model *m, const clcnn_dataset *ds, size_t batch_size, uint64_t shuffle_seed,
                            clcnn_progress_fn progress, void *user, size_t report_every, double *loss,
                            double *accuracy)
{
    return clcnn_model_train_epoch_from(m, ds, batch_size, shuffle_seed, NULL, progress, user, report_every, loss,
                                        accuracy);
}

int clcnn_model_train_epoch_from(clcnn_model *m, const clcnn_dataset *ds, size_t batch_size, uint64_t shuffle_seed,
                                 const clcnn_train_state *from, clcnn_progress_fn progress, void *user,
                                 size_t report_every, double *loss, double *accuracy)
{
    static const char who[] = "train";
    if (!m)
        return CLCNN_ERR_ARGUMENT;
    if (report_every == 0)
        report_every = DEFAULT_REPORT_BATCHES * (batch_size ? batch_size : 1);
    size_t start = from ? (size_t)from->done : 0;
    progress_hook p = {progress, user, report_every, start + report_every, who};
    size_t done = 0;
    int st = walk_epoch(m, ds, batch_size, shuffle_seed, from, report_progress, &p, &done, who);
    double l = 0.0, a = 0.0;
    if (st == CLCNN_OK)
        st = read_means(m, done, &l, &a, who);
    if (st)
        return st;
    if (loss)
        *loss = l;
    if (accuracy)
        *accuracy = a;
    return CLCNN_OK;
}

int clcnn_train_state_init(clcnn_train_state *state, const clcnn_dataset *ds, uint64_t seed, size_t batch_size)
{
    if (!state || !ds || batch_size == 0 || batch_size > UINT32_MAX)
        return CLCNN_ERR_ARGUMENT;
    *state = (clcnn_train_state){.seed = seed, .epoch = 1, .batch_size = (uint32_t)batch_size,
                                 .data_count = ds->count, .data_crc = clcnn_dataset_fingerprint(ds)};
    return CLCNN_OK;
}

/* clcnn_model_train_run's stops within an epoch: checkpoints and reports. */
typedef struct run_hook {
    const clcnn_train_options *opt;
    clcnn_train_state *state;
    size_t report_every;
    int stopped; /* the callback asked to stop */
} run_hook;

/* Brings state->done, the sums and the step count to where m stands. */
static int update_state(clcnn_model *m, clcnn_train_state *state, size_t done, const char *who)
{
    state->done = done;
    state->step = m->step;
    return read_sums(m, &state->loss_sum, &state->correct, who);
}

static int run_step(void *user, clcnn_model *m, size_t done, size_t total)
{
    static const char who[] = "train";
    run_hook *r = user;
    const clcnn_train_options *o = r->opt;
    int save = o->checkpoint && o->checkpoint_every && m->step % o->checkpoint_every == 0 && done < total;
    /* Steps counted from the epoch's start, so that a resumed run reports
     * at the same places. */
    size_t steps = (done + r->state->batch_size - 1) / r->state->batch_size;
    int report = o->callback && (steps % r->report_every == 0 || done == total);
    if (!save && !report)
        return 0;
    int st = update_state(m, r->state, done, who);
    if (st == CLCNN_OK && save && writes_files(m))
        st = clcnn_model_save_checkpoint(m, o->checkpoint, r->state);
    if (st)
        return st;
    r->stopped = report && o->callback(o->user, CLCNN_TRAIN_PROGRESS, r->state);
    return r->stopped;
}

int clcnn_model_train_run(clcnn_model *m, const clcnn_dataset *ds, clcnn_train_state *state,
                          const clcnn_train_options *options)
{
    static const char who[] = "train";
    if (!m)
        return CLCNN_ERR_ARGUMENT;
    clcnn_ctx *ctx = m->ctx;
    if (!ds || !state || !options)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: NULL %s", who, !ds ? "data set" : !state ? "state" : "options");
    if (state->epoch == 0)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: epochs count from 1, the state says 0", who);
    if (state->data_count != ds->count || state->data_crc != clcnn_dataset_fingerprint(ds))
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT,
                           "%s: the state was recorded on other data (%llu training images, labels CRC %08x; this "
                           "set has %zu, CRC %08x): resume on the same training set",
                           who, (unsigned long long)state->data_count, (unsigned)state->data_crc, ds->count,
                           (unsigned)clcnn_dataset_fingerprint(ds));
    if (m->schedule.s.kind == CLCNN_LR_PLATEAU && !options->valid)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT,
                           "%s: a plateau learning-rate schedule needs validation data (options->valid)", who);
    run_hook r = {options, state, options->report_every ? options->report_every : DEFAULT_REPORT_BATCHES, 0};
    while (state->epoch <= options->epochs) {
        state->step = m->step;
        if (options->callback && options->callback(options->user, CLCNN_TRAIN_EPOCH_BEGIN, state))
            return CLCNN_OK;
        size_t done = 0;
        int st = walk_epoch(m, ds, state->batch_size, clcnn_epoch_seed(state->seed, state->epoch), state, run_step,
                            &r, &done, who);
        if (st == CLCNN_OK)
            st = update_state(m, state, done, who);
        if (st || r.stopped)
            return st;
        clcnn_train_state finished = *state;
        /* The schedule sets the next epoch's rate before the checkpoint
         * that epoch resumes from. */
        if (options->valid && (st = clcnn_model_evaluate(m, options->valid, 0, &finished.valid_loss,
                                                         &finished.valid_accuracy)))
            return st;
        finished.validated = options->valid != NULL;
        if ((st = clcnn_model_lr_schedule_epoch(m, finished.epoch, options->valid ? finished.valid_loss : NAN)))
            return st;
        *state = (clcnn_train_state){.seed = state->seed, .epoch = state->epoch + 1, .batch_size = state->batch_size,
                                     .data_count = state->data_count, .data_crc = state->data_crc, .step = m->step};
        if (options->checkpoint && writes_files(m) &&
            (st = clcnn_model_save_checkpoint(m, options->checkpoint, state)))
            return st;
        if (options->callback && options->callback(options->user, CLCNN_TRAIN_EPOCH_END, &finished))
            return CLCNN_OK;
    }
    return CLCNN_OK;
}

int clcnn_model_evaluate(clcnn_model *m, const clcnn_dataset *ds, size_t batch_size, double *loss, double *accuracy)
{
    static const char who[] = "evaluate";
    if (!m)
        return CLCNN_ERR_ARGUMENT;
    clcnn_ctx *ctx = m->ctx;
    int st;
    if ((st = clcnn_loss_check_model(m, who)) || (st = check_dataset(m, ds, who)))
        return st;
    size_t n = ds->count;
    if (batch_size == 0)
        batch_size = DEFAULT_EVAL_BATCH;
    if (batch_size > n)
        batch_size = n;
    int32_t *order = clcnn_mem_array(&ctx->allocator, n, sizeof *order);
    if (!order)
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory", who);
    for (size_t i = 0; i < n; i++)
        order[i] = (int32_t)i;
    device_data d;
    if ((st = clcnn_model_reserve(m, batch_size)) || (st = clcnn_device_data_upload(ctx, ds, order, &d))) {
        clcnn_mem_free(&ctx->allocator, order, n * sizeof *order);
        return st;
    }
    /* With a reducer, this process's share of the set, the sums reduced. */
    size_t first, mine = share_of(m, n, &first);
    st = clcnn_loss_reset(m, 0.0, 0.0);
    for (size_t done = 0; st == CLCNN_OK && done < mine; done += batch_size) {
        size_t mb = mine - done < batch_size ? mine - done : batch_size;
        if ((st = clcnn_gather_batch(m, &d, first + done, mb)) || (st = forward(m, m->input, mb, 1, 0)))
            break;
        st = clcnn_loss_accumulate(m, mb, NULL, mb);
    }
    if (st == CLCNN_OK)
        st = read_means(m, n, loss, accuracy, who);
    clcnn_device_data_free(ctx, &d);
    clcnn_mem_free(&ctx->allocator, order, n * sizeof *order);
    return st;
}

int clcnn_model_predict(clcnn_model *m, const float *images, size_t count, float *probs)
{
    static const char who[] = "predict";
    if (!m)
        return CLCNN_ERR_ARGUMENT;
    clcnn_ctx *ctx = m->ctx;
    if (!images || !probs || count == 0)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: %s", who, count ? "NULL images or probs" : "no examples");
    if (m->nlayers == 0)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: the model has no layers", who);
    size_t batch = count < DEFAULT_EVAL_BATCH ? count : DEFAULT_EVAL_BATCH;
    if (batch < m->capacity)
        batch = count < m->capacity ? count : m->capacity;
    int st = clcnn_model_reserve(m, batch);
    size_t row = clcnn_shape_size(m->in_shape), k = clcnn_model_classes(m);
    for (size_t done = 0; st == CLCNN_OK && done < count; done += batch) {
        size_t mb = count - done < batch ? count - done : batch;
        if ((st = ctx->ops->write(ctx->bctx, m->input, 0, images + done * row, mb * row * sizeof *images)) ||
            (st = forward(m, m->input, mb, 0, 0)))
            break;
        st = ctx->ops->read(ctx->bctx, last_layer(m)->out, 0, probs + done * k, mb * k * sizeof *probs);
    }
    return st;
}
