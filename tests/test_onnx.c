/* ONNX import and export on the backend of CLCNN_DEVICE (docs/onnx.md):
 * export -> import -> export -> import of a model with every layer kind
 * (the second import equal to the first, predictions equal to the
 * original's), and hostile files: empty, random, truncated, oversized
 * tensors, external data, unsupported operators, attributes, data types,
 * opsets and graphs that are not chains, each one clear error. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "onnx/onnx.pb-c.h"
#include "testutil.h"

static char dir[] = "/tmp/clcnn-test-onnx-XXXXXX";

static void path_of(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

/* A 12x10x3 model with every layer kind and the settings ONNX keeps. */
static clcnn_model *every_layer(clcnn_ctx *ctx)
{
    clcnn_model *m = NULL;
    clcnn_conv_params grouped = {.padding = CLCNN_PAD_EXPLICIT,
                                 .pad_top = 2,
                                 .pad_bottom = 1,
                                 .pad_right = 3,
                                 .stride_w = 2,
                                 .dilation_h = 2,
                                 .groups = 3};
    clcnn_pool_params padded = {.pad_top = 1, .pad_bottom = 1, .pad_left = 1, .ceil_mode = 1};
    clcnn_pool_params avg = {.pad_top = 1, .pad_right = 1, .count_include_pad = 1};
    ck_assert_int_eq(clcnn_model_create(ctx, &m, 12, 10, 3), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_conv(m, 6, 3, 3, 1, 1, CLCNN_PAD_SAME, CLCNN_ACT_RELU), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_lrn(m, 5, 1e-2f, 0.75f, 2.0f), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_pool2d(m, 3, 3, 2, 2, CLCNN_POOL_MAX, &padded), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_conv2d(m, 6, 3, 2, CLCNN_ACT_IDENTITY, &grouped), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_activation(m, CLCNN_ACT_TANH), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_pool2d(m, 2, 2, 2, 2, CLCNN_POOL_AVG, &avg), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_conv(m, 4, 1, 1, 1, 1, CLCNN_PAD_VALID, CLCNN_ACT_SIGMOID), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_flatten(m), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_dropout(m, 0.25f), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_dense(m, 7, CLCNN_ACT_IDENTITY), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_activation(m, CLCNN_ACT_RELU), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_dense(m, 3, CLCNN_ACT_SOFTMAX), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_init(m, 9), CLCNN_OK);
    /* Biases too, so that a lost bias shows. */
    for (size_t i = 0; i < clcnn_model_layer_count(m); i++) {
        size_t n = clcnn_model_param_size(m, i, 1);
        if (!n)
            continue;
        float *b = malloc(n * sizeof *b);
        tu_fill_random(b, n, (unsigned)i, -0.5f, 0.5f);
        ck_assert_int_eq(clcnn_model_write_param(m, i, 1, b, n), CLCNN_OK);
        free(b);
    }
    const char *names[3] = {"cat", "dog", "b\xc3\xa4r"};
    ck_assert_int_eq(clcnn_model_set_class_names(m, names, 3), CLCNN_OK);
    return m;
}

static float *predict(clcnn_model *m, const float *x, size_t n)
{
    float *p = malloc(n * clcnn_model_classes(m) * sizeof *p);
    ck_assert_int_eq(clcnn_model_predict(m, x, n, p), CLCNN_OK);
    return p;
}

static void assert_same_model(clcnn_model *a, clcnn_model *b)
{
    ck_assert_uint_eq(clcnn_model_layer_count(a), clcnn_model_layer_count(b));
    for (size_t i = 0; i < clcnn_model_layer_count(a); i++) {
        char da[256], db[256];
        ck_assert_int_eq(clcnn_model_layer_describe(a, i, da, sizeof da), CLCNN_OK);
        ck_assert_int_eq(clcnn_model_layer_describe(b, i, db, sizeof db), CLCNN_OK);
        ck_assert_str_eq(da, db);
        for (int which = 0; which < 2; which++) {
            size_t n = clcnn_model_param_size(a, i, which);
            ck_assert_uint_eq(n, clcnn_model_param_size(b, i, which));
            if (!n)
                continue;
            float *pa = malloc(n * sizeof *pa), *pb = malloc(n * sizeof *pb);
            ck_assert_int_eq(clcnn_model_read_param(a, i, which, pa, n), CLCNN_OK);
            ck_assert_int_eq(clcnn_model_read_param(b, i, which, pb, n), CLCNN_OK);
            ck_assert_msg(memcmp(pa, pb, n * sizeof *pa) == 0, "layer %zu parameter %d changed", i + 1, which);
            free(pa);
            free(pb);
        }
    }
    for (size_t c = 0; c < clcnn_model_classes(a); c++)
        ck_assert_str_eq(clcnn_model_class_name(a, c), clcnn_model_class_name(b, c));
}

