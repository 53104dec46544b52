/* The loss family: softmax cross-entropy (DESIGN.md §2), computed stably
 * from the logits by the backend, summed on the device in m->stats. */
#include <math.h>

#include "ops/family.h"
#include "ops/training.h"

int clcnn_loss_check_model(clcnn_model *m, const char *who)
{
    if (m->nlayers == 0)
        return clcnn_error(m->ctx, CLCNN_ERR_ARGUMENT, "%s: the model has no layers", who);
    const layer *l = &m->layers[m->nlayers - 1];
    if (clcnn_layer_activation(l) != CLCNN_ACT_SOFTMAX || l->out_shape[0] != 1 || l->out_shape[1] != 1)
        return clcnn_error(m->ctx, CLCNN_ERR_ARGUMENT,
                           "%s: the model must end in a flat softmax layer for cross-entropy training", who);
    return CLCNN_OK;
}

int clcnn_loss_check_labels(clcnn_model *m, const int32_t *labels, size_t n, const char *who)
{
    size_t k = clcnn_model_classes(m);
    for (size_t i = 0; i < n; i++)
        if (labels[i] < 0 || (size_t)labels[i] >= k)
            return clcnn_error(m->ctx, CLCNN_ERR_ARGUMENT, "%s: label %d of example %zu is not in [0, %zu)", who,
                               (int)labels[i], i, k);
    return CLCNN_OK;
}

int clcnn_loss_accumulate(clcnn_model *m, size_t n, clcnn_buf *dlogits, size_t batch)
{
    clcnn_ctx *ctx = m->ctx;
    const layer *last = &m->layers[m->nlayers - 1];
    return ctx->ops->softmax_xent(ctx->bctx, n, clcnn_model_classes(m), last->out, m->labels,
                                  dlogits ? (float)batch : 1.0f, dlogits, m->stats);
}

int clcnn_loss_reset(clcnn_model *m, double loss_sum, double correct)
{
    float stats[2] = {(float)loss_sum, (float)correct};
    return m->ctx->ops->write(m->ctx->bctx, m->stats, 0, stats, sizeof stats);
}

int clcnn_loss_read_sums(clcnn_model *m, double *loss_sum, double *correct, const char *who)
{
    float stats[2];
    int st = m->ctx->ops->read(m->ctx->bctx, m->stats, 0, stats, sizeof stats);
    if (st)
        return st;
    if (!isfinite(stats[0]))
        return clcnn_error(m->ctx, CLCNN_ERR_NUMERIC, "%s: the loss is %s; stopping (try a lower learning rate)", who,
                           isnan(stats[0]) ? "NaN" : "infinite");
    *loss_sum = stats[0];
    *correct = stats[1];
    return CLCNN_OK;
}

int clcnn_loss_read(clcnn_model *m, size_t n, double *loss, double *accuracy, const char *who)
{
    double l = 0.0, a = 0.0;
    int st = clcnn_loss_read_sums(m, &l, &a, who);
    if (st)
        return st;
    if (loss)
        *loss = l / (double)n;
    if (accuracy)
        *accuracy = a / (double)n;
    return CLCNN_OK;
}
