/* clcnn_model_save_onnx: a model as an ONNX graph (opset 13) with an NCHW
 * input, built from the public layer configuration and parameters and
 * packed by protobuf-c. */
#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "io.h"
#include "model/model.h"
#include "onnx_common.h"

#define MAX_ATTRS 6
#define NAME_LEN 48

/* The protobuf objects of one layer: at most three nodes (a Flatten, the
 * layer, the activation it applies), two initializers. */
typedef struct layer_pb {
    Onnx__NodeProto node[3];
    Onnx__NodeProto *nodep[3];
    size_t nnodes;
    Onnx__AttributeProto attr[3][MAX_ATTRS];
    Onnx__AttributeProto *attrp[3][MAX_ATTRS];
    int64_t ints[3][MAX_ATTRS][4];
    char *in[3][3], *out[3][1];
    char names[7][NAME_LEN]; /* nodes 1-3, weight, bias, before the activation,
                                flattened */
    char value[NAME_LEN];    /* this layer's output */
    Onnx__TensorProto init[2];
    int64_t dims[2][4];
    unsigned char *raw[2];
    size_t rawlen[2];
} layer_pb;

typedef struct writer {
    clcnn_model *m;
    clcnn_ctx *ctx;
    const clcnn_allocator *a;
    const char *path;
    layer_pb *l;
    size_t nl;
    int rank;           /* the current value's rank: 4 (NCHW) or 2 */
    int permute;        /* the next dense layer reads a flatten of flat_src */
    size_t flat_src[3]; /* (h, w, c) */
} writer;

static int layer_fail(writer *w, size_t i, int status, const char *what)
{
    char name[64];
    snprintf(name, sizeof name, "layer %zu", i + 1);
    clcnn_layer_config cfg;
    if (clcnn_model_layer_config(w->m, i, &cfg) == CLCNN_OK)
        snprintf(name, sizeof name, "layer %zu (%s)", i + 1, cfg.name);
    return clcnn_error(w->ctx, status, "%s: %s: %s", w->path, name, what);
}

/* Node k of layer pb: op, inputs (n of them), output. */
static Onnx__NodeProto *add_node(layer_pb *pb, const char *op, char **inputs, size_t n, char *output)
{
    size_t k = pb->nnodes++;
    Onnx__NodeProto *node = &pb->node[k];
    onnx__node_proto__init(node);
    for (size_t i = 0; i < n; i++)
        pb->in[k][i] = inputs[i];
    pb->out[k][0] = output;
    node->n_input = n;
    node->input = pb->in[k];
    node->n_output = 1;
    node->output = pb->out[k];
    node->op_type = (char *)op;
    node->name = pb->names[k];
    node->attribute = pb->attrp[k];
    pb->nodep[k] = node;
    return node;
}

static Onnx__AttributeProto *add_attr(layer_pb *pb, Onnx__NodeProto *node, const char *name)
{
    size_t k = (size_t)(node - pb->node), j = node->n_attribute++;
    Onnx__AttributeProto *a = &pb->attr[k][j];
    onnx__attribute_proto__init(a);
    a->name = (char *)name;
    a->has_type = 1;
    pb->attrp[k][j] = a;
    return a;
}

static void attr_int(layer_pb *pb, Onnx__NodeProto *node, const char *name, int64_t v)
{
    Onnx__AttributeProto *a = add_attr(pb, node, name);
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    a->has_i = 1;
    a->i = v;
}

static void attr_float(layer_pb *pb, Onnx__NodeProto *node, const char *name, float v)
{
    Onnx__AttributeProto *a = add_attr(pb, node, name);
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    a->has_f = 1;
    a->f = v;
}

static void attr_ints(layer_pb *pb, Onnx__NodeProto *node, const char *name, const int64_t *v, size_t n)
{
    size_t k = (size_t)(node - pb->node), j = node->n_attribute;
    Onnx__AttributeProto *a = add_attr(pb, node, name);
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    memcpy(pb->ints[k][j], v, n * sizeof *v);
    a->n_ints = n;
    a->ints = pb->ints[k][j];
}

