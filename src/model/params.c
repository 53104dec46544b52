/* The parameter arena (model.h's param_arena): every parameter's value,
 * gradient and optimizer state as views of one buffer per kind. */
#include "model.h"

static void release_views(clcnn_ctx *ctx, param *pr)
{
    clcnn_buf **views[PARAM_KINDS] = {&pr->value, &pr->grad, &pr->state[0], &pr->state[1]};
    for (int k = 0; k < PARAM_KINDS; k++) {
        if (*views[k])
            ctx->ops->release_view(ctx->bctx, *views[k]);
        *views[k] = NULL;
    }
}

static void release_arena(clcnn_ctx *ctx, param_arena *a)
{
    for (int k = 0; k < PARAM_KINDS; k++)
        if (a->buf[k])
            ctx->ops->release(ctx->bctx, a->buf[k]);
    *a = (param_arena){0};
}

void clcnn_params_free(clcnn_model *m)
{
    for (size_t i = 0; i < m->nlayers; i++)
        for (size_t p = 0; p < m->layers[i].nparams; p++)
            release_views(m->ctx, &m->layers[i].params[p]);
    release_arena(m->ctx, &m->arena);
}

/* Offsets (floats) of layers[0..count)'s parameters into offsets (in the
 * order of the layers and their params), weights first; the total and the
 * start of the biases. */
static void plan(const clcnn_model *m, size_t count, size_t align, size_t *offsets, size_t *total, size_t *weights)
{
    size_t off = 0;
    for (int biases = 0; biases < 2; biases++) {
        size_t j = 0;
        for (size_t i = 0; i < count; i++)
            for (size_t p = 0; p < m->layers[i].nparams; p++, j++) {
                const param *pr = &m->layers[i].params[p];
                if ((pr->fan_in == 0) != biases)
                    continue;
                offsets[j] = off;
                off = (off + pr->count + align - 1) / align * align;
            }
        if (!biases)
            *weights = off;
    }
    *total = off ? off : 1;
}

/* Copies every old view's contents (host round trip) into the new arena at
 * the new offsets. */
static int copy_old(clcnn_model *m, const param_arena *to, const size_t *offsets, float *host)
{
    clcnn_ctx *ctx = m->ctx;
    size_t j = 0;
    for (size_t i = 0; i < m->nlayers; i++)
        for (size_t p = 0; p < m->layers[i].nparams; p++, j++) {
            param *pr = &m->layers[i].params[p];
            clcnn_buf *views[PARAM_KINDS] = {pr->value, pr->grad, pr->state[0], pr->state[1]};
            const size_t bytes = pr->count * sizeof *host;
            for (int k = 0; k < PARAM_KINDS; k++) {
                int st = ctx->ops->read(ctx->bctx, views[k], 0, host, bytes);
                if (!st)
                    st = ctx->ops->write(ctx->bctx, to->buf[k], offsets[j] * sizeof *host, host, bytes);
                if (st)
                    return st;
            }
        }
    return CLCNN_OK;
}

int clcnn_params_layout(clcnn_model *m, size_t count)
{
    clcnn_ctx *ctx = m->ctx;
    size_t nparams = 0, largest = 1;
    for (size_t i = 0; i < count; i++)
        for (size_t p = 0; p < m->layers[i].nparams; p++) {
            nparams++;
            if (m->layers[i].params[p].count > largest)
                largest = m->layers[i].params[p].count;
        }
    size_t align = ctx->ops->view_align(ctx->bctx) / sizeof(float);
    align = align ? align : 1;
    const size_t slots = nparams ? nparams : 1;
    size_t *offsets = clcnn_mem_calloc(&ctx->allocator, slots, sizeof *offsets);
    param *fresh = clcnn_mem_calloc(&ctx->allocator, slots, sizeof *fresh); /* the new views */
    float *host = clcnn_mem_calloc(&ctx->allocator, largest, sizeof *host);
    param_arena a = {0};
    int st = offsets && fresh && host ? CLCNN_OK
                                      : clcnn_error(ctx, CLCNN_ERR_NOMEM, "out of memory laying out parameters");
    if (!st)
        plan(m, count, align, offsets, &a.floats, &a.weight_floats);
    for (int k = 0; !st && k < PARAM_KINDS; k++)
        st = ctx->ops->alloc(ctx->bctx, a.floats * sizeof(float), &a.buf[k]);
    if (!st)
        st = copy_old(m, &a, offsets, host);
    size_t j = 0;
    for (size_t i = 0; !st && i < count; i++)
        for (size_t p = 0; !st && p < m->layers[i].nparams; p++, j++) {
            fresh[j] = m->layers[i].params[p];
            fresh[j].offset = offsets[j];
            clcnn_buf **views[PARAM_KINDS] = {&fresh[j].value, &fresh[j].grad, &fresh[j].state[0],
                                              &fresh[j].state[1]};
            for (int k = 0; k < PARAM_KINDS; k++)
                *views[k] = NULL;
            for (int k = 0; !st && k < PARAM_KINDS; k++)
                st = ctx->ops->sub_buffer(ctx->bctx, a.buf[k], offsets[j] * sizeof(float),
                                          fresh[j].count * sizeof(float), views[k]);
        }
    if (st) {
        for (size_t f = 0; fresh && f < j; f++)
            release_views(ctx, &fresh[f]);
        release_arena(ctx, &a);
    } else {
        clcnn_params_free(m);
        m->arena = a;
        j = 0;
        for (size_t i = 0; i < count; i++)
            for (size_t p = 0; p < m->layers[i].nparams; p++, j++)
                m->layers[i].params[p] = fresh[j];
    }
    clcnn_mem_free(&ctx->allocator, offsets, slots * sizeof *offsets);
    clcnn_mem_free(&ctx->allocator, fresh, slots * sizeof *fresh);
    clcnn_mem_free(&ctx->allocator, host, largest * sizeof *host);
    return st;
}
