/* Building models: the layer list, parameters, initialisation. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model.h"
#include "ops/family.h"
#include "ops/training.h"

size_t clcnn_shape_size(const size_t *shape)
{
    return shape[0] * shape[1] * shape[2];
}

void clcnn_layer_name(const layer *l, char *buf, size_t len)
{
    snprintf(buf, len, "layer %zu (%s)", l->index + 1, l->family->name);
}

int clcnn_model_create(clcnn_ctx *ctx, clcnn_model **out, size_t h, size_t w, size_t c)
{
    int st = clcnn_check_ctx(ctx, "clcnn_model_create");
    if (st)
        return st;
    if (!out)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_model_create: NULL out");
    *out = NULL;
    if (h == 0 || w == 0 || c == 0)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_model_create: input shape %zux%zux%zu has a zero", h, w,
                           c);
    int overflow = 0;
    clcnn_mul_size(clcnn_mul_size(clcnn_mul_size(h, w, &overflow), c, &overflow), sizeof(float), &overflow);
    if (overflow)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_model_create: input shape %zux%zux%zu overflows", h, w,
                           c);
    clcnn_model *m = clcnn_mem_calloc(&ctx->allocator, 1, sizeof *m);
    if (!m)
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "clcnn_model_create: out of memory");
    m->ctx = ctx;
    m->in_shape[0] = h, m->in_shape[1] = w, m->in_shape[2] = c;
    m->optimizer = &clcnn_adam;
    m->lr = 0.001f, m->beta1 = 0.9f, m->beta2 = 0.999f, m->eps = 1e-7f;
    m->schedule.best = INFINITY;
    *out = m;
    return CLCNN_OK;
}

static void release_batch_buffers(clcnn_model *m)
{
    for (size_t i = 0; i < m->nlayers; i++) {
        if (!m->layers[i].out_aliases)
            clcnn_buf_release(m->ctx, &m->layers[i].out);
        m->layers[i].out = NULL;
    }
    clcnn_buf_release(m->ctx, &m->input);
    clcnn_buf_release(m->ctx, &m->labels);
    clcnn_buf_release(m->ctx, &m->grad[0]);
    clcnn_buf_release(m->ctx, &m->grad[1]);
    m->capacity = 0;
}

void clcnn_model_free(clcnn_model *m)
{
    if (!m)
        return;
    release_batch_buffers(m);
    clcnn_buf_release(m->ctx, &m->stats);
    clcnn_params_free(m);
    clcnn_mem_free(&m->ctx->allocator, m->layers, m->cap_layers * sizeof *m->layers);
    clcnn_class_names_free(&m->ctx->allocator, &m->names);
    clcnn_mem_free(&m->ctx->allocator, m, sizeof *m);
}

int clcnn_model_reserve(clcnn_model *m, size_t n)
{
    if (n <= m->capacity)
        return CLCNN_OK;
    clcnn_ctx *ctx = m->ctx;
    const clcnn_backend_ops *ops = ctx->ops;
    release_batch_buffers(m);
    size_t largest = clcnn_shape_size(m->in_shape);
    for (size_t i = 0; i < m->nlayers; i++) {
        size_t s = clcnn_shape_size(m->layers[i].out_shape);
        largest = s > largest ? s : largest;
    }
    int overflow = 0;
    clcnn_mul_size(clcnn_mul_size(n, largest, &overflow), sizeof(float), &overflow);
    if (overflow)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "a batch of %zu examples is too large", n);
    int st;
    if ((st = ops->alloc(ctx->bctx, n * clcnn_shape_size(m->in_shape) * sizeof(float), &m->input)) ||
        (st = ops->alloc(ctx->bctx, n * sizeof(int32_t), &m->labels)) ||
        (st = ops->alloc(ctx->bctx, n * largest * sizeof(float), &m->grad[0])) ||
        (st = ops->alloc(ctx->bctx, n * largest * sizeof(float), &m->grad[1])))
        goto fail;
    if (!m->stats && (st = ops->alloc(ctx->bctx, 2 * sizeof(float), &m->stats)))
        goto fail;
    for (size_t i = 0; i < m->nlayers; i++) {
        layer *l = &m->layers[i];
        if (!l->out_aliases &&
            (st = ops->alloc(ctx->bctx, n * clcnn_shape_size(l->out_shape) * sizeof(float), &l->out)))
            goto fail;
    }
    m->capacity = n;
    return CLCNN_OK;
fail:
    release_batch_buffers(m);
    return st;
}

int clcnn_model_append(clcnn_model *m, const layer_config *cfg)
{
    if (!m)
        return CLCNN_ERR_ARGUMENT;
    clcnn_ctx *ctx = m->ctx;
    const layer_family *family = clcnn_layer_family(cfg->kind);
    if (!family)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "unknown layer kind %d", (int)cfg->kind);
    if (m->nlayers == m->cap_layers) {
        size_t cap = m->cap_layers ? 2 * m->cap_layers : 8;
        layer *grown =
            clcnn_mem_realloc(&ctx->allocator, m->layers, m->cap_layers * sizeof *grown, cap * sizeof *grown);
        if (!grown)
            return clcnn_error(ctx, CLCNN_ERR_NOMEM, "out of memory adding a layer");
        m->layers = grown;
        m->cap_layers = cap;
    }
    layer *l = &m->layers[m->nlayers];
    memset(l, 0, sizeof *l);
    l->cfg = *cfg;
    l->family = family;
    l->index = m->nlayers;
    memcpy(l->in_shape, m->nlayers ? m->layers[m->nlayers - 1].out_shape : m->in_shape, sizeof l->in_shape);
    char who[48];
    clcnn_layer_name(l, who, sizeof who);
    int st = family->infer(ctx, l, who);
    if (st == CLCNN_OK && m->nlayers && clcnn_activation_fuses(&m->layers[m->nlayers - 1], l))
        l->fused = l->out_aliases = 1;
    if (st == CLCNN_OK && l->nparams)
        st = clcnn_params_layout(m, m->nlayers + 1);
    if (st)
        return st;
    /* Batch buffers are re-made for the new layer list on next use. */
    release_batch_buffers(m);
    m->nlayers++;
    if (m->names.count && m->names.count != clcnn_model_classes(m)) /* names of other classes */
        clcnn_class_names_free(&ctx->allocator, &m->names);
    return CLCNN_OK;
}