/* Initializer k (0 weight, 1 bias) of layer pb, from n floats. */
static int add_init(writer *w, layer_pb *pb, int k, const float *v, size_t n, const int64_t *dims, size_t ndims)
{
    Onnx__TensorProto *t = &pb->init[k];
    onnx__tensor_proto__init(t);
    if (!(pb->raw[k] = clcnn_mem_alloc(w->a, n * 4)))
        return clcnn_error(w->ctx, CLCNN_ERR_NOMEM, "%s: out of memory", w->path);
    pb->rawlen[k] = n * 4;
    for (size_t i = 0; i < n; i++)
        put_lef32(pb->raw[k] + 4 * i, v[i]);
    memcpy(pb->dims[k], dims, ndims * sizeof *dims);
    t->n_dims = ndims;
    t->dims = pb->dims[k];
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t->name = pb->names[3 + k];
    t->has_raw_data = 1;
    t->raw_data.len = pb->rawlen[k];
    t->raw_data.data = pb->raw[k];
    return CLCNN_OK;
}

/* Parameter which of layer i into a new block of *n floats. */
static int read_param(writer *w, size_t i, int which, float **v, size_t *n)
{
    *n = clcnn_model_param_size(w->m, i, which);
    if (!(*v = clcnn_mem_array(w->a, *n, sizeof **v)))
        return clcnn_error(w->ctx, CLCNN_ERR_NOMEM, "%s: out of memory", w->path);
    int st = clcnn_model_read_param(w->m, i, which, *v, *n);
    if (st) {
        clcnn_mem_free(w->a, *v, *n * sizeof **v);
        *v = NULL;
    }
    return st;
}

static const char *activation_op(clcnn_activation act)
{
    switch (act) {
    case CLCNN_ACT_RELU: return "Relu";
    case CLCNN_ACT_SIGMOID: return "Sigmoid";
    case CLCNN_ACT_TANH: return "Tanh";
    case CLCNN_ACT_SOFTMAX: return "Softmax";
    default: return NULL;
    }
}

/* The activation a conv or dense layer applies, as a second node. */
static void add_activation(layer_pb *pb, Onnx__NodeProto *first, clcnn_activation act)
{
    const char *op = activation_op(act);
    if (!op)
        return;
    first->output[0] = pb->names[5];
    char *in = pb->names[5];
    Onnx__NodeProto *node = add_node(pb, op, &in, 1, pb->value);
    if (act == CLCNN_ACT_SOFTMAX)
        attr_int(pb, node, "axis", 1); /* the channels, of (N, C, H, W) or (N, F) */
}

static int write_conv(writer *w, size_t i, const clcnn_layer_config *c, char *in)
{
    layer_pb *pb = &w->l[i];
    int64_t k[2] = {c->kernel_h, c->kernel_w}, s[2] = {c->stride_h, c->stride_w};
    int64_t d[2] = {c->conv.dilation_h, c->conv.dilation_w};
    int64_t pads[4] = {c->conv.pad_top, c->conv.pad_left, c->conv.pad_bottom, c->conv.pad_right};
    if (c->padding != CLCNN_PAD_EXPLICIT)
        for (int a = 0; a < 2; a++) {
            /* TensorFlow's same (clcnn's), as explicit pads; valid: none. */
            int64_t in_n = (int64_t)c->in_shape[a], out = (int64_t)c->out_shape[a];
            int64_t total = (out - 1) * s[a] + (k[a] - 1) * d[a] + 1 - in_n;
            total = c->padding == CLCNN_PAD_SAME && total > 0 ? total : 0;
            pads[a] = total / 2;
            pads[a + 2] = total - total / 2;
        }
    size_t o = c->units, cin = c->in_shape[2] / (size_t)c->conv.groups, nw, nb;
    float *v = NULL, *b = NULL, *oihw = NULL;
    int st = read_param(w, i, 0, &v, &nw);
    if (st == CLCNN_OK)
        st = read_param(w, i, 1, &b, &nb);
    if (st == CLCNN_OK && !(oihw = clcnn_mem_array(w->a, nw, sizeof *oihw)))
        st = clcnn_error(w->ctx, CLCNN_ERR_NOMEM, "%s: out of memory", w->path);
    if (st == CLCNN_OK) {
        onnx_conv_to_oihw(v, oihw, o, cin, (size_t)k[0], (size_t)k[1]);
        int64_t wd[4] = {(int64_t)o, (int64_t)cin, k[0], k[1]}, bd[1] = {(int64_t)o};
        st = add_init(w, pb, 0, oihw, nw, wd, 4);
        if (st == CLCNN_OK)
            st = add_init(w, pb, 1, b, nb, bd, 1);
    }
    clcnn_mem_free(w->a, v, nw * sizeof *v);
    clcnn_mem_free(w->a, b, nb * sizeof *b);
    clcnn_mem_free(w->a, oihw, nw * sizeof *oihw);
    if (st)
        return st;
    char *inputs[3] = {in, pb->names[3], pb->names[4]};
    Onnx__NodeProto *node = add_node(pb, "Conv", inputs, 3, pb->value);
    attr_ints(pb, node, "kernel_shape", k, 2);
    attr_ints(pb, node, "strides", s, 2);
    attr_ints(pb, node, "pads", pads, 4);
    attr_ints(pb, node, "dilations", d, 2);
    attr_int(pb, node, "group", c->conv.groups);
    add_activation(pb, node, c->activation);
    return CLCNN_OK;
}

