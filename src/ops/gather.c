/* The batch-gather family: a data set resident on the device, and each
 * mini-batch assembled there from a list of example indices, training
 * batches augmented (random crops and flips) as they are assembled. */
#include <string.h>

#include "ops/training.h"

void clcnn_device_data_free(clcnn_ctx *ctx, device_data *d)
{
    clcnn_buf_release(ctx, &d->order);
    clcnn_buf_release(ctx, &d->aug);
    if (d->viewed)
        return;
    clcnn_buf_release(ctx, &d->images);
    clcnn_buf_release(ctx, &d->labels);
}

/* A device buffer of count int32 holding values (queued, no wait). */
static int upload_ints(clcnn_ctx *ctx, const int32_t *values, size_t count, clcnn_buf **out)
{
    size_t bytes = count * sizeof *values;
    int st = ctx->ops->alloc(ctx->bctx, bytes, out);
    return st ? st : ctx->ops->write(ctx->bctx, *out, 0, values, bytes);
}

static int upload_set(clcnn_ctx *ctx, const clcnn_dataset *ds, device_data *d)
{
    size_t bytes = ds->count * d->row * (d->u8 ? 1 : sizeof(float));
    size_t label_bytes = ds->count * sizeof(int32_t);
    const void *src = d->u8 ? (const void *)ds->u8 : (const void *)ds->f32;
    const clcnn_backend_ops *ops = ctx->ops;
    int st;
    if (ops->view_host) {
        d->viewed = 1;
        if ((st = ops->view_host(ctx->bctx, src, bytes, &d->images)))
            return st;
        return ops->view_host(ctx->bctx, ds->labels, label_bytes, &d->labels);
    }
    if ((st = ops->alloc(ctx->bctx, bytes, &d->images)) || (st = ops->write(ctx->bctx, d->images, 0, src, bytes)))
        return st;
    return upload_ints(ctx, ds->labels, ds->count, &d->labels);
}

int clcnn_device_data_upload(clcnn_ctx *ctx, const clcnn_dataset *ds, const int32_t *order, device_data *d)
{
    memset(d, 0, sizeof *d);
    d->u8 = ds->u8 != NULL;
    d->row = ds->h * ds->w * ds->c;
    d->count = ds->count;
    int st = upload_set(ctx, ds, d);
    if (!st)
        st = upload_ints(ctx, order, ds->count, &d->order);
    if (st)
        clcnn_device_data_free(ctx, d);
    return st;
}

int clcnn_device_data_draws(clcnn_model *m, device_data *d, uint64_t seed)
{
    if (!m->augment.crop && !m->augment.flip)
        return CLCNN_OK;
    clcnn_ctx *ctx = m->ctx;
    int32_t *draws = clcnn_mem_array(&ctx->allocator, d->count, 3 * sizeof *draws);
    if (!draws)
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "train: out of memory");
    for (size_t i = 0; i < d->count; i++)
        clcnn_augment_draw(&m->augment, seed, i, draws + 3 * i);
    int st = upload_ints(ctx, draws, 3 * d->count, &d->aug);
    clcnn_mem_free(&ctx->allocator, draws, d->count * 3 * sizeof *draws);
    return st;
}

int clcnn_gather_batch(clcnn_model *m, const device_data *d, size_t first, size_t n)
{
    clcnn_ctx *ctx = m->ctx;
    return ctx->ops->gather_batch(ctx->bctx, d->images, d->u8, d->row, d->labels, d->order, first, n, m->input,
                                  m->labels);
}

int clcnn_model_set_augment(clcnn_model *m, const clcnn_augment *a)
{
    if (!m)
        return CLCNN_ERR_ARGUMENT;
    clcnn_augment none = {0, 0};
    if (!a)
        a = &none;
    if (a->crop && (a->crop >= m->in_shape[0] || a->crop >= m->in_shape[1]))
        return clcnn_error(m->ctx, CLCNN_ERR_ARGUMENT,
                           "set_augment: a crop of %u takes a padding below the input's height and width (%zux%zu)",
                           a->crop, m->in_shape[0], m->in_shape[1]);
    m->augment = (clcnn_augment){a->crop, a->flip != 0};
    return CLCNN_OK;
}

int clcnn_model_get_augment(const clcnn_model *m, clcnn_augment *a)
{
    if (!m || !a)
        return CLCNN_ERR_ARGUMENT;
    *a = m->augment;
    return CLCNN_OK;
}

void clcnn_augment_draw(const clcnn_augment *a, uint64_t seed, uint64_t position, int32_t *out)
{
    /* A stream of its own per example, so that the draws depend on nothing
     * but the seed and the position (not the batch size, the share of a
     * process, or where a run was resumed). */
    clcnn_rng r;
    clcnn_rng_seed(&r, seed * 0x9E3779B97F4A7C15ull ^ (position + 0x2545F4914F6CDD1Dull));
    const uint64_t span = 2 * (uint64_t)a->crop + 1;
    out[0] = a->crop ? (int32_t)clcnn_rng_below(&r, span) - (int32_t)a->crop : 0;
    out[1] = a->crop ? (int32_t)clcnn_rng_below(&r, span) - (int32_t)a->crop : 0;
    out[2] = a->flip ? (int32_t)clcnn_rng_below(&r, 2) : 0;
}

int clcnn_gather_train_batch(clcnn_model *m, const device_data *d, size_t first, size_t n)
{
    if (!d->aug)
        return clcnn_gather_batch(m, d, first, n);
    clcnn_ctx *ctx = m->ctx;
    return ctx->ops->gather_augment(ctx->bctx, d->images, d->u8, m->in_shape[0], m->in_shape[1], m->in_shape[2],
                                    d->labels, d->order, d->aug, first, n, m->input, m->labels);
}