START_TEST(test_round_trip)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_model *m = every_layer(ctx), *b = NULL, *c = NULL;
    char p1[256], p2[256];
    path_of(p1, sizeof p1, "every1.onnx");
    path_of(p2, sizeof p2, "every2.onnx");
    ck_assert_int_eq(clcnn_model_save_onnx(m, p1), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_load_onnx(ctx, &b, p1), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_save_onnx(b, p2), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_load_onnx(ctx, &c, p2), CLCNN_OK);
    assert_same_model(b, c);
    /* The dropout layer comes back with its rate (a Dropout node). */
    int dropouts = 0;
    for (size_t i = 0; i < clcnn_model_layer_count(b); i++) {
        clcnn_layer_config lc;
        ck_assert_int_eq(clcnn_model_layer_config(b, i, &lc), CLCNN_OK);
        if (lc.kind == CLCNN_LAYER_DROPOUT) {
            ck_assert_float_eq(lc.dropout.rate, 0.25f);
            dropouts++;
        }
    }
    ck_assert_int_eq(dropouts, 1);
    /* The import computes what the original does. */
    size_t n = 5, per = 12 * 10 * 3;
    float *x = malloc(n * per * sizeof *x);
    tu_fill_random(x, n * per, 3, 0.0f, 1.0f);
    float *want = predict(m, x, n), *got = predict(b, x, n);
    tu_assert_close(got, want, n * 3, 1e-5, 1e-6, "imported model's predictions");
    free(x);
    free(want);
    free(got);
    clcnn_model_free(m);
    clcnn_model_free(b);
    clcnn_model_free(c);
    clcnn_ctx_free(ctx);
}
END_TEST

/* An exported LeNet-5, unpacked for a test to spoil. */
static Onnx__ModelProto *lenet_proto(clcnn_ctx *ctx, unsigned char **bytes, size_t *len)
{
    clcnn_model *m = NULL;
    char p[256];
    path_of(p, sizeof p, "lenet.onnx");
    ck_assert_int_eq(clcnn_model_lenet5(ctx, &m), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_init(m, 1), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_save_onnx(m, p), CLCNN_OK);
    clcnn_model_free(m);
    FILE *f = fopen(p, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    *bytes = malloc(*len);
    ck_assert_uint_eq(fread(*bytes, 1, *len, f), *len);
    fclose(f);
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, *len, *bytes);
    ck_assert_ptr_nonnull(mp);
    return mp;
}

static void write_bytes(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, n, f), n);
    ck_assert_int_eq(fclose(f), 0);
}

/* Packs mp, loads it and expects status with every word of want (a
 * '|'-separated list) in the message. */
static void expect_error(clcnn_ctx *ctx, Onnx__ModelProto *mp, int status, const char *want)
{
    char p[256];
    path_of(p, sizeof p, "spoilt.onnx");
    size_t n = onnx__model_proto__get_packed_size(mp);
    unsigned char *b = malloc(n);
    onnx__model_proto__pack(mp, b);
    write_bytes(p, b, n);
    free(b);
    clcnn_model *m = NULL;
    int st = clcnn_model_load_onnx(ctx, &m, p);
    ck_assert_msg(st == status, "status %d (%s), want %d", st, clcnn_errmsg(ctx), status);
    ck_assert_ptr_null(m);
    char words[256];
    snprintf(words, sizeof words, "%s", want);
    for (char *w = strtok(words, "|"); w; w = strtok(NULL, "|"))
        ck_assert_msg(strstr(clcnn_errmsg(ctx), w), "message '%s' lacks '%s'", clcnn_errmsg(ctx), w);
    ck_assert_ptr_nonnull(strstr(clcnn_errmsg(ctx), p));
}

