/* The batch-gather family: a data set resident on the device, and each
 * mini-batch assembled there from a list of example indices, training
 * batches augmented (random crops and flips) as they are assembled. */
#include <string.h>

#include "ops/training.h"

void clcnn_device_data_free(clcnn_ctx *ctx, device_data *d)
{
    if (d->viewed)
        return;
    if (d->images)
        ctx->ops->release(ctx->bctx, d->images);
    if (d->labels)
        ctx->ops->release(ctx->bctx, d->labels);
}

int clcnn_device_data_upload(clcnn_ctx *ctx, const clcnn_dataset *ds, device_data *d)
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
        clcnn_device_data_free(ctx, d);
        return st;
    }
    return CLCNN_OK;
}

int clcnn_gather_batch(clcnn_model *m, const device_data *d, const int32_t *order, size_t n)
{
    clcnn_ctx *ctx = m->ctx;
    int st = ctx->ops->write(ctx->bctx, m->indices, 0, order, n * sizeof *order);
    return st ? st
              : ctx->ops->gather_batch(ctx->bctx, d->images, d->u8, d->row, d->labels, m->indices, n, m->input,
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

int clcnn_gather_train_batch(clcnn_model *m, const device_data *d, const int32_t *order, size_t n, uint64_t seed,
                             uint64_t position)
{
    if (!m->augment.crop && !m->augment.flip)
        return clcnn_gather_batch(m, d, order, n);
    clcnn_ctx *ctx = m->ctx;
    int32_t *draws = clcnn_mem_array(&ctx->allocator, n, 3 * sizeof *draws);
    if (!draws)
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "train: out of memory");
    for (size_t i = 0; i < n; i++)
        clcnn_augment_draw(&m->augment, seed, position + i, draws + 3 * i);
    int st = ctx->ops->write(ctx->bctx, m->indices, 0, order, n * sizeof *order);
    if (!st)
        st = ctx->ops->write(ctx->bctx, m->aug, 0, draws, n * 3 * sizeof *draws);
    clcnn_mem_free(&ctx->allocator, draws, n * 3 * sizeof *draws);
    return st ? st
              : ctx->ops->gather_augment(ctx->bctx, d->images, d->u8, m->in_shape[0], m->in_shape[1],
                                         m->in_shape[2], d->labels, m->indices, m->aug, n, m->input, m->labels);
}
