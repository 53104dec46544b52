/* A layer's configuration and shapes, as the public API reports them. */
#include <string.h>

#include "model.h"
#include "ops/family.h"

int clcnn_model_layer_config(const clcnn_model *m, size_t i, clcnn_layer_config *out)
{
    if (!m || !out || i >= m->nlayers)
        return CLCNN_ERR_ARGUMENT;
    const layer *l = &m->layers[i];
    const layer_config *c = &l->cfg;
    *out = (clcnn_layer_config){.kind = c->kind, .name = l->family->name, .type = l->family->type(c), .units = c->units, .kernel_h = c->kh, .kernel_w = c->kw,
                                .stride_h = c->sh, .stride_w = c->sw, .padding = c->padding, .activation = c->act,
                                .mode = c->mode};
    memcpy(out->in_shape, l->in_shape, sizeof out->in_shape);
    memcpy(out->out_shape, l->out_shape, sizeof out->out_shape);
    return CLCNN_OK;
}
