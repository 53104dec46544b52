/* A layer's configuration and shapes, as the public API reports them:
 * the settings its family declares (src/ops/family.h), zero elsewhere. */
#include <string.h>

#include "model.h"
#include "ops/family.h"

int clcnn_model_layer_config(const clcnn_model *m, size_t i, clcnn_layer_config *out)
{
    if (!m || !out || i >= m->nlayers)
        return CLCNN_ERR_ARGUMENT;
    const layer *l = &m->layers[i];
    memset(out, 0, sizeof *out);
    out->kind = l->cfg.kind;
    out->name = l->family->name;
    out->type = l->family->type(&l->cfg);
    for (size_t k = 0; k < l->family->nfields; k++) {
        const layer_field *f = &l->family->fields[k];
        memcpy((unsigned char *)out + f->public_offset, (const unsigned char *)&l->cfg + f->offset, f->size);
    }
    memcpy(out->in_shape, l->in_shape, sizeof out->in_shape);
    memcpy(out->out_shape, l->out_shape, sizeof out->out_shape);
    return CLCNN_OK;
}