START_TEST(test_hostile_graphs)
{
    clcnn_ctx *ctx = tu_ctx();
    unsigned char *bytes;
    size_t len;
    Onnx__ModelProto *mp = lenet_proto(ctx, &bytes, &len);
    Onnx__GraphProto *g = mp->graph;
    Onnx__NodeProto *conv = g->node[0];
    Onnx__TensorProto *w = g->initializer[0];

    /* An unsupported operator, named with its node. */
    char *op = conv->op_type;
    conv->op_type = "ConvTranspose";
    expect_error(ctx, mp, CLCNN_ERR_UNSUPPORTED, "node 1 'layer1_conv_1' (ConvTranspose)|operator is unsupported");
    conv->op_type = op;

    /* An attribute clcnn does not know. */
    char *an = conv->attribute[0]->name;
    conv->attribute[0]->name = "frobnicate";
    expect_error(ctx, mp, CLCNN_ERR_UNSUPPORTED, "(Conv)|attribute 'frobnicate' is unsupported");
    conv->attribute[0]->name = an;

    /* A graph that is not a chain: node 3 reads the graph's input. */
    char *in = g->node[2]->input[0];
    g->node[2]->input[0] = g->node[0]->input[0];
    expect_error(ctx, mp, CLCNN_ERR_UNSUPPORTED, "node|not a chain");
    g->node[2]->input[0] = in;

    /* A tensor whose data does not match its dimensions: refused before
     * anything of that size is allocated. */
    Onnx__TensorProto *bias = g->initializer[1];
    bias->dims[0] = (int64_t)1 << 27;
    expect_error(ctx, mp, CLCNN_ERR_FORMAT, "bias 'layer1.bias' holds 6 values for its 134217728 elements");
    bias->dims[0] = (int64_t)1 << 40;
    expect_error(ctx, mp, CLCNN_ERR_FORMAT, "bias 'layer1.bias' has dimension");
    bias->dims[0] = 6;

    /* External data, another data type, a NaN. */
    w->has_data_location = 1;
    w->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    expect_error(ctx, mp, CLCNN_ERR_UNSUPPORTED, "external");
    w->has_data_location = 0;
    w->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__DOUBLE;
    expect_error(ctx, mp, CLCNN_ERR_UNSUPPORTED, "data type 11");
    w->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    unsigned char saved[4];
    memcpy(saved, w->raw_data.data, 4);
    memcpy(w->raw_data.data, "\x00\x00\xc0\x7f", 4); /* a quiet NaN, little-endian */
    expect_error(ctx, mp, CLCNN_ERR_NUMERIC, "NaN");
    memcpy(w->raw_data.data, saved, 4);

    /* An opset clcnn does not read; a symbolic image size. */
    mp->opset_import[0]->version = 18;
    expect_error(ctx, mp, CLCNN_ERR_UNSUPPORTED, "opset 18");
    mp->opset_import[0]->version = 13;
    Onnx__TensorShapeProto__Dimension *dim = g->input[0]->type->tensor_type->shape->dim[2];
    dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
    dim->dim_param = "H";
    expect_error(ctx, mp, CLCNN_ERR_UNSUPPORTED, "symbolic");
    dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    dim->dim_value = 28;

    /* Unspoilt, it loads. */
    char p[256];
    path_of(p, sizeof p, "unspoilt.onnx");
    size_t n = onnx__model_proto__get_packed_size(mp);
    unsigned char *b = malloc(n);
    onnx__model_proto__pack(mp, b);
    write_bytes(p, b, n);
    free(b);
    clcnn_model *m = NULL;
    ck_assert_int_eq(clcnn_model_load_onnx(ctx, &m, p), CLCNN_OK);
    clcnn_model_free(m);
    onnx__model_proto__free_unpacked(mp, NULL);
    free(bytes);
    clcnn_ctx_free(ctx);
}
END_TEST