int clcnn_model_lenet5(clcnn_ctx *ctx, clcnn_model **out)
{
    clcnn_model *m;
    int st = clcnn_model_create(ctx, &m, 28, 28, 1);
    if (st)
        return st;
    if ((st = clcnn_model_add_conv(m, 6, 5, 5, 1, 1, CLCNN_PAD_SAME, CLCNN_ACT_RELU)) ||
        (st = clcnn_model_add_pool(m, 2, 2, 2, 2, CLCNN_POOL_MAX)) ||
        (st = clcnn_model_add_conv(m, 16, 5, 5, 1, 1, CLCNN_PAD_VALID, CLCNN_ACT_RELU)) ||
        (st = clcnn_model_add_pool(m, 2, 2, 2, 2, CLCNN_POOL_MAX)) || (st = clcnn_model_add_flatten(m)) ||
        (st = clcnn_model_add_dense(m, 120, CLCNN_ACT_RELU)) || (st = clcnn_model_add_dense(m, 84, CLCNN_ACT_RELU)) ||
        (st = clcnn_model_add_dense(m, 10, CLCNN_ACT_SOFTMAX))) {
        clcnn_model_free(m);
        return st;
    }
    *out = m;
    return CLCNN_OK;
}

/* Keras he_normal: truncated at two standard deviations, the standard
 * deviation corrected for the truncation. */
int clcnn_model_init(clcnn_model *m, uint64_t seed)
{
    if (!m)
        return CLCNN_ERR_ARGUMENT;
    clcnn_ctx *ctx = m->ctx;
    clcnn_rng rng;
    clcnn_rng_seed(&rng, seed);
    for (size_t i = 0; i < m->nlayers; i++) {
        layer *l = &m->layers[i];
        for (size_t p = 0; p < l->nparams; p++) {
            param *pr = &l->params[p];
            float *host = clcnn_mem_calloc(&ctx->allocator, pr->count, sizeof *host);
            if (!host)
                return clcnn_error(ctx, CLCNN_ERR_NOMEM, "out of memory initialising layer %zu", i + 1);
            if (pr->fan_in) {
                double stddev = sqrt(2.0 / (double)pr->fan_in) / 0.87962566103423978;
                for (size_t k = 0; k < pr->count; k++) {
                    double z;
                    do
                        z = clcnn_rng_normal(&rng);
                    while (fabs(z) > 2.0);
                    host[k] = (float)(z * stddev);
                }
            }
            int st = ctx->ops->write(ctx->bctx, pr->value, 0, host, pr->count * sizeof *host);
            clcnn_mem_free(&ctx->allocator, host, pr->count * sizeof *host);
            for (size_t k = 0; st == CLCNN_OK && k < OPTIMIZER_MAX_SLOTS; k++)
                st = ctx->ops->fill(ctx->bctx, pr->state[k], pr->count, 0.0f);
            if (st)
                return st;
        }
    }
    m->step = 0;
    m->noise_seed = seed;
    return CLCNN_OK;
}

void clcnn_model_input_shape(const clcnn_model *m, size_t *shape)
{
    if (m && shape)
        memcpy(shape, m->in_shape, sizeof m->in_shape);
}