static int write_pool(writer *w, size_t i, const clcnn_layer_config *c, char *in)
{
    layer_pb *pb = &w->l[i];
    int64_t k[2] = {c->kernel_h, c->kernel_w}, s[2] = {c->stride_h, c->stride_w};
    int64_t pads[4] = {c->pool.pad_top, c->pool.pad_left, c->pool.pad_bottom, c->pool.pad_right};
    for (int a = 0; a < 2; a++)
        if (onnx_pool_out((int64_t)c->in_shape[a], k[a], s[a], pads[a] + pads[a + 2], c->pool.ceil_mode) !=
            (int64_t)c->out_shape[a])
            return layer_fail(w, i, CLCNN_ERR_UNSUPPORTED,
                              "its ceil-mode last window starts in the padding, "
                              "which ONNX's pooling counts and "
                              "clcnn's (as PyTorch's) does not");
    Onnx__NodeProto *node = add_node(pb, c->mode == CLCNN_POOL_MAX ? "MaxPool" : "AveragePool", &in, 1, pb->value);
    attr_ints(pb, node, "kernel_shape", k, 2);
    attr_ints(pb, node, "strides", s, 2);
    attr_ints(pb, node, "pads", pads, 4);
    if (c->pool.ceil_mode)
        attr_int(pb, node, "ceil_mode", 1);
    if (c->mode == CLCNN_POOL_AVG && c->pool.count_include_pad)
        attr_int(pb, node, "count_include_pad", 1);
    return CLCNN_OK;
}

static int write_dense(writer *w, size_t i, const clcnn_layer_config *c, char *in)
{
    layer_pb *pb = &w->l[i];
    size_t k = c->in_shape[0] * c->in_shape[1] * c->in_shape[2], n = c->units, nw, nb;
    if (w->rank == 4) {
        /* A dense layer straight on an (h, w, c) input flattens it. */
        memcpy(w->flat_src, c->in_shape, sizeof w->flat_src);
        w->permute = 1;
        Onnx__NodeProto *f = add_node(pb, "Flatten", &in, 1, pb->names[6]);
        attr_int(pb, f, "axis", 1);
        in = pb->names[6];
        w->rank = 2;
    }
    float *v = NULL, *b = NULL, *chw = NULL;
    int st = read_param(w, i, 0, &v, &nw);
    if (st == CLCNN_OK)
        st = read_param(w, i, 1, &b, &nb);
    if (st == CLCNN_OK && w->permute && !(chw = clcnn_mem_array(w->a, nw, sizeof *chw)))
        st = clcnn_error(w->ctx, CLCNN_ERR_NOMEM, "%s: out of memory", w->path);
    if (st == CLCNN_OK) {
        if (chw)
            onnx_dense_to_chw(v, chw, w->flat_src[0], w->flat_src[1], w->flat_src[2], n);
        int64_t wd[2] = {(int64_t)k, (int64_t)n}, bd[1] = {(int64_t)n};
        st = add_init(w, pb, 0, chw ? chw : v, nw, wd, 2);
        if (st == CLCNN_OK)
            st = add_init(w, pb, 1, b, nb, bd, 1);
    }
    clcnn_mem_free(w->a, v, nw * sizeof *v);
    clcnn_mem_free(w->a, b, nb * sizeof *b);
    clcnn_mem_free(w->a, chw, nw * sizeof *chw);
    if (st)
        return st;
    w->permute = 0;
    char *inputs[3] = {in, pb->names[3], pb->names[4]};
    Onnx__NodeProto *node = add_node(pb, "Gemm", inputs, 3, pb->value);
    add_activation(pb, node, c->activation);
    return CLCNN_OK;
}

