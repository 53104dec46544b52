/* The optimizer family: SGD with momentum, weight decay on weights (not
 * biases) and optional Nesterov momentum, in PyTorch's form
 * (include/clcnn.h); its velocity per parameter in param.state[0]. */
#include <math.h>

#include "ops/training.h"

static int sgd_step(clcnn_model *m)
{
    clcnn_ctx *ctx = m->ctx;
    m->step++;
    const param_arena *a = &m->arena;
    if (!a->buf[PARAM_VALUE])
        return CLCNN_OK; /* no parameters */
    /* One launch over the arena; a bias has no fan-in and lies past
     * weight_floats: weight decay is for weights. */
    return ctx->ops->sgd_update(ctx->bctx, a->floats, a->weight_floats, a->buf[PARAM_VALUE], a->buf[PARAM_GRAD],
                                a->buf[PARAM_STATE0], m->lr, m->momentum, m->weight_decay, m->nesterov);
}

const optimizer_family clcnn_sgd = {.name = "sgd", .slots = 1, .step = sgd_step};

int clcnn_optimizer_check_sgd(clcnn_ctx *ctx, int status, const char *who, float lr, float momentum, float weight_decay,
                              int nesterov)
{
    if (!(lr > 0.0f) || !isfinite(lr) || !(momentum >= 0.0f && momentum < 1.0f) ||
        !(weight_decay >= 0.0f && weight_decay < 1.0f) || (nesterov != 0 && nesterov != 1) ||
        (nesterov && !(momentum > 0.0f)))
        return clcnn_error(ctx, status,
                           "%s: SGD settings lr %g, momentum %g, weight decay %g, "
                           "nesterov %d: need lr > 0, 0 <= "
                           "momentum < 1, 0 <= weight decay < 1, nesterov 0 or 1 "
                           "(1 only with a momentum above 0)",
                           who, (double)lr, (double)momentum, (double)weight_decay, nesterov);
    return CLCNN_OK;
}

int clcnn_model_set_sgd(clcnn_model *m, float lr, float momentum, float weight_decay, int nesterov)
{
    if (!m)
        return CLCNN_ERR_ARGUMENT;
    int st = clcnn_optimizer_check_sgd(m->ctx, CLCNN_ERR_ARGUMENT, "set_sgd", lr, momentum, weight_decay, nesterov);
    if (st)
        return st;
    if (m->optimizer != &clcnn_sgd && (st = clcnn_optimizer_zero_state(m)))
        return st;
    m->optimizer = &clcnn_sgd;
    m->lr = lr, m->momentum = momentum, m->weight_decay = weight_decay, m->nesterov = nesterov;
    return CLCNN_OK;
}

const char *clcnn_model_optimizer(const clcnn_model *m)
{
    return m ? m->optimizer->name : NULL;
}

int clcnn_model_get_sgd(const clcnn_model *m, float *lr, float *momentum, float *weight_decay, int *nesterov)
{
    if (!m)
        return CLCNN_ERR_ARGUMENT;
    const int sgd = m->optimizer == &clcnn_sgd;
    if (lr)
        *lr = sgd ? m->lr : 0.0f;
    if (momentum)
        *momentum = sgd ? m->momentum : 0.0f;
    if (weight_decay)
        *weight_decay = sgd ? m->weight_decay : 0.0f;
    if (nesterov)
        *nesterov = sgd ? m->nesterov : 0;
    return CLCNN_OK;
}