START_TEST(test_hostile_bytes)
{
    clcnn_ctx *ctx = tu_ctx();
    unsigned char *bytes;
    size_t len;
    Onnx__ModelProto *mp = lenet_proto(ctx, &bytes, &len);
    onnx__model_proto__free_unpacked(mp, NULL);
    char p[256];
    path_of(p, sizeof p, "cut.onnx");
    clcnn_model *m = NULL;
    /* Empty, and random bytes. */
    write_bytes(p, "", 0);
    ck_assert_int_eq(clcnn_model_load_onnx(ctx, &m, p), CLCNN_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(clcnn_errmsg(ctx), "not an ONNX model"));
    unsigned char junk[512];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)(i * 131 + 7);
    write_bytes(p, junk, sizeof junk);
    ck_assert_int_ne(clcnn_model_load_onnx(ctx, &m, p), CLCNN_OK);
    ck_assert_ptr_null(m);
    /* Millions of empty nodes: 2 bytes of file each, over 100 of memory;
     * refused once they exceed the reader's budget, not allocated. */
    size_t nodes = (size_t)4 << 20, body = 2 * nodes;
    unsigned char *bomb = malloc(body + 6);
    bomb[0] = 0x3a; /* field 7 (graph), length-delimited, then the length as a varint */
    size_t at = 1;
    for (size_t v = body; v; v >>= 7)
        bomb[at++] = (unsigned char)((v & 0x7f) | (v >> 7 ? 0x80 : 0));
    for (size_t i = 0; i < nodes; i++)
        bomb[at + 2 * i] = 0x0a, bomb[at + 2 * i + 1] = 0; /* field 1 (node), empty */
    write_bytes(p, bomb, at + body);
    free(bomb);
    ck_assert_int_eq(clcnn_model_load_onnx(ctx, &m, p), CLCNN_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(clcnn_errmsg(ctx), "bytes of parts"));
    /* Every cut through the weights fails with a message; only cuts
     * after the graph and its opset may still load (the metadata is last). */
    unsigned cuts = 0;
    for (size_t cut = 1; cut < len; cut += cut < 4096 ? 37 : 4099) {
        write_bytes(p, bytes, cut);
        int st = clcnn_model_load_onnx(ctx, &m, p);
        if (st == CLCNN_OK) {
            ck_assert_uint_eq(clcnn_model_param_count(m), 61706);
            clcnn_model_free(m);
            m = NULL;
            continue;
        }
        ck_assert_msg(st == CLCNN_ERR_FORMAT || st == CLCNN_ERR_UNSUPPORTED, "cut at %zu: status %d", cut, st);
        ck_assert_ptr_null(m);
        ck_assert_ptr_nonnull(strstr(clcnn_errmsg(ctx), p));
        cuts++;
    }
    ck_assert_uint_gt(cuts, 100);
    free(bytes);
    clcnn_ctx_free(ctx);
}
END_TEST

START_TEST(test_export_errors)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_model *m = NULL;
    char p[256];
    path_of(p, sizeof p, "even.onnx");
    /* An even LRN window has no ONNX equivalent. */
    ck_assert_int_eq(clcnn_model_create(ctx, &m, 4, 4, 3), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_add_lrn(m, 4, 1e-3f, 0.75f, 1.0f), CLCNN_OK);
    ck_assert_int_eq(clcnn_model_save_onnx(m, p), CLCNN_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(clcnn_errmsg(ctx), "layer 1 (lrn)"));
    ck_assert_int_ne(access(p, F_OK), 0);
    clcnn_model_free(m);
    ck_assert_int_eq(clcnn_model_save_onnx(NULL, p), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_model_load_onnx(ctx, NULL, p), CLCNN_ERR_ARGUMENT);
    clcnn_ctx_free(ctx);
}
END_TEST

static Suite *onnx_suite(void)
{
    Suite *s = suite_create("onnx");
    TCase *tc = tcase_create("onnx");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_hostile_graphs);
    tcase_add_test(tc, test_hostile_bytes);
    tcase_add_test(tc, test_export_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    tu_skip_if_no_device();
    if (!mkdtemp(dir))
        return 1;
    SRunner *sr = srunner_create(onnx_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        failed++;
    return failed ? 1 : 0;
}