static int write_layer(writer *w, size_t i, char *in)
{
    clcnn_layer_config c;
    int st = clcnn_model_layer_config(w->m, i, &c);
    if (st)
        return st;
    layer_pb *pb = &w->l[i];
    for (int k = 0; k < 3; k++)
        snprintf(pb->names[k], NAME_LEN, "layer%zu_%s_%d", i + 1, c.name, k + 1);
    snprintf(pb->names[3], NAME_LEN, "layer%zu.weight", i + 1);
    snprintf(pb->names[4], NAME_LEN, "layer%zu.bias", i + 1);
    snprintf(pb->names[6], NAME_LEN, "layer%zu_flat", i + 1);
    if (i + 1 == clcnn_model_layer_count(w->m))
        snprintf(pb->value, NAME_LEN, "output");
    else
        snprintf(pb->value, NAME_LEN, "layer%zu", i + 1);
    snprintf(pb->names[5], NAME_LEN, "layer%zu_pre", i + 1);
    switch (c.kind) {
    case CLCNN_LAYER_CONV: return write_conv(w, i, &c, in);
    case CLCNN_LAYER_POOL: return write_pool(w, i, &c, in);
    case CLCNN_LAYER_DENSE: return write_dense(w, i, &c, in);
    case CLCNN_LAYER_FLATTEN: {
        Onnx__NodeProto *node = add_node(pb, "Flatten", &in, 1, pb->value);
        attr_int(pb, node, "axis", 1);
        if (w->rank == 4) {
            memcpy(w->flat_src, c.in_shape, sizeof w->flat_src);
            w->permute = 1;
        }
        w->rank = 2;
        return CLCNN_OK;
    }
    case CLCNN_LAYER_ACTIVATION: {
        const char *op = activation_op(c.activation);
        Onnx__NodeProto *node = add_node(pb, op ? op : "Identity", &in, 1, pb->value);
        if (c.activation == CLCNN_ACT_SOFTMAX)
            attr_int(pb, node, "axis", 1);
        return CLCNN_OK;
    }
    case CLCNN_LAYER_LRN: {
        if (c.lrn.size % 2 == 0)
            return layer_fail(w, i, CLCNN_ERR_UNSUPPORTED,
                              "an even size has no ONNX LRN (its window has one "
                              "channel more above, clcnn's below)");
        Onnx__NodeProto *node = add_node(pb, "LRN", &in, 1, pb->value);
        attr_int(pb, node, "size", c.lrn.size);
        attr_float(pb, node, "alpha", c.lrn.alpha * (float)c.lrn.size); /* ONNX divides it by size */
        attr_float(pb, node, "beta", c.lrn.beta);
        attr_float(pb, node, "bias", c.lrn.k);
        return CLCNN_OK;
    }
    case CLCNN_LAYER_DROPOUT: {
        /* Opset 13's Dropout: the ratio an input, the identity in inference. */
        int64_t none[1] = {0};
        int st = add_init(w, pb, 0, &c.dropout.rate, 1, none, 0);
        if (st)
            return st;
        char *inputs[2] = {in, pb->names[3]};
        add_node(pb, "Dropout", inputs, 2, pb->value);
        return CLCNN_OK;
    }
    default: return layer_fail(w, i, CLCNN_ERR_UNSUPPORTED, "this kind of layer has no ONNX export");
    }
}

