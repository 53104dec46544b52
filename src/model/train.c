/* Running models: forward, backward, Adam, epochs, evaluation, prediction.
 * Within a step every call is queued on the device; the host waits only
 * where it needs figures (loss reports, predictions). */
#include <math.h>
#include <string.h>

#include <zlib.h>

#include "data/dataset.h"
#include "model.h"

/* Small enough that evaluation buffers stay a few MB. */
#define DEFAULT_EVAL_BATCH 64
#define DEFAULT_REPORT_BATCHES 10

static int has_activation(const layer *l)
{
    return l->cfg.kind == CLCNN_LAYER_CONV || l->cfg.kind == CLCNN_LAYER_DENSE ||
           l->cfg.kind == CLCNN_LAYER_ACTIVATION;
}

static layer *last_layer(clcnn_model *m)
{
    return &m->layers[m->nlayers - 1];
}

/* Runs the layers on n examples in x; with logits set, the last layer stops
 * before its activation (the loss applies the softmax). */
static int forward(clcnn_model *m, const clcnn_buf *x, size_t n, int logits)
{
    for (size_t i = 0; i < m->nlayers; i++) {
        layer *l = &m->layers[i];
        clcnn_activation act = has_activation(l) ? l->cfg.act : CLCNN_ACT_IDENTITY;
        if (logits && i + 1 == m->nlayers)
            act = CLCNN_ACT_IDENTITY;
        int st = l->ops->forward(m->ctx, l, x, n, act);
        if (st)
            return st;
        x = l->out;
    }
    return CLCNN_OK;
}

/* From the logits' gradient in grad[0], every parameter gradient. */
static int backward(clcnn_model *m, size_t n)
{
    clcnn_ctx *ctx = m->ctx;
    int a = 0;
    for (size_t i = m->nlayers; i-- > 0;) {
        layer *l = &m->layers[i];
        int st;
        if (has_activation(l) && i + 1 < m->nlayers && l->cfg.act != CLCNN_ACT_IDENTITY) {
            size_t cols = l->out_shape[2];
            size_t rows = n * clcnn_shape_size(l->out_shape) / cols;
            st = ctx->ops->activation_backward(ctx->bctx, l->cfg.act, rows, cols, l->out, m->grad[a], m->grad[a]);
            if (st)
                return st;
        }
        if (!l->ops->backward)
            continue;
        const clcnn_buf *x = i ? m->layers[i - 1].out : m->input;
        clcnn_buf *dx = i ? m->grad[1 - a] : NULL;
        if ((st = l->ops->backward(ctx, l, x, m->grad[a], dx, n)))
            return st;
        a = 1 - a;
    }
    return CLCNN_OK;
}

static int adam_step(clcnn_model *m)
{
    clcnn_ctx *ctx = m->ctx;
    m->step++;
    double t = (double)m->step;
    float lr_t = (float)(m->lr * sqrt(1.0 - pow(m->beta2, t)) / (1.0 - pow(m->beta1, t)));
    for (size_t i = 0; i < m->nlayers; i++)
        for (size_t p = 0; p < m->layers[i].nparams; p++) {
            param *pr = &m->layers[i].params[p];
            int st = ctx->ops->adam_update(ctx->bctx, pr->count, pr->value, pr->grad, pr->m, pr->v, lr_t, m->beta1,
                                           m->beta2, m->eps);
            if (st)
                return st;
        }
    return CLCNN_OK;
}

/* One step on the batch already in m->input / m->labels. */
static int step_on_device(clcnn_model *m, size_t n)
{
    clcnn_ctx *ctx = m->ctx;
    size_t k = clcnn_model_classes(m);
    int st = forward(m, m->input, n, 1);
    if (st == CLCNN_OK)
        st = ctx->ops->softmax_xent(ctx->bctx, n, k, last_layer(m)->out, m->labels, (float)n, m->grad[0],
                                    m->stats);
    if (st == CLCNN_OK)
        st = backward(m, n);
    if (st == CLCNN_OK)
        st = adam_step(m);
    return st;
}

