/* clcnn_model_load_onnx: an ONNX graph that is a chain of clcnn's layers,
 * read through protobuf-c and appended with the public clcnn_model_add_*
 * calls, its weights converted from NCHW/OIHW to clcnn's layouts. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "io.h"
#include "onnx_common.h"

/* A conv or dense layer read but not yet appended: a BatchNormalization
 * or an activation after it may still change it. */
typedef struct pending {
    clcnn_layer_kind kind; /* 0: none; CLCNN_LAYER_CONV or CLCNN_LAYER_DENSE */
    size_t units;
    int kh, kw;
    clcnn_conv_params cp;
    clcnn_activation act;
    int folded;    /* a BatchNormalization or Add is in its weights */
    float *w, *b;  /* clcnn's layouts; the output channel is the last axis of both */
    size_t nw, nb; /* their element counts */
    size_t node;   /* the node it came from, for messages */
} pending;

/* The weights of an appended layer, written once the model is complete. */
typedef struct staged {
    size_t layer;
    float *w, *b;
    size_t nw, nb;
} staged;

typedef struct reader {
    clcnn_ctx *ctx;
    const clcnn_allocator *a;
    const char *path;
    const Onnx__GraphProto *g;
    int64_t opset;
    clcnn_model *m;
    const char *cur; /* the chain's current value */
    int flat;        /* 1: it is (N, F); 0: (N, C, H, W) */
    size_t shape[3]; /* its shape per example, clcnn's (h, w, c) */
    int64_t batch;   /* the graph input's N; -1 when symbolic */
    int permute;     /* the next dense layer reads a flatten of flat_src */
    size_t flat_src[3];
    pending p;
    staged st[ONNX_MAX_NODES];
    size_t nst;
    size_t node; /* the node being read */
} reader;

static const Onnx__NodeProto *node_at(const reader *r, size_t i)
{
    return r->g->node[i];
}

static const char *str(const char *s)
{
    return s ? s : "";
}