/* A float tensor's value info: (N, dims...) with N symbolic. */
typedef struct value_pb {
    Onnx__ValueInfoProto info;
    Onnx__TypeProto type;
    Onnx__TypeProto__Tensor tensor;
    Onnx__TensorShapeProto shape;
    Onnx__TensorShapeProto__Dimension dim[4];
    Onnx__TensorShapeProto__Dimension *dimp[4];
} value_pb;

static void value_info(value_pb *v, const char *name, const size_t *dims, size_t rank)
{
    onnx__value_info_proto__init(&v->info);
    onnx__type_proto__init(&v->type);
    onnx__type_proto__tensor__init(&v->tensor);
    onnx__tensor_shape_proto__init(&v->shape);
    for (size_t i = 0; i < rank; i++) {
        onnx__tensor_shape_proto__dimension__init(&v->dim[i]);
        if (i == 0) {
            v->dim[i].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            v->dim[i].dim_param = "N";
        } else {
            v->dim[i].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            v->dim[i].dim_value = (int64_t)dims[i - 1];
        }
        v->dimp[i] = &v->dim[i];
    }
    v->shape.n_dim = rank;
    v->shape.dim = v->dimp;
    v->tensor.has_elem_type = 1;
    v->tensor.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    v->tensor.shape = &v->shape;
    v->type.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    v->type.tensor_type = &v->tensor;
    v->info.name = (char *)name;
    v->info.type = &v->type;
}