size_t clcnn_model_layer_count(const clcnn_model *m)
{
    return m ? m->nlayers : 0;
}

int clcnn_model_layer_info(const clcnn_model *m, size_t i, clcnn_layer_kind *kind, size_t *out_shape)
{
    if (!m || i >= m->nlayers)
        return CLCNN_ERR_ARGUMENT;
    if (kind)
        *kind = m->layers[i].cfg.kind;
    if (out_shape)
        memcpy(out_shape, m->layers[i].out_shape, 3 * sizeof *out_shape);
    return CLCNN_OK;
}

int clcnn_model_layer_describe(const clcnn_model *m, size_t i, char *buf, size_t len)
{
    if (!m || i >= m->nlayers || !buf || len == 0)
        return CLCNN_ERR_ARGUMENT;
    const layer *l = &m->layers[i];
    char what[96];
    l->family->describe(&l->cfg, what, sizeof what);
    size_t params = 0;
    for (size_t p = 0; p < l->nparams; p++)
        params += l->params[p].count;
    snprintf(buf, len, "%-36s -> %zux%zux%zu  (%zu parameters)", what, l->out_shape[0], l->out_shape[1],
             l->out_shape[2], params);
    return CLCNN_OK;
}

size_t clcnn_model_param_count(const clcnn_model *m)
{
    size_t total = 0;
    for (size_t i = 0; m && i < m->nlayers; i++)
        for (size_t p = 0; p < m->layers[i].nparams; p++)
            total += m->layers[i].params[p].count;
    return total;
}

size_t clcnn_model_classes(const clcnn_model *m)
{
    return m && m->nlayers ? clcnn_shape_size(m->layers[m->nlayers - 1].out_shape) : 0;
}

int clcnn_model_set_class_names(clcnn_model *m, const char *const *names, size_t count)
{
    if (!m)
        return CLCNN_ERR_ARGUMENT;
    size_t classes = clcnn_model_classes(m);
    if (count && count != classes)
        return clcnn_error(m->ctx, CLCNN_ERR_ARGUMENT,
                           "clcnn_model_set_class_names: %zu names for a model of %zu classes", count, classes);
    return clcnn_class_names_set(m->ctx, &m->ctx->allocator, CLCNN_ERR_ARGUMENT, "clcnn_model_set_class_names",
                                 &m->names, names, NULL, count);
}

const char *clcnn_model_class_name(const clcnn_model *m, size_t i)
{
    return m ? clcnn_class_names_get(&m->names, i) : NULL;
}

size_t clcnn_model_param_size(const clcnn_model *m, size_t i, int which)
{
    if (!m || i >= m->nlayers || which < 0 || (size_t)which >= m->layers[i].nparams)
        return 0;
    return m->layers[i].params[which].count;
}

/* The buffer behind (layer i, which, grad?), checked against count. */
static int param_buffer(clcnn_model *m, size_t i, int which, int grad, size_t count, const void *host,
                        clcnn_buf **out)
{
    if (!m)
        return CLCNN_ERR_ARGUMENT;
    size_t size = clcnn_model_param_size(m, i, which);
    if (size == 0)
        return clcnn_error(m->ctx, CLCNN_ERR_ARGUMENT, "layer %zu has no parameter %d", i + 1, which);
    if (!host)
        return clcnn_error(m->ctx, CLCNN_ERR_ARGUMENT, "NULL host pointer");
    if (count != size)
        return clcnn_error(m->ctx, CLCNN_ERR_ARGUMENT, "layer %zu parameter %d has %zu elements, not %zu", i + 1,
                           which, size, count);
    *out = grad ? m->layers[i].params[which].grad : m->layers[i].params[which].value;
    return CLCNN_OK;
}

int clcnn_model_read_param(clcnn_model *m, size_t i, int which, float *dst, size_t count)
{
    clcnn_buf *b = NULL;
    int st = param_buffer(m, i, which, 0, count, dst, &b);
    return st ? st : m->ctx->ops->read(m->ctx->bctx, b, 0, dst, count * sizeof *dst);
}

int clcnn_model_write_param(clcnn_model *m, size_t i, int which, const float *src, size_t count)
{
    clcnn_buf *b = NULL;
    int st = param_buffer(m, i, which, 0, count, src, &b);
    return st ? st : m->ctx->ops->write(m->ctx->bctx, b, 0, src, count * sizeof *src);
}

int clcnn_model_read_grad(clcnn_model *m, size_t i, int which, float *dst, size_t count)
{
    clcnn_buf *b = NULL;
    int st = param_buffer(m, i, which, 1, count, dst, &b);
    return st ? st : m->ctx->ops->read(m->ctx->bctx, b, 0, dst, count * sizeof *dst);
}