/* The model can be trained with softmax cross-entropy. */
static int check_trainable(clcnn_model *m, const char *who)
{
    if (m->nlayers == 0)
        return clcnn_error(m->ctx, CLCNN_ERR_ARGUMENT, "%s: the model has no layers", who);
    layer *l = last_layer(m);
    if (!has_activation(l) || l->cfg.act != CLCNN_ACT_SOFTMAX || l->out_shape[0] != 1 || l->out_shape[1] != 1)
        return clcnn_error(m->ctx, CLCNN_ERR_ARGUMENT,
                           "%s: the model must end in a flat softmax layer for cross-entropy training", who);
    return CLCNN_OK;
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

static int check_labels(clcnn_model *m, const int32_t *labels, size_t n, const char *who)
{
    size_t k = clcnn_model_classes(m);
    for (size_t i = 0; i < n; i++)
        if (labels[i] < 0 || (size_t)labels[i] >= k)
            return clcnn_error(m->ctx, CLCNN_ERR_ARGUMENT, "%s: label %d of example %zu is not in [0, %zu)", who,
                               (int)labels[i], i, k);
    return CLCNN_OK;
}

static int read_stats(clcnn_model *m, size_t n, double *loss, double *accuracy, const char *who)
{
    float stats[2];
    int st = m->ctx->ops->read(m->ctx->bctx, m->stats, 0, stats, sizeof stats);
    if (st)
        return st;
    if (!isfinite(stats[0]))
        return clcnn_error(m->ctx, CLCNN_ERR_NUMERIC, "%s: the loss is %s; stopping (try a lower learning rate)", who,
                           isnan(stats[0]) ? "NaN" : "infinite");
    if (loss)
        *loss = stats[0] / (double)n;
    if (accuracy)
        *accuracy = stats[1] / (double)n;
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
    if ((st = check_trainable(m, who)) || (st = check_labels(m, labels, count, who)) ||
        (st = clcnn_model_reserve(m, count)))
        return st;
    size_t row = clcnn_shape_size(m->in_shape);
    double l = 0.0, a = 0.0;
    if ((st = ctx->ops->write(ctx->bctx, m->input, 0, images, count * row * sizeof *images)) ||
        (st = ctx->ops->write(ctx->bctx, m->labels, 0, labels, count * sizeof *labels)) ||
        (st = ctx->ops->fill(ctx->bctx, m->stats, 2, 0.0f)) || (st = step_on_device(m, count)) ||
        (st = read_stats(m, count, &l, &a, who)))
        return st;
    if (loss)
        *loss = (float)l;
    if (accuracy)
        *accuracy = (float)a;
    return CLCNN_OK;
}

/* A data set's pixels and labels on the device: copies, or views of the
 * host arrays where the backend can use host memory in place. */
typedef struct device_data {
    clcnn_buf *images, *labels;
    int u8, viewed;
    size_t row;
} device_data;

static void device_data_free(clcnn_ctx *ctx, device_data *d)
{
    if (d->viewed)
        return;
    if (d->images)
        ctx->ops->release(ctx->bctx, d->images);
    if (d->labels)
        ctx->ops->release(ctx->bctx, d->labels);
}

static int device_data_upload(clcnn_ctx *ctx, const clcnn_dataset *ds, device_data *d)
{
    memset(d, 0, sizeof *d);
    d->u8 = ds->u8 != NULL;
    d->row = ds->h * ds->w * ds->c;
    size_t bytes = ds->count * d->row * (d->u8 ? 1 : sizeof(float));
    size_t label_bytes = ds->count * sizeof(int32_t);
    const void *src = d->u8 ? (const void *)ds->u8 : (const void *)ds->f32;
    const clcnn_backend_ops *ops = ctx->ops;
    int st;
    if (ops->view_host) {
        d->viewed = 1;
        if ((st = ops->view_host(ctx->bctx, src, bytes, &d->images)) ||
            (st = ops->view_host(ctx->bctx, ds->labels, label_bytes, &d->labels)))
            return st;
        return CLCNN_OK;
    }
    if ((st = ops->alloc(ctx->bctx, bytes, &d->images)) || (st = ops->write(ctx->bctx, d->images, 0, src, bytes)) ||
        (st = ops->alloc(ctx->bctx, label_bytes, &d->labels)) ||
        (st = ops->write(ctx->bctx, d->labels, 0, ds->labels, label_bytes))) {
        device_data_free(ctx, d);
        return st;
    }
    return CLCNN_OK;
}

/* Puts examples order[0..n) of d into the model's input and labels. */
static int load_batch(clcnn_model *m, const device_data *d, const int32_t *order, size_t n)
{
    clcnn_ctx *ctx = m->ctx;
    int st = ctx->ops->write(ctx->bctx, m->indices, 0, order, n * sizeof *order);
    return st ? st
              : ctx->ops->gather_batch(ctx->bctx, d->images, d->u8, d->row, d->labels, m->indices, n, m->input,
                                       m->labels);
}

uint64_t clcnn_epoch_seed(uint64_t seed, uint32_t epoch)
{
    return seed * 1000003u + epoch;
}

uint32_t clcnn_dataset_fingerprint(const clcnn_dataset *ds)
{
    if (!ds)
        return 0;
    uLong crc = crc32(0L, Z_NULL, 0);
    for (size_t i = 0; i < ds->count; i++) {
        unsigned char b[4] = {(unsigned char)ds->labels[i], (unsigned char)(ds->labels[i] >> 8),
                              (unsigned char)(ds->labels[i] >> 16), (unsigned char)(ds->labels[i] >> 24)};
        crc = crc32(crc, b, 4);
    }
    return (uint32_t)crc;
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
    clcnn_ctx *ctx = m->ctx;
    int st;
    if (batch_size == 0)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: the batch size must be at least 1", who);
    if ((st = check_trainable(m, who)) || (st = check_dataset(m, ds, who)))
        return st;
    size_t n = ds->count;
    if (batch_size > n)
        batch_size = n;
    if (report_every == 0)
        report_every = DEFAULT_REPORT_BATCHES * batch_size;
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

    device_data d;
    if ((st = clcnn_model_reserve(m, batch_size)) || (st = device_data_upload(ctx, ds, &d))) {
        clcnn_mem_free(&ctx->allocator, order, n * sizeof *order);
        return st;
    }
    float stats0[2] = {from ? (float)from->loss_sum : 0.0f, from ? (float)from->correct : 0.0f};
    st = ctx->ops->write(ctx->bctx, m->stats, 0, stats0, sizeof stats0);
    size_t done = start, next_report = start + report_every;
    double l = 0.0, a = 0.0;
    while (st == CLCNN_OK && done < n) {
        size_t mb = n - done < batch_size ? n - done : batch_size;
        if ((st = load_batch(m, &d, order + done, mb)) || (st = step_on_device(m, mb)))
            break;
        done += mb;
        if (done >= next_report || done == n) {
            next_report = done + report_every;
            if ((st = read_stats(m, done, &l, &a, who)))
                break;
            if (progress && progress(user, done, n, l, a))
                break;
        }
    }
    if (st == CLCNN_OK)
        st = read_stats(m, done, &l, &a, who);
    device_data_free(ctx, &d);
    clcnn_mem_free(&ctx->allocator, order, n * sizeof *order);
    if (st)
        return st;
    if (loss)
        *loss = l;
    if (accuracy)
        *accuracy = a;
    return CLCNN_OK;
}

int clcnn_model_evaluate(clcnn_model *m, const clcnn_dataset *ds, size_t batch_size, double *loss, double *accuracy)
{
    static const char who[] = "evaluate";
    if (!m)
        return CLCNN_ERR_ARGUMENT;
    clcnn_ctx *ctx = m->ctx;
    int st;
    if ((st = check_trainable(m, who)) || (st = check_dataset(m, ds, who)))
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
    if ((st = clcnn_model_reserve(m, batch_size)) || (st = device_data_upload(ctx, ds, &d))) {
        clcnn_mem_free(&ctx->allocator, order, n * sizeof *order);
        return st;
    }
    size_t k = clcnn_model_classes(m);
    st = ctx->ops->fill(ctx->bctx, m->stats, 2, 0.0f);
    for (size_t done = 0; st == CLCNN_OK && done < n; done += batch_size) {
        size_t mb = n - done < batch_size ? n - done : batch_size;
        if ((st = load_batch(m, &d, order + done, mb)) || (st = forward(m, m->input, mb, 1)))
            break;
        st = ctx->ops->softmax_xent(ctx->bctx, mb, k, last_layer(m)->out, m->labels, 1.0f, NULL, m->stats);
    }
    if (st == CLCNN_OK)
        st = read_stats(m, n, loss, accuracy, who);
    device_data_free(ctx, &d);
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
            (st = forward(m, m->input, mb, 0)))
            break;
        st = ctx->ops->read(ctx->bctx, last_layer(m)->out, 0, probs + done * k, mb * k * sizeof *probs);
    }
    return st;
}
