/* The table of layer families, indexed by kind. */
#include "ops/family.h"

static const layer_family *const families[] = {
    [CLCNN_LAYER_CONV] = &clcnn_conv_family,
    [CLCNN_LAYER_POOL] = &clcnn_pool_family,
    [CLCNN_LAYER_FLATTEN] = &clcnn_flatten_family,
    [CLCNN_LAYER_DENSE] = &clcnn_dense_family,
    [CLCNN_LAYER_ACTIVATION] = &clcnn_activation_family,
    [CLCNN_LAYER_LRN] = &clcnn_lrn_family,
    [CLCNN_LAYER_DROPOUT] = &clcnn_dropout_family,
};

const layer_family *clcnn_layer_family(clcnn_layer_kind kind)
{
    if ((unsigned)kind >= sizeof families / sizeof families[0])
        return NULL;
    return families[kind];
}