/* The whole model, packed into *bytes (len bytes from w->a). */
static int pack(writer *w, unsigned char **bytes, size_t *len)
{
    clcnn_model *m = w->m;
    size_t in[3];
    clcnn_model_input_shape(m, in);
    clcnn_layer_config first;
    clcnn_model_layer_config(m, 0, &first);
    /* (N, F) when the model starts with a dense layer on a flat input */
    int flat_in = in[0] == 1 && in[1] == 1 && first.kind == CLCNN_LAYER_DENSE;
    w->rank = flat_in ? 2 : 4;
    char input_name[] = "input";
    char *prev = input_name;
    int st = CLCNN_OK;
    size_t nnodes = 0, ninit = 0;
    for (size_t i = 0; i < w->nl && st == CLCNN_OK; i++) {
        st = write_layer(w, i, prev);
        prev = w->l[i].value;
        nnodes += w->l[i].nnodes;
        ninit += w->l[i].raw[0] ? 1 + (w->l[i].raw[1] != NULL) : 0;
    }
    if (st)
        return st;
    Onnx__NodeProto **nodes = clcnn_mem_array(w->a, nnodes, sizeof *nodes);
    Onnx__TensorProto **inits = clcnn_mem_array(w->a, ninit ? ninit : 1, sizeof *inits);
    value_pb *vin = clcnn_mem_calloc(w->a, 2, sizeof *vin);
    /* The class names, one per line. */
    size_t classes = clcnn_model_classes(m), names_len = 1;
    int named = clcnn_model_class_name(m, 0) != NULL;
    for (size_t c = 0; named && c < classes; c++)
        names_len += strlen(clcnn_model_class_name(m, c)) + 1;
    char *names = named ? clcnn_mem_alloc(w->a, names_len) : NULL;
    if (!nodes || !inits || !vin || (named && !names)) {
        st = clcnn_error(w->ctx, CLCNN_ERR_NOMEM, "%s: out of memory", w->path);
        goto done;
    }
    size_t a = 0, b = 0;
    for (size_t i = 0; i < w->nl; i++) {
        for (size_t k = 0; k < w->l[i].nnodes; k++)
            nodes[a++] = w->l[i].nodep[k];
        for (int k = 0; k < 2; k++)
            if (w->l[i].raw[k])
                inits[b++] = &w->l[i].init[k];
    }
    size_t in_dims[3] = {in[2], in[0], in[1]}; /* C, H, W */
    value_info(&vin[0], "input", in_dims, flat_in ? 2 : 4);
    clcnn_layer_config last;
    clcnn_model_layer_config(m, w->nl - 1, &last);
    size_t out_dims[3] = {last.out_shape[2], last.out_shape[0], last.out_shape[1]};
    value_info(&vin[1], "output", out_dims, w->rank);
    Onnx__ValueInfoProto *inp = &vin[0].info, *outp = &vin[1].info;

    Onnx__GraphProto g;
    onnx__graph_proto__init(&g);
    g.name = "clcnn";
    g.n_node = nnodes;
    g.node = nodes;
    g.n_initializer = ninit;
    g.initializer = inits;
    g.n_input = 1;
    g.input = &inp;
    g.n_output = 1;
    g.output = &outp;

    Onnx__OperatorSetIdProto opset;
    onnx__operator_set_id_proto__init(&opset);
    opset.domain = "";
    opset.has_version = 1;
    opset.version = ONNX_OPSET_EXPORT;
    Onnx__OperatorSetIdProto *opsetp = &opset;

    Onnx__StringStringEntryProto meta;
    onnx__string_string_entry_proto__init(&meta);
    Onnx__StringStringEntryProto *metap = &meta;
    if (named) {
        char *p = names;
        for (size_t c = 0; c < classes; c++)
            p += sprintf(p, "%s%s", c ? "\n" : "", clcnn_model_class_name(m, c));
        meta.key = ONNX_CLASS_NAMES_KEY;
        meta.value = names;
    }

    Onnx__ModelProto mp;
    onnx__model_proto__init(&mp);
    mp.has_ir_version = 1;
    mp.ir_version = ONNX__VERSION__IR_VERSION;
    mp.n_opset_import = 1;
    mp.opset_import = &opsetp;
    mp.producer_name = "clcnn";
    mp.producer_version = (char *)clcnn_version();
    mp.graph = &g;
    mp.n_metadata_props = named ? 1 : 0;
    mp.metadata_props = &metap;

    *len = onnx__model_proto__get_packed_size(&mp);
    if (!(*bytes = clcnn_mem_alloc(w->a, *len ? *len : 1))) {
        st = clcnn_error(w->ctx, CLCNN_ERR_NOMEM, "%s: out of memory", w->path);
        goto done;
    }
    onnx__model_proto__pack(&mp, *bytes);
done:
    clcnn_mem_free(w->a, nodes, nnodes * sizeof *nodes);
    clcnn_mem_free(w->a, inits, (ninit ? ninit : 1) * sizeof *inits);
    clcnn_mem_free(w->a, vin, 2 * sizeof *vin);
    clcnn_mem_free(w->a, names, names_len);
    return st;
}

int clcnn_model_save_onnx(clcnn_model *m, const char *path)
{
    if (!m)
        return CLCNN_ERR_ARGUMENT;
    clcnn_ctx *ctx = m->ctx;
    if (!path)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_model_save_onnx: NULL path");
    size_t nl = clcnn_model_layer_count(m);
    if (nl == 0)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "%s: the model has no layers", path);
    writer w = {.m = m, .ctx = ctx, .a = &ctx->allocator, .path = path, .nl = nl};
    if (!(w.l = clcnn_mem_calloc(w.a, nl, sizeof *w.l)))
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory", path);
    unsigned char *bytes = NULL;
    size_t len = 0;
    int st = pack(&w, &bytes, &len);
    if (st == CLCNN_OK)
        st = clcnn_write_file_atomic(ctx, path, bytes, len);
    clcnn_mem_free(w.a, bytes, len ? len : 1);
    for (size_t i = 0; i < nl; i++)
        for (int k = 0; k < 2; k++)
            clcnn_mem_free(w.a, w.l[i].raw[k], w.l[i].rawlen[k]);
    clcnn_mem_free(w.a, w.l, nl * sizeof *w.l);
    return st;
}
