/* The optimizer family: Adam (SGD is sgd.c) in TensorFlow's form (DESIGN.md §2), its two
 * moments per parameter in param.state[0] (m) and state[1] (v). */
#include <math.h>

#include "ops/training.h"

static int adam_step(clcnn_model *m)
{
    clcnn_ctx *ctx = m->ctx;
    m->step++;
    double t = (double)m->step;
    /* The bias corrections, folded into the step size. */
    float lr_t = (float)(m->lr * sqrt(1.0 - pow(m->beta2, t)) / (1.0 - pow(m->beta1, t)));
    const param_arena *a = &m->arena;
    if (!a->buf[PARAM_VALUE])
        return CLCNN_OK; /* no parameters */
    /* One launch over the arena (model.h): its gaps stay 0. */
    return ctx->ops->adam_update(ctx->bctx, a->floats, a->buf[PARAM_VALUE], a->buf[PARAM_GRAD], a->buf[PARAM_STATE0],
                                 a->buf[PARAM_STATE0 + 1], lr_t, m->beta1, m->beta2, m->eps);
}

const optimizer_family clcnn_adam = {.name = "adam", .slots = 2, .step = adam_step};

int clcnn_optimizer_zero_state(clcnn_model *m)
{
    clcnn_ctx *ctx = m->ctx;
    for (size_t k = 0; m->arena.buf[PARAM_VALUE] && k < OPTIMIZER_MAX_SLOTS; k++) {
        int st = ctx->ops->fill(ctx->bctx, m->arena.buf[PARAM_STATE0 + k], m->arena.floats, 0.0f);
        if (st)
            return st;
    }
    return CLCNN_OK;
}

int clcnn_model_set_adam(clcnn_model *m, float lr, float beta1, float beta2, float epsilon)
{
    if (!m)
        return CLCNN_ERR_ARGUMENT;
    if (!(lr > 0.0f) || !(beta1 >= 0.0f && beta1 < 1.0f) || !(beta2 >= 0.0f && beta2 < 1.0f) || !(epsilon > 0.0f))
        return clcnn_error(m->ctx, CLCNN_ERR_ARGUMENT,
                           "Adam settings lr %g, beta1 %g, beta2 %g, epsilon %g: need lr > 0, 0 <= beta < 1, "
                           "epsilon > 0",
                           (double)lr, (double)beta1, (double)beta2, (double)epsilon);
    int st;
    if (m->optimizer != &clcnn_adam && (st = clcnn_optimizer_zero_state(m)))
        return st; /* the moments start at zero, as after clcnn_model_init */
    m->optimizer = &clcnn_adam;
    m->lr = lr, m->beta1 = beta1, m->beta2 = beta2, m->eps = epsilon;
    return CLCNN_OK;
}

int clcnn_model_get_adam(const clcnn_model *m, float *lr, float *beta1, float *beta2, float *epsilon)
{
    if (!m)
        return CLCNN_ERR_ARGUMENT;
    if (lr)
        *lr = m->lr;
    if (beta1)
        *beta1 = m->beta1;
    if (beta2)
        *beta2 = m->beta2;
    if (epsilon)
        *epsilon = m->eps;
    return CLCNN_OK;
}
