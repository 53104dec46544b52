/* The batch-gather family: a data set resident on the device, and each
 * mini-batch assembled there from a list of example indices. */
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