/* "FILE: node 3 'conv1' (Conv): ..." */
static int node_fail_at(reader *r, size_t i, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static int node_fail_at(reader *r, size_t i, int status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const Onnx__NodeProto *n = node_at(r, i);
    return clcnn_error(r->ctx, status, "%s: node %zu '%.100s' (%.60s): %s", r->path, i + 1, str(n->name),
                       str(n->op_type), msg);
}

#define node_fail(r, status, ...) node_fail_at((r), (r)->node, (status), __VA_ARGS__)

/* The message a clcnn call left on the context, copied (a new message is
 * formatted into the same buffer). */
static void last_message(reader *r, char *buf, size_t len)
{
    snprintf(buf, len, "%s", clcnn_errmsg(r->ctx));
}

/* ---- attributes */

static const Onnx__AttributeProto *attr(const reader *r, const char *name)
{
    const Onnx__NodeProto *n = node_at(r, r->node);
    for (size_t i = 0; i < n->n_attribute; i++)
        if (n->attribute[i]->name && strcmp(n->attribute[i]->name, name) == 0)
            return n->attribute[i];
    return NULL;
}

/* Every attribute of the node must be one of allowed (NULL-terminated). */
static int check_attrs(reader *r, const char *const *allowed)
{
    const Onnx__NodeProto *n = node_at(r, r->node);
    for (size_t i = 0; i < n->n_attribute; i++) {
        const char *name = str(n->attribute[i]->name);
        size_t k = 0;
        while (allowed[k] && strcmp(allowed[k], name) != 0)
            k++;
        if (!allowed[k])
            return node_fail(r, CLCNN_ERR_UNSUPPORTED, "attribute '%.60s' is unsupported", name);
    }
    return CLCNN_OK;
}

static int attr_type_is(const Onnx__AttributeProto *a, Onnx__AttributeProto__AttributeType t)
{
    return !a->has_type || a->type == t;
}

static int attr_int(reader *r, const char *name, int64_t def, int64_t *out)
{
    const Onnx__AttributeProto *a = attr(r, name);
    *out = def;
    if (!a)
        return CLCNN_OK;
    if (!attr_type_is(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT) || !a->has_i)
        return node_fail(r, CLCNN_ERR_FORMAT, "attribute '%s' is not an integer", name);
    *out = a->i;
    return CLCNN_OK;
}

static int attr_float(reader *r, const char *name, float def, float *out)
{
    const Onnx__AttributeProto *a = attr(r, name);
    *out = def;
    if (!a)
        return CLCNN_OK;
    if (!attr_type_is(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT) || !a->has_f)
        return node_fail(r, CLCNN_ERR_FORMAT, "attribute '%s' is not a float", name);
    *out = a->f;
    return CLCNN_OK;
}

/* An INTS attribute of exactly n values into out (left as it is when absent).
 */
static int attr_ints(reader *r, const char *name, size_t n, int64_t *out)
{
    const Onnx__AttributeProto *a = attr(r, name);
    if (!a)
        return CLCNN_OK;
    if (!attr_type_is(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS))
        return node_fail(r, CLCNN_ERR_FORMAT, "attribute '%s' is not a list of integers", name);
    if (a->n_ints != n)
        return node_fail(r, CLCNN_ERR_UNSUPPORTED, "attribute '%s' has %zu values (clcnn takes 2-D: %zu)", name,
                         a->n_ints, n);
    for (size_t i = 0; i < n; i++)
        out[i] = a->ints[i];
    return CLCNN_OK;
}

/* A STRING attribute (def when absent), at most len - 1 bytes. */
static int attr_string(reader *r, const char *name, const char *def, char *buf, size_t len)
{
    const Onnx__AttributeProto *a = attr(r, name);
    snprintf(buf, len, "%s", def);
    if (!a)
        return CLCNN_OK;
    if (!attr_type_is(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING) || !a->has_s || a->s.len >= len ||
        memchr(a->s.data, 0, a->s.len))
        return node_fail(r, CLCNN_ERR_FORMAT, "attribute '%s' is not a short string", name);
    memcpy(buf, a->s.data, a->s.len);
    buf[a->s.len] = '\0';
    return CLCNN_OK;
}

/* ---- tensors: initializers and Constant nodes */

static const Onnx__TensorProto *constant(const reader *r, const char *name)
{
    if (!name || !*name)
        return NULL;
    for (size_t i = 0; i < r->g->n_initializer; i++)
        if (r->g->initializer[i]->name && strcmp(r->g->initializer[i]->name, name) == 0)
            return r->g->initializer[i];
    /* A Constant node before the one being read. */
    for (size_t i = 0; i < r->node; i++) {
        const Onnx__NodeProto *n = node_at(r, i);
        if (n->op_type && strcmp(n->op_type, "Constant") == 0 && n->n_output == 1 && n->output[0] &&
            strcmp(n->output[0], name) == 0 && n->n_attribute == 1 && n->attribute[0]->t &&
            strcmp(str(n->attribute[0]->name), "value") == 0)
            return n->attribute[0]->t;
    }
    return NULL;
}

/* Input k of the node as a constant tensor, or an error naming it. */
static int input_constant(reader *r, size_t k, const char *what, const Onnx__TensorProto **t)
{
    const Onnx__NodeProto *n = node_at(r, r->node);
    *t = k < n->n_input ? constant(r, n->input[k]) : NULL;
    if (!*t)
        return node_fail(r, CLCNN_ERR_UNSUPPORTED, "its %s ('%.100s') is not an initializer or a Constant", what,
                         k < n->n_input ? str(n->input[k]) : "missing");
    return CLCNN_OK;
}

/* The element count of t's dims, checked. */
static int tensor_count(reader *r, const Onnx__TensorProto *t, const char *what, size_t *count)
{
    size_t c = 1;
    for (size_t i = 0; i < t->n_dims; i++) {
        if (t->dims[i] < 0 || (uint64_t)t->dims[i] > ONNX_MAX_ELEMENTS)
            return node_fail(r, CLCNN_ERR_FORMAT, "%s '%.100s' has dimension %lld", what, str(t->name),
                             (long long)t->dims[i]);
        c *= (size_t)t->dims[i];
        if (c > ONNX_MAX_ELEMENTS)
            return node_fail(r, CLCNN_ERR_FORMAT, "%s '%.100s' has over %zu elements", what, str(t->name),
                             ONNX_MAX_ELEMENTS);
    }
    if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        return node_fail(r, CLCNN_ERR_UNSUPPORTED, "%s '%.100s' keeps its data in an external file", what,
                         str(t->name));
    *count = c;
    return CLCNN_OK;
}

/* t's float32 values into a new block of *count floats (free with
 * clcnn_mem_free); raw little-endian bytes or a float list. */
static int tensor_floats(reader *r, const Onnx__TensorProto *t, const char *what, float **out, size_t *count)
{
    *out = NULL;
    int st = tensor_count(r, t, what, count);
    if (st)
        return st;
    if (!t->has_data_type || t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
        return node_fail(r, CLCNN_ERR_UNSUPPORTED, "%s '%.100s' has data type %d (clcnn takes float32, 1)", what,
                         str(t->name), t->has_data_type ? (int)t->data_type : 0);
    size_t n = *count, have = t->has_raw_data ? t->raw_data.len / 4 : t->n_float_data;
    if ((t->has_raw_data && t->raw_data.len % 4) || have != n || (t->has_raw_data && t->n_float_data))
        return node_fail(r, CLCNN_ERR_FORMAT, "%s '%.100s' holds %zu values for its %zu elements", what, str(t->name),
                         have, n);
    if (n == 0)
        return node_fail(r, CLCNN_ERR_FORMAT, "%s '%.100s' is empty", what, str(t->name));
    float *v = clcnn_mem_array(r->a, n, sizeof *v);
    if (!v)
        return node_fail(r, CLCNN_ERR_NOMEM, "out of memory for %s '%.100s'", what, str(t->name));
    for (size_t i = 0; i < n; i++) {
        v[i] = t->has_raw_data ? get_lef32(t->raw_data.data + 4 * i) : t->float_data[i];
        if (!isfinite(v[i])) {
            clcnn_mem_free(r->a, v, n * sizeof *v);
            return node_fail(r, CLCNN_ERR_NUMERIC, "%s '%.100s' holds a NaN or an infinity (element %zu)", what,
                             str(t->name), i);
        }
    }
    *out = v;
    return CLCNN_OK;
}

/* A small int64 tensor (at most max values) into out. */
static int tensor_ints(reader *r, const Onnx__TensorProto *t, const char *what, int64_t *out, size_t max, size_t *count)
{
    int st = tensor_count(r, t, what, count);
    if (st)
        return st;
    if (!t->has_data_type || t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__INT64)
        return node_fail(r, CLCNN_ERR_UNSUPPORTED, "%s '%.100s' is not int64", what, str(t->name));
    size_t n = *count, have = t->has_raw_data ? t->raw_data.len / 8 : t->n_int64_data;
    if ((t->has_raw_data && t->raw_data.len % 8) || have != n)
        return node_fail(r, CLCNN_ERR_FORMAT, "%s '%.100s' holds %zu values for its %zu elements", what, str(t->name),
                         have, n);
    if (n > max)
        return node_fail(r, CLCNN_ERR_UNSUPPORTED, "%s '%.100s' has %zu values (clcnn takes %zu)", what, str(t->name),
                         n, max);
    for (size_t i = 0; i < n; i++)
        out[i] = t->has_raw_data ? (int64_t)get_le64(t->raw_data.data + 8 * i) : t->int64_data[i];
    return CLCNN_OK;
}

/* A float tensor of exactly n elements whatever its dims (a bias or a
 * BatchNormalization vector); NULL name: absent, zeros (*out NULL). */
static int vector_floats(reader *r, size_t k, const char *what, size_t n, float **out)
{
    const Onnx__TensorProto *t;
    size_t count;
    int st = input_constant(r, k, what, &t);
    if (st == CLCNN_OK)
        st = tensor_floats(r, t, what, out, &count);
    if (st == CLCNN_OK && count != n) {
        clcnn_mem_free(r->a, *out, count * sizeof **out);
        *out = NULL;
        st = node_fail(r, CLCNN_ERR_FORMAT, "%s '%.100s' has %zu values (want %zu)", what, str(t->name), count, n);
    }
    return st;
}

/* ---- the chain */

static int used_from(const reader *r, const char *name, size_t from)
{
    if (!name || !*name)
        return 0;
    for (size_t i = from; i < r->g->n_node; i++) {
        const Onnx__NodeProto *n = node_at(r, i);
        for (size_t k = 0; k < n->n_input; k++)
            if (n->input[k] && strcmp(n->input[k], name) == 0)
                return 1;
    }
    for (size_t i = 0; i < r->g->n_output; i++)
        if (r->g->output[i]->name && strcmp(r->g->output[i]->name, name) == 0)
            return 1;
    return 0;
}

/* The node's outputs past the first must be unused (a Dropout's mask, a
 * MaxPool's indices, a BatchNormalization's running statistics). */
static int extra_outputs_unused(reader *r)
{
    const Onnx__NodeProto *n = node_at(r, r->node);
    for (size_t k = 1; k < n->n_output; k++)
        if (used_from(r, n->output[k], r->node + 1))
            return node_fail(r, CLCNN_ERR_UNSUPPORTED,
                             "its output %zu ('%.100s') is used: clcnn computes only the first", k + 1,
                             str(n->output[k]));
    return CLCNN_OK;
}

static void free_pending(reader *r)
{
    clcnn_mem_free(r->a, r->p.w, r->p.nw * sizeof(float));
    clcnn_mem_free(r->a, r->p.b, r->p.nb * sizeof(float));
    r->p = (pending){0};
}

/* The layer just appended: its output becomes the current shape. */
static void took_layer(reader *r)
{
    clcnn_layer_kind kind;
    clcnn_model_layer_info(r->m, clcnn_model_layer_count(r->m) - 1, &kind, r->shape);
}

static int all_finite(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

/* Appends the pending conv or dense layer, keeping its weights. */
static int flush(reader *r)
{
    pending *p = &r->p;
    size_t node = p->node;
    if (!p->kind)
        return CLCNN_OK;
    /* alpha, beta, a folded BatchNormalization or Add may overflow. */
    if (!all_finite(p->w, p->nw) || !all_finite(p->b, p->nb)) {
        free_pending(r);
        return node_fail_at(r, node, CLCNN_ERR_NUMERIC, "its weights are not finite once scaled and folded");
    }
    int st = p->kind == CLCNN_LAYER_CONV ? clcnn_model_add_conv2d(r->m, p->units, p->kh, p->kw, p->act, &p->cp)
                                         : clcnn_model_add_dense(r->m, p->units, p->act);
    if (st) {
        char msg[512];
        last_message(r, msg, sizeof msg);
        free_pending(r);
        return node_fail_at(r, node, st, "%s", msg);
    }
    r->st[r->nst++] = (staged){clcnn_model_layer_count(r->m) - 1, p->w, p->b, p->nw, p->nb};
    *p = (pending){0};
    took_layer(r);
    return CLCNN_OK;
}

/* Appends a layer without weights through add(); its error is the node's. */
static int appended(reader *r, int st)
{
    if (st) {
        char msg[512];
        last_message(r, msg, sizeof msg);
        return node_fail(r, st, "%s", msg);
    }
    took_layer(r);
    return CLCNN_OK;
}

static int need_spatial(reader *r)
{
    return r->flat ? node_fail(r, CLCNN_ERR_UNSUPPORTED, "its input is flat (N, F); clcnn takes it NCHW here")
                   : CLCNN_OK;
}

static int need_flat(reader *r)
{
    return r->flat ? CLCNN_OK
                   : node_fail(r, CLCNN_ERR_UNSUPPORTED,
                               "its input is (N, C, H, W); a Flatten or Reshape "
                               "to (N, C*H*W) must come before it");
}

/* A count attribute or weight dimension clcnn can hold as an int. */
static int small(reader *r, const char *what, int64_t v, int64_t lo)
{
    if (v < lo || v > (1 << 20))
        return node_fail(r, CLCNN_ERR_UNSUPPORTED, "%s %lld is out of range (%lld to %d)", what, (long long)v,
                         (long long)lo, 1 << 20);
    return CLCNN_OK;
}

/* Explicit pads (top, left, bottom, right) from pads/auto_pad, for an input
 * of in[2] (h, w), kernel k, stride s, dilation d. */
static int read_pads(reader *r, const int64_t *k, const int64_t *s, const int64_t *d, int64_t *pads)
{
    char mode[32];
    int st = attr_string(r, "auto_pad", "NOTSET", mode, sizeof mode);
    if (st || (st = attr_ints(r, "pads", 4, pads)))
        return st;
    if (strcmp(mode, "NOTSET") == 0) {
        for (int i = 0; i < 4; i++)
            if ((st = small(r, "a pad", pads[i], 0)))
                return st;
        return CLCNN_OK;
    }
    if (attr(r, "pads"))
        return node_fail(r, CLCNN_ERR_FORMAT, "it has both pads and auto_pad %s", mode);
    int upper = strcmp(mode, "SAME_UPPER") == 0, lower = strcmp(mode, "SAME_LOWER") == 0;
    if (strcmp(mode, "VALID") != 0 && !upper && !lower)
        return node_fail(r, CLCNN_ERR_UNSUPPORTED, "auto_pad '%s' is unsupported", mode);
    for (int i = 0; i < 2; i++) {
        int64_t in = (int64_t)r->shape[i], total = 0;
        if (upper || lower) {
            int64_t out = (in + s[i] - 1) / s[i];
            total = (out - 1) * s[i] + (k[i] - 1) * d[i] + 1 - in;
            total = total > 0 ? total : 0;
        }
        pads[i] = upper ? total / 2 : total - total / 2;
        pads[i + 2] = total - pads[i];
    }
    return CLCNN_OK;
}

static int read_conv(reader *r)
{
    static const char *const allowed[] = {"kernel_shape", "strides", "pads", "dilations", "group", "auto_pad", NULL};
    const Onnx__NodeProto *n = node_at(r, r->node);
    const Onnx__TensorProto *wt;
    int st = check_attrs(r, allowed);
    if (st || (st = need_spatial(r)) || (st = flush(r)) || (st = input_constant(r, 1, "weight", &wt)))
        return st;
    if (wt->n_dims != 4)
        return node_fail(r, CLCNN_ERR_UNSUPPORTED, "its weight has %zu dimensions (clcnn takes 2-D convolution)",
                         wt->n_dims);
    int64_t k[2] = {wt->dims[2], wt->dims[3]}, s[2] = {1, 1}, d[2] = {1, 1}, pads[4] = {0, 0, 0, 0}, group;
    int64_t ks[2] = {k[0], k[1]};
    if ((st = attr_int(r, "group", 1, &group)) || (st = attr_ints(r, "kernel_shape", 2, ks)) ||
        (st = attr_ints(r, "strides", 2, s)) || (st = attr_ints(r, "dilations", 2, d)))
        return st;
    if (ks[0] != k[0] || ks[1] != k[1])
        return node_fail(r, CLCNN_ERR_FORMAT, "kernel_shape %lldx%lld differs from its weight's %lldx%lld",
                         (long long)ks[0], (long long)ks[1], (long long)k[0], (long long)k[1]);
    if ((st = small(r, "group", group, 1)) || (st = small(r, "a filter count", wt->dims[0], 1)) ||
        (st = small(r, "an input channel count", wt->dims[1], 1)))
        return st;
    for (int i = 0; i < 2; i++)
        if ((st = small(r, "a kernel size", k[i], 1)) || (st = small(r, "a stride", s[i], 1)) ||
            (st = small(r, "a dilation", d[i], 1)))
            return st;
    if ((st = read_pads(r, k, s, d, pads)))
        return st;
    size_t o = (size_t)wt->dims[0], i = (size_t)wt->dims[1], c = r->shape[2];
    if (i * (size_t)group != c)
        return node_fail(r, CLCNN_ERR_FORMAT, "its weight takes %zu channels per group of %lld; the input has %zu", i,
                         (long long)group, c);
    float *w = NULL, *b = NULL;
    size_t nw;
    if ((st = tensor_floats(r, wt, "weight", &w, &nw)))
        return st;
    pending p = {.kind = CLCNN_LAYER_CONV,
                 .units = o,
                 .kh = (int)k[0],
                 .kw = (int)k[1],
                 .node = r->node,
                 .nw = nw,
                 .nb = o,
                 .act = CLCNN_ACT_IDENTITY};
    p.cp = (clcnn_conv_params){.padding = CLCNN_PAD_EXPLICIT,
                               .pad_top = (int)pads[0],
                               .pad_left = (int)pads[1],
                               .pad_bottom = (int)pads[2],
                               .pad_right = (int)pads[3],
                               .stride_h = (int)s[0],
                               .stride_w = (int)s[1],
                               .dilation_h = (int)d[0],
                               .dilation_w = (int)d[1],
                               .groups = (int)group};
    p.w = clcnn_mem_array(r->a, nw, sizeof *w);
    if (n->n_input >= 3 && *str(n->input[2]))
        st = vector_floats(r, 2, "bias", o, &b);
    else if (!(b = clcnn_mem_calloc(r->a, o, sizeof *b)))
        st = CLCNN_ERR_NOMEM;
    if (st == CLCNN_OK && !p.w)
        st = CLCNN_ERR_NOMEM;
    if (st) {
        clcnn_mem_free(r->a, w, nw * sizeof *w);
        clcnn_mem_free(r->a, p.w, nw * sizeof *w);
        clcnn_mem_free(r->a, b, o * sizeof *b);
        return st == CLCNN_ERR_NOMEM ? node_fail(r, st, "out of memory") : st;
    }
    onnx_conv_from_oihw(w, p.w, o, i, p.kh, p.kw);
    clcnn_mem_free(r->a, w, nw * sizeof *w);
    p.b = b;
    r->p = p;
    return CLCNN_OK;
}

static int read_pool(reader *r)
{
    const Onnx__NodeProto *n = node_at(r, r->node);
    int max = strcmp(n->op_type, "MaxPool") == 0 || strcmp(n->op_type, "GlobalMaxPool") == 0;
    int global = strncmp(n->op_type, "Global", 6) == 0;
    static const char *const max_allowed[] = {"kernel_shape", "strides",   "pads",          "auto_pad",
                                              "ceil_mode",    "dilations", "storage_order", NULL};
    static const char *const avg_allowed[] = {"kernel_shape", "strides",           "pads", "auto_pad",
                                              "ceil_mode",    "count_include_pad", NULL};
    static const char *const none[] = {NULL};
    int st = check_attrs(r, global ? none : max ? max_allowed : avg_allowed);
    if (st || (st = need_spatial(r)) || (st = flush(r)) || (st = extra_outputs_unused(r)))
        return st;
    int64_t k[2] = {(int64_t)r->shape[0], (int64_t)r->shape[1]}, s[2] = {1, 1}, d[2] = {1, 1};
    int64_t pads[4] = {0, 0, 0, 0}, ceil_mode = 0, cip = 0;
    if (!global) {
        if (!attr(r, "kernel_shape"))
            return node_fail(r, CLCNN_ERR_FORMAT, "it has no kernel_shape");
        if ((st = attr_ints(r, "kernel_shape", 2, k)) || (st = attr_ints(r, "strides", 2, s)) ||
            (st = attr_ints(r, "dilations", 2, d)) || (st = attr_int(r, "ceil_mode", 0, &ceil_mode)) ||
            (st = attr_int(r, "count_include_pad", 0, &cip)))
            return st;
        if (d[0] != 1 || d[1] != 1)
            return node_fail(r, CLCNN_ERR_UNSUPPORTED, "dilations %lldx%lld are unsupported (clcnn pools undilated)",
                             (long long)d[0], (long long)d[1]);
        for (int i = 0; i < 2; i++)
            if ((st = small(r, "a kernel size", k[i], 1)) || (st = small(r, "a stride", s[i], 1)))
                return st;
        if ((st = read_pads(r, k, s, d, pads)))
            return st;
        if ((ceil_mode != 0 && ceil_mode != 1) || (cip != 0 && cip != 1))
            return node_fail(r, CLCNN_ERR_FORMAT, "ceil_mode and count_include_pad must be 0 or 1");
    }
    clcnn_pool_params pp = {.pad_top = (int)pads[0],
                            .pad_left = (int)pads[1],
                            .pad_bottom = (int)pads[2],
                            .pad_right = (int)pads[3],
                            .ceil_mode = (int)ceil_mode,
                            .count_include_pad = (int)cip};
    int64_t want[2];
    for (int i = 0; i < 2; i++)
        want[i] = onnx_pool_out((int64_t)r->shape[i], k[i], s[i], pads[i] + pads[i + 2], (int)ceil_mode);
    if ((st = appended(r, clcnn_model_add_pool2d(r->m, (int)k[0], (int)k[1], (int)s[0], (int)s[1],
                                                 max ? CLCNN_POOL_MAX : CLCNN_POOL_AVG, &pp))))
        return st;
    if ((int64_t)r->shape[0] != want[0] || (int64_t)r->shape[1] != want[1])
        return node_fail(r, CLCNN_ERR_UNSUPPORTED,
                         "with ceil_mode its last window starts in the padding: "
                         "ONNX gives %lldx%lld outputs, "
                         "clcnn (as PyTorch) %zux%zu",
                         (long long)want[0], (long long)want[1], r->shape[0], r->shape[1]);
    return CLCNN_OK;
}

static int read_lrn(reader *r)
{
    static const char *const allowed[] = {"size", "alpha", "beta", "bias", NULL};
    int64_t size;
    float alpha, beta, bias;
    int st = check_attrs(r, allowed);
    if (st || (st = need_spatial(r)) || (st = flush(r)) || (st = attr_int(r, "size", 0, &size)) ||
        (st = attr_float(r, "alpha", 1e-4f, &alpha)) || (st = attr_float(r, "beta", 0.75f, &beta)) ||
        (st = attr_float(r, "bias", 1.0f, &bias)))
        return st;
    if (size < 1 || size > 4096)
        return node_fail(r, CLCNN_ERR_FORMAT, "size %lld is out of range (1 to 4096)", (long long)size);
    if (size % 2 == 0)
        return node_fail(r, CLCNN_ERR_UNSUPPORTED,
                         "even size %lld is unsupported (ONNX's window has one "
                         "channel more above, clcnn's below)",
                         (long long)size);
    /* ONNX divides alpha by size; clcnn's alpha is the paper's. */
    return appended(r, clcnn_model_add_lrn(r->m, (int)size, alpha / (float)size, beta, bias));
}

/* An activation, applied by the pending layer when it has none. */
static int take_activation(reader *r, clcnn_activation act)
{
    int st;
    if (r->p.kind && r->p.act == CLCNN_ACT_IDENTITY) {
        r->p.act = act; /* the conv or dense layer before applies it */
        return CLCNN_OK;
    }
    if ((st = flush(r)))
        return st;
    return appended(r, clcnn_model_add_activation(r->m, act));
}

static int read_softmax(reader *r)
{
    static const char *const allowed[] = {"axis", NULL};
    int64_t axis;
    int rank = r->flat ? 2 : 4;
    int st = check_attrs(r, allowed);
    if (st || (st = attr_int(r, "axis", r->opset >= 13 ? -1 : 1, &axis)))
        return st;
    if (axis < 0)
        axis += rank;
    /* clcnn's softmax is over the channels: axis 1 of (N, F) or (N, C, H, W);
     * before opset 13 axis 1 of a 4-D input meant C*H*W at once. */
    int pixel = r->flat || (r->shape[0] == 1 && r->shape[1] == 1);
    if (axis != 1 || (r->opset < 13 && !pixel))
        return node_fail(r, CLCNN_ERR_UNSUPPORTED,
                         "softmax over axis %lld of a rank-%d input at opset %lld is "
                         "unsupported (clcnn's is over the channels, axis 1)",
                         (long long)axis, rank, (long long)r->opset);
    return take_activation(r, CLCNN_ACT_SOFTMAX);
}

static int read_activation(reader *r, clcnn_activation act)
{
    static const char *const none[] = {NULL};
    int st = check_attrs(r, none);
    return st ? st : take_activation(r, act);
}

/* Flatten and Reshape to (N, C*H*W): a flatten layer; the dense layer
 * after it takes its rows in ONNX's CHW order, which it converts. */
static int take_flatten(reader *r)
{
    if (r->flat)
        return CLCNN_OK; /* already (N, F) */
    int st = flush(r);
    if (st)
        return st;
    memcpy(r->flat_src, r->shape, sizeof r->shape);
    if ((st = appended(r, clcnn_model_add_flatten(r->m))))
        return st;
    r->flat = 1;
    r->permute = 1;
    return CLCNN_OK;
}

static int read_flatten(reader *r)
{
    static const char *const allowed[] = {"axis", NULL};
    int64_t axis;
    int st = check_attrs(r, allowed);
    if (st || (st = attr_int(r, "axis", 1, &axis)))
        return st;
    if (axis != 1 && axis != (r->flat ? -1 : -3))
        return node_fail(r, CLCNN_ERR_UNSUPPORTED, "axis %lld is unsupported (clcnn flattens from axis 1)",
                         (long long)axis);
    return take_flatten(r);
}

static int read_reshape(reader *r)
{
    static const char *const allowed[] = {"allowzero", NULL};
    const Onnx__TensorProto *t;
    int64_t shape[2], allowzero;
    size_t n, f = r->shape[0] * r->shape[1] * r->shape[2];
    int st = check_attrs(r, allowed);
    if (st || (st = attr_int(r, "allowzero", 0, &allowzero)) || (st = input_constant(r, 1, "shape", &t)) ||
        (st = tensor_ints(r, t, "shape", shape, 2, &n)))
        return st;
    /* (N, F), with N as -1, 0 (copy) or the graph's fixed batch size. */
    int batch_ok = shape[0] == -1 || (shape[0] == 0 && !allowzero) || (r->batch > 0 && shape[0] == r->batch);
    int features_ok = (int64_t)f == shape[1] || (shape[1] == -1 && shape[0] != -1);
    if (n != 2 || !batch_ok || !features_ok)
        return node_fail(r, CLCNN_ERR_UNSUPPORTED,
                         "a reshape to (%lld, %lld) is unsupported: clcnn reshapes "
                         "only to (N, %zu), a flatten",
                         (long long)shape[0], n == 2 ? (long long)shape[1] : 0LL, f);
    return take_flatten(r);
}

/* The dense layer of a Gemm or MatMul: B (k, n) in ONNX's row order. */
static int take_dense(reader *r, float *bt, size_t k, size_t n, float *bias)
{
    pending p = {.kind = CLCNN_LAYER_DENSE,
                 .units = n,
                 .node = r->node,
                 .nw = k * n,
                 .nb = n,
                 .act = CLCNN_ACT_IDENTITY,
                 .b = bias};
    if (r->permute && !(r->flat_src[0] == 1 && r->flat_src[1] == 1)) {
        if (!(p.w = clcnn_mem_array(r->a, k * n, sizeof *p.w))) {
            clcnn_mem_free(r->a, bt, k * n * sizeof *bt);
            clcnn_mem_free(r->a, bias, n * sizeof *bias);
            return node_fail(r, CLCNN_ERR_NOMEM, "out of memory");
        }
        onnx_dense_from_chw(bt, p.w, r->flat_src[0], r->flat_src[1], r->flat_src[2], n);
        clcnn_mem_free(r->a, bt, k * n * sizeof *bt);
    } else {
        p.w = bt;
    }
    r->permute = 0;
    r->p = p;
    return CLCNN_OK;
}

static int read_gemm(reader *r)
{
    static const char *const allowed[] = {"alpha", "beta", "transA", "transB", NULL};
    const Onnx__NodeProto *n = node_at(r, r->node);
    const Onnx__TensorProto *t;
    int64_t ta, tb;
    float alpha, beta;
    int st = check_attrs(r, allowed);
    if (st || (st = need_flat(r)) || (st = flush(r)) || (st = attr_int(r, "transA", 0, &ta)) ||
        (st = attr_int(r, "transB", 0, &tb)) || (st = attr_float(r, "alpha", 1.0f, &alpha)) ||
        (st = attr_float(r, "beta", 1.0f, &beta)) || (st = input_constant(r, 1, "weight", &t)))
        return st;
    if (ta != 0)
        return node_fail(r, CLCNN_ERR_UNSUPPORTED, "transA %lld is unsupported", (long long)ta);
    size_t k = r->shape[2];
    if (t->n_dims != 2 || t->dims[tb ? 1 : 0] != (int64_t)k ||
        (st = small(r, "an output count", t->dims[tb ? 0 : 1], 1)))
        return st ? st : node_fail(r, CLCNN_ERR_FORMAT, "its weight is not (%zu, units)%s", k, tb ? " transposed" : "");
    size_t units = (size_t)t->dims[tb ? 0 : 1], count;
    float *w, *bias = NULL;
    if ((st = tensor_floats(r, t, "weight", &w, &count)))
        return st;
    float *bt = tb ? clcnn_mem_array(r->a, k * units, sizeof *bt) : w;
    if (!bt) {
        clcnn_mem_free(r->a, w, count * sizeof *w);
        return node_fail(r, CLCNN_ERR_NOMEM, "out of memory");
    }
    if (tb) {
        for (size_t i = 0; i < units; i++)
            for (size_t j = 0; j < k; j++)
                bt[j * units + i] = w[i * k + j];
        clcnn_mem_free(r->a, w, count * sizeof *w);
    }
    for (size_t i = 0; i < k * units; i++)
        bt[i] *= alpha;
    /* C: (units), (1, units) or one value for all. */
    if (n->n_input >= 3 && *str(n->input[2])) {
        const Onnx__TensorProto *ct;
        size_t cn = 0;
        float *c = NULL;
        if ((st = input_constant(r, 2, "bias", &ct)) == CLCNN_OK &&
            (st = tensor_floats(r, ct, "bias", &c, &cn)) == CLCNN_OK && cn != units && cn != 1)
            st = node_fail(r, CLCNN_ERR_UNSUPPORTED, "its C has %zu values (clcnn takes a bias of %zu)", cn, units);
        if (st == CLCNN_OK && !(bias = clcnn_mem_array(r->a, units, sizeof *bias)))
            st = node_fail(r, CLCNN_ERR_NOMEM, "out of memory");
        for (size_t i = 0; st == CLCNN_OK && i < units; i++)
            bias[i] = beta * c[cn == 1 ? 0 : i];
        clcnn_mem_free(r->a, c, cn * sizeof *c);
    } else if (!(bias = clcnn_mem_calloc(r->a, units, sizeof *bias))) {
        st = node_fail(r, CLCNN_ERR_NOMEM, "out of memory");
    }
    if (st) {
        clcnn_mem_free(r->a, bt, k * units * sizeof *bt);
        return st;
    }
    return take_dense(r, bt, k, units, bias);
}

static int read_matmul(reader *r)
{
    static const char *const none[] = {NULL};
    const Onnx__TensorProto *t;
    int st = check_attrs(r, none);
    if (st || (st = need_flat(r)) || (st = flush(r)) || (st = input_constant(r, 1, "weight", &t)))
        return st;
    size_t k = r->shape[2], count;
    if (t->n_dims != 2 || t->dims[0] != (int64_t)k || (st = small(r, "an output count", t->dims[1], 1)))
        return st ? st : node_fail(r, CLCNN_ERR_UNSUPPORTED, "its second input is not a (%zu, units) weight", k);
    size_t units = (size_t)t->dims[1];
    float *w, *bias;
    if ((st = tensor_floats(r, t, "weight", &w, &count)))
        return st;
    if (!(bias = clcnn_mem_calloc(r->a, units, sizeof *bias))) {
        clcnn_mem_free(r->a, w, count * sizeof *w);
        return node_fail(r, CLCNN_ERR_NOMEM, "out of memory");
    }
    return take_dense(r, w, k, units, bias);
}

/* Add of a constant bias to the pending dense layer (MatMul + Add). */
static int read_add(reader *r)
{
    static const char *const none[] = {NULL};
    const Onnx__NodeProto *n = node_at(r, r->node);
    int st = check_attrs(r, none);
    if (st)
        return st;
    if (r->p.kind != CLCNN_LAYER_DENSE || r->p.act != CLCNN_ACT_IDENTITY)
        return node_fail(r, CLCNN_ERR_UNSUPPORTED,
                         "an Add is supported only as the bias of a MatMul or Gemm before it");
    size_t other = strcmp(str(n->input[0]), r->cur) == 0 ? 1 : 0;
    const Onnx__TensorProto *t;
    float *c;
    size_t cn;
    if ((st = input_constant(r, other, "addend", &t)) || (st = tensor_floats(r, t, "addend", &c, &cn)))
        return st;
    if (cn != r->p.units && cn != 1) {
        clcnn_mem_free(r->a, c, cn * sizeof *c);
        return node_fail(r, CLCNN_ERR_UNSUPPORTED, "its addend has %zu values (the bias of %zu units)", cn, r->p.units);
    }
    for (size_t i = 0; i < r->p.units; i++)
        r->p.b[i] += c[cn == 1 ? 0 : i];
    clcnn_mem_free(r->a, c, cn * sizeof *c);
    r->p.folded = 1;
    return CLCNN_OK;
}

/* A BatchNormalization with no conv before it becomes one: 1x1, one group
 * per channel, weights 1 and biases 0, into which it is folded. */
static int identity_conv(reader *r)
{
    size_t c = r->shape[2];
    pending p = {.kind = CLCNN_LAYER_CONV,
                 .units = c,
                 .kh = 1,
                 .kw = 1,
                 .node = r->node,
                 .nw = c,
                 .nb = c,
                 .act = CLCNN_ACT_IDENTITY};
    p.cp = (clcnn_conv_params){
        .padding = CLCNN_PAD_VALID, .stride_h = 1, .stride_w = 1, .dilation_h = 1, .dilation_w = 1, .groups = (int)c};
    p.w = clcnn_mem_array(r->a, c, sizeof *p.w);
    p.b = clcnn_mem_calloc(r->a, c, sizeof *p.b);
    if (!p.w || !p.b) {
        clcnn_mem_free(r->a, p.w, c * sizeof *p.w);
        clcnn_mem_free(r->a, p.b, c * sizeof *p.b);
        return node_fail(r, CLCNN_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < c; i++)
        p.w[i] = 1.0f;
    r->p = p;
    return CLCNN_OK;
}

/* BatchNormalization (inference) folded into the conv or dense layer
 * before it: w *= s, b = (b - mean) * s + beta, s = scale / sqrt(var + eps). */
static int read_batchnorm(reader *r)
{
    static const char *const allowed[] = {"epsilon", "momentum", "spatial", "training_mode", NULL};
    int64_t spatial, training;
    float eps, momentum;
    int st = check_attrs(r, allowed);
    if (st || (st = attr_float(r, "epsilon", 1e-5f, &eps)) || (st = attr_float(r, "momentum", 0.9f, &momentum)) ||
        (st = attr_int(r, "spatial", 1, &spatial)) || (st = attr_int(r, "training_mode", 0, &training)) ||
        (st = extra_outputs_unused(r)))
        return st;
    if (spatial != 1 || training != 0)
        return node_fail(r, CLCNN_ERR_UNSUPPORTED, "%s is unsupported", training ? "training_mode" : "spatial 0");
    if (!r->p.kind && !r->flat && (st = identity_conv(r)))
        return st;
    if (!r->p.kind || r->p.act != CLCNN_ACT_IDENTITY)
        return node_fail(r, CLCNN_ERR_UNSUPPORTED,
                         "it does not directly follow a Conv or Gemm (clcnn folds "
                         "it into that layer)");
    size_t c = r->p.units;
    float *v[4] = {NULL, NULL, NULL, NULL}; /* scale, B, mean, var */
    static const char *const what[4] = {"scale", "B", "mean", "var"};
    for (int i = 0; i < 4 && st == CLCNN_OK; i++)
        st = vector_floats(r, (size_t)i + 1, what[i], c, &v[i]);
    for (size_t ch = 0; st == CLCNN_OK && ch < c; ch++) {
        double s = (double)v[0][ch] / sqrt((double)v[3][ch] + (double)eps);
        if (!isfinite(s)) {
            st = node_fail(r, CLCNN_ERR_NUMERIC, "channel %zu: var + epsilon is not positive", ch);
            break;
        }
        for (size_t j = ch; j < r->p.nw; j += c)
            r->p.w[j] = (float)((double)r->p.w[j] * s);
        r->p.b[ch] = (float)(((double)r->p.b[ch] - (double)v[2][ch]) * s + (double)v[1][ch]);
    }
    for (int i = 0; i < 4; i++)
        clcnn_mem_free(r->a, v[i], c * sizeof(float));
    r->p.folded = 1;
    return st;
}

/* Dropout's ratio: the attribute before opset 12, the optional constant
 * input 1 from it; 0.5 when absent (ONNX's default). */
static int dropout_ratio(reader *r, float *ratio)
{
    const Onnx__NodeProto *n = node_at(r, r->node);
    int st = attr_float(r, "ratio", 0.5f, ratio);
    if (st || n->n_input < 2 || !*str(n->input[1]))
        return st;
    const Onnx__TensorProto *t;
    float *v;
    size_t count;
    if ((st = input_constant(r, 1, "ratio", &t)) || (st = tensor_floats(r, t, "ratio", &v, &count)))
        return st;
    if (count == 1)
        *ratio = v[0];
    clcnn_mem_free(r->a, v, count * sizeof *v);
    return count == 1 ? CLCNN_OK : node_fail(r, CLCNN_ERR_FORMAT, "its ratio has %zu values, not 1", count);
}

/* Identity, and Dropout: a dropout layer of its ratio (the identity in
 * inference, as ONNX's; fine-tuning then drops as the exporter trained),
 * none for ratio 0. */
static int read_identity(reader *r)
{
    static const char *const dropout[] = {"ratio", "seed", "is_test", NULL};
    const Onnx__NodeProto *n = node_at(r, r->node);
    int is_dropout = strcmp(n->op_type, "Dropout") == 0;
    static const char *const none[] = {NULL};
    int st = check_attrs(r, is_dropout ? dropout : none);
    if (st || (st = extra_outputs_unused(r)))
        return st;
    if (!is_dropout)
        return CLCNN_OK;
    if (n->n_input >= 3 && *str(n->input[2])) {
        /* training_mode must be a constant false. */
        const Onnx__TensorProto *t = constant(r, n->input[2]);
        int on = 1;
        if (t && t->has_data_type && t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__BOOL)
            on = t->has_raw_data ? t->raw_data.len != 1 || t->raw_data.data[0] != 0
                                 : t->n_int32_data != 1 || t->int32_data[0] != 0;
        if (on)
            return node_fail(r, CLCNN_ERR_UNSUPPORTED, "training_mode is not a constant false");
    }
    float ratio;
    if ((st = dropout_ratio(r, &ratio)))
        return st;
    if (!(ratio >= 0.0f && ratio <= 0.999f))
        return node_fail(r, CLCNN_ERR_UNSUPPORTED, "ratio %g is outside clcnn's dropout rates (0 to 0.999)",
                         (double)ratio);
    if (ratio == 0.0f)
        return CLCNN_OK;
    if ((st = flush(r)))
        return st;
    return appended(r, clcnn_model_add_dropout(r->m, ratio));
}

typedef struct op_reader {
    const char *op;
    int (*read)(reader *r);
} op_reader;

static int read_relu(reader *r)
{
    return read_activation(r, CLCNN_ACT_RELU);
}
static int read_sigmoid(reader *r)
{
    return read_activation(r, CLCNN_ACT_SIGMOID);
}
static int read_tanh(reader *r)
{
    return read_activation(r, CLCNN_ACT_TANH);
}

static const op_reader op_readers[] = {
    {"Conv", read_conv},
    {"MaxPool", read_pool},
    {"AveragePool", read_pool},
    {"GlobalMaxPool", read_pool},
    {"GlobalAveragePool", read_pool},
    {"LRN", read_lrn},
    {"Relu", read_relu},
    {"Sigmoid", read_sigmoid},
    {"Tanh", read_tanh},
    {"Softmax", read_softmax},
    {"Flatten", read_flatten},
    {"Reshape", read_reshape},
    {"Gemm", read_gemm},
    {"MatMul", read_matmul},
    {"Add", read_add},
    {"BatchNormalization", read_batchnorm},
    {"Dropout", read_identity},
    {"Identity", read_identity},
};

/* One node of the chain: its data input must be the current value. */
static int read_node(reader *r)
{
    const Onnx__NodeProto *n = node_at(r, r->node);
    const char *op = str(n->op_type), *domain = str(n->domain);
    if (*domain && strcmp(domain, "ai.onnx") != 0)
        return node_fail(r, CLCNN_ERR_UNSUPPORTED, "domain '%.60s' is unsupported", domain);
    if (strcmp(op, "Constant") == 0)
        return CLCNN_OK; /* read where it is used */
    const op_reader *o = NULL;
    for (size_t i = 0; i < sizeof op_readers / sizeof *op_readers; i++)
        if (strcmp(op_readers[i].op, op) == 0)
            o = &op_readers[i];
    if (!o)
        return node_fail(r, CLCNN_ERR_UNSUPPORTED, "the operator is unsupported");
    if (n->n_input < 1 || n->n_output < 1 || !*str(n->output[0]))
        return node_fail(r, CLCNN_ERR_FORMAT, "it has no input or no output");
    int data_at = 0;
    if (strcmp(op, "Add") == 0 && n->n_input == 2 && strcmp(str(n->input[1]), r->cur) == 0)
        data_at = 1;
    if (strcmp(str(n->input[data_at]), r->cur) != 0)
        return node_fail(r, CLCNN_ERR_UNSUPPORTED,
                         "its input '%.100s' is not the output of the node before "
                         "('%.100s'): the graph is not a chain "
                         "of layers",
                         str(n->input[data_at]), r->cur);
    for (size_t k = 0; k < n->n_input; k++)
        if ((int)k != data_at && strcmp(str(n->input[k]), r->cur) == 0)
            return node_fail(r, CLCNN_ERR_UNSUPPORTED, "it takes '%.100s' twice", r->cur);
    if (used_from(r, r->cur, r->node + 1))
        return node_fail(r, CLCNN_ERR_UNSUPPORTED, "'%.100s' also feeds a later node: the graph is not a chain",
                         r->cur);
    int st = o->read(r);
    if (st == CLCNN_OK)
        r->cur = n->output[0];
    return st;
}

/* The graph's one input that is not an initializer: (N, C, H, W) or (N, F). */
static int read_input(reader *r, size_t *shape)
{
    const Onnx__ValueInfoProto *in = NULL;
    for (size_t i = 0; i < r->g->n_input; i++) {
        const Onnx__ValueInfoProto *v = r->g->input[i];
        int init = 0;
        for (size_t j = 0; j < r->g->n_initializer && !init; j++)
            init = v->name && r->g->initializer[j]->name && strcmp(v->name, r->g->initializer[j]->name) == 0;
        if (init)
            continue;
        if (in)
            return clcnn_error(r->ctx, CLCNN_ERR_UNSUPPORTED,
                               "%s: the graph has more than one input ('%.100s', '%.100s')", r->path, str(in->name),
                               str(v->name));
        in = v;
    }
    if (!in || !in->name || !*in->name)
        return clcnn_error(r->ctx, CLCNN_ERR_FORMAT, "%s: the graph has no input", r->path);
    const Onnx__TypeProto *t = in->type;
    if (!t || t->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !t->tensor_type->has_elem_type ||
        t->tensor_type->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT || !t->tensor_type->shape)
        return clcnn_error(r->ctx, CLCNN_ERR_UNSUPPORTED, "%s: input '%.100s' is not a float32 tensor of known rank",
                           r->path, in->name);
    const Onnx__TensorShapeProto *s = t->tensor_type->shape;
    if (s->n_dim != 4 && s->n_dim != 2)
        return clcnn_error(r->ctx, CLCNN_ERR_UNSUPPORTED,
                           "%s: input '%.100s' has rank %zu (clcnn takes NCHW or (N, F))", r->path, in->name, s->n_dim);
    int64_t d[4] = {1, 1, 1, 1};
    for (size_t i = 0; i < s->n_dim; i++) {
        const Onnx__TensorShapeProto__Dimension *dim = s->dim[i];
        int fixed = dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        if (i == 0) {
            r->batch = fixed && dim->dim_value > 0 ? dim->dim_value : -1;
            continue;
        }
        if (!fixed || dim->dim_value < 1 || dim->dim_value > (1 << 16))
            return clcnn_error(r->ctx, CLCNN_ERR_UNSUPPORTED,
                               "%s: input '%.100s' dimension %zu is %s (clcnn needs "
                               "a fixed size from 1 to 65536)",
                               r->path, in->name, i, fixed ? "out of range" : "symbolic");
        d[i] = dim->dim_value;
    }
    r->flat = s->n_dim == 2;
    /* clcnn's (h, w, c) */
    shape[0] = r->flat ? 1 : (size_t)d[2];
    shape[1] = r->flat ? 1 : (size_t)d[3];
    shape[2] = (size_t)d[1];
    r->cur = in->name;
    return CLCNN_OK;
}

static int read_opset(reader *r, const Onnx__ModelProto *mp)
{
    r->opset = 0;
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const char *d = str(mp->opset_import[i]->domain);
        if ((!*d || strcmp(d, "ai.onnx") == 0) && mp->opset_import[i]->has_version)
            r->opset = mp->opset_import[i]->version;
    }
    if (r->opset < ONNX_OPSET_MIN || r->opset > ONNX_OPSET_MAX)
        return clcnn_error(r->ctx, CLCNN_ERR_UNSUPPORTED, "%s: opset %lld is unsupported (clcnn reads %d to %d)",
                           r->path, (long long)r->opset, ONNX_OPSET_MIN, ONNX_OPSET_MAX);
    return CLCNN_OK;
}

/* The metadata's class names, when they name every class. */
static int read_class_names(reader *r, const Onnx__ModelProto *mp)
{
    for (size_t i = 0; i < mp->n_metadata_props; i++) {
        const Onnx__StringStringEntryProto *e = mp->metadata_props[i];
        if (!e->key || strcmp(e->key, ONNX_CLASS_NAMES_KEY) != 0 || !e->value)
            continue;
        size_t classes = clcnn_model_classes(r->m), len = strlen(e->value) + 1;
        if (classes == 0 || classes > CLCNN_MAX_CLASS_NAMES)
            return CLCNN_OK;
        char *text = clcnn_mem_alloc(r->a, len);
        const char **names = clcnn_mem_array(r->a, classes, sizeof *names);
        int st = text && names ? CLCNN_OK : CLCNN_ERR_NOMEM;
        size_t count = 0;
        if (st == CLCNN_OK) {
            memcpy(text, e->value, len);
            for (char *p = text; count < classes;) {
                names[count++] = p;
                char *nl = strchr(p, '\n');
                if (!nl)
                    break;
                *nl = '\0';
                p = nl + 1;
            }
            /* Names for other classes are left out, not an error. */
            if (count == classes && clcnn_model_set_class_names(r->m, names, count) != CLCNN_OK)
                st = clcnn_error(r->ctx, CLCNN_ERR_FORMAT, "%s: metadata %s: %.200s", r->path, ONNX_CLASS_NAMES_KEY,
                                 "a name is not a valid class name");
        }
        clcnn_mem_free(r->a, text, len);
        clcnn_mem_free(r->a, names, classes * sizeof *names);
        return st == CLCNN_ERR_NOMEM ? clcnn_error(r->ctx, st, "%s: out of memory", r->path) : st;
    }
    return CLCNN_OK;
}

static int read_graph(reader *r, const Onnx__ModelProto *mp)
{
    r->g = mp->graph;
    if (!r->g)
        return clcnn_error(r->ctx, CLCNN_ERR_FORMAT, "%s: not an ONNX model (it has no graph)", r->path);
    int st = read_opset(r, mp);
    if (st)
        return st;
    if (r->g->n_node > ONNX_MAX_NODES)
        return clcnn_error(r->ctx, CLCNN_ERR_UNSUPPORTED, "%s: the graph has %zu nodes (at most %d)", r->path,
                           r->g->n_node, ONNX_MAX_NODES);
    if (r->g->n_sparse_initializer)
        return clcnn_error(r->ctx, CLCNN_ERR_UNSUPPORTED, "%s: sparse initializers are unsupported", r->path);
    size_t shape[3];
    if ((st = read_input(r, shape)) || (st = clcnn_model_create(r->ctx, &r->m, shape[0], shape[1], shape[2])))
        return st;
    memcpy(r->shape, shape, sizeof shape);
    for (r->node = 0; r->node < r->g->n_node; r->node++)
        if ((st = read_node(r)))
            return st;
    if ((st = flush(r)))
        return st;
    if (r->g->n_output != 1 || strcmp(str(r->g->output[0]->name), r->cur) != 0)
        return clcnn_error(r->ctx, CLCNN_ERR_UNSUPPORTED,
                           "%s: the graph's output%s not the end of its chain of "
                           "layers ('%.100s')",
                           r->path, r->g->n_output == 1 ? " is" : "s are", r->cur);
    if (clcnn_model_layer_count(r->m) == 0)
        return clcnn_error(r->ctx, CLCNN_ERR_UNSUPPORTED, "%s: the graph has no layers", r->path);
    if (r->permute)
        return clcnn_error(r->ctx, CLCNN_ERR_UNSUPPORTED, "%s: the graph ends in a flatten (clcnn ends in a layer)",
                           r->path);
    for (size_t i = 0; i < r->nst; i++) {
        staged *s = &r->st[i];
        if ((st = clcnn_model_write_param(r->m, s->layer, 0, s->w, s->nw)) ||
            (st = clcnn_model_write_param(r->m, s->layer, 1, s->b, s->nb)))
            return st;
    }
    return read_class_names(r, mp);
}

int clcnn_model_load_onnx(clcnn_ctx *ctx, clcnn_model **out, const char *path)
{
    int st = clcnn_check_ctx(ctx, "clcnn_model_load_onnx");
    if (st)
        return st;
    if (!out || !path)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_model_load_onnx: NULL %s", out ? "path" : "out");
    *out = NULL;
    unsigned char *bytes = NULL;
    size_t len = 0;
    if ((st = clcnn_read_file(ctx, path, ONNX_MAX_FILE, &bytes, &len)))
        return st;
    /* The parts of a model take about as much memory as its bytes (its
     * tensors' data is most of both). */
    onnx_budget budget = {.a = &ctx->allocator, .limit = ONNX_MEMORY_SLACK + 2 * len};
    ProtobufCAllocator pa = onnx_allocator(&budget);
    Onnx__ModelProto *mp = onnx__model_proto__unpack(&pa, len, bytes);
    clcnn_mem_free(&ctx->allocator, bytes, len);
    if (!mp && budget.exceeded)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT,
                           "%s: not an ONNX model clcnn reads: its %zu bytes hold more than %zu bytes of parts", path,
                           len, budget.limit);
    if (!mp)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: not an ONNX model (the protobuf does not parse%s)", path,
                           len ? "" : ": the file is empty");
    reader *r = clcnn_mem_calloc(&ctx->allocator, 1, sizeof *r);
    if (!r) {
        onnx__model_proto__free_unpacked(mp, &pa);
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory", path);
    }
    r->ctx = ctx, r->a = &ctx->allocator, r->path = path;
    st = read_graph(r, mp);
    for (size_t i = 0; i < r->nst; i++) {
        clcnn_mem_free(r->a, r->st[i].w, r->st[i].nw * sizeof(float));
        clcnn_mem_free(r->a, r->st[i].b, r->st[i].nb * sizeof(float));
    }
    free_pending(r);
    if (st)
        clcnn_model_free(r->m);
    else
        *out = r->m;
    clcnn_mem_free(&ctx->allocator, r, sizeof *r);
    onnx__model_proto__free_unpacked(mp, &pa);
    return st;
}
