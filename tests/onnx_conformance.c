/* onnx_conformance CASES NODE_DIR: the ONNX backend node tests (Debian
 * libonnx-testdata: NODE_DIR/test_NAME/model.onnx and
 * test_data_set_N/input_K.pb, output_0.pb) that clcnn's layers express,
 * on the backend of CLCNN_DEVICE.  CASES (tests/onnx_conformance.txt)
 * names each case it runs, "run NAME", and each it expects clcnn to
 * refuse, "refuse NAME WORD" (with WORD in the message), with the reason
 * for every group beside them.
 *
 * A node test keeps its weights in graph inputs (input_1.pb, ...) where a
 * model exported for inference has initializers: each such input becomes an
 * initializer of a copy of the model (the test's rewrite, through
 * protobuf-c) before clcnn_model_load_onnx reads it.  The first input is
 * NCHW (or (N, F)); it is transposed to NHWC for clcnn_model_predict and
 * the output back, and must agree with output_0.pb to 1e-5 of its largest
 * magnitude (at least 1), every data set of the case.
 *
 * With a third argument KEEP, the rewritten model of every case run is
 * also written to KEEP/NAME.onnx (the seeds of fuzz/corpus/onnx/).
 *
 * Exit 0: every case as listed; 1: a failure (printed); 77: no NODE_DIR. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clcnn.h"
#include "onnx/onnx.pb-c.h"

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (n == cap) {
            unsigned char *b = realloc(buf, cap = cap ? 2 * cap : 65536);
            if (!b) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = b;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    *len = n;
    return buf;
}

static Onnx__TensorProto *read_tensor(const char *path)
{
    size_t len;
    unsigned char *b = read_all(path, &len);
    Onnx__TensorProto *t = b ? onnx__tensor_proto__unpack(NULL, len, b) : NULL;
    free(b);
    return t;
}

/* A float tensor's values (raw or float_data) as a malloc'd array. */
static float *tensor_values(const Onnx__TensorProto *t, size_t *count)
{
    size_t n = 1;
    for (size_t i = 0; i < t->n_dims; i++)
        n *= (size_t)t->dims[i];
    if (t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT ||
        (t->has_raw_data ? t->raw_data.len != 4 * n : t->n_float_data != n))
        return NULL;
    float *v = malloc((n ? n : 1) * sizeof *v);
    if (v) {
        if (t->has_raw_data)
            memcpy(v, t->raw_data.data, 4 * n);
        else
            memcpy(v, t->float_data, 4 * n);
    }
    *count = n;
    return v;
}

/* NCHW <-> NHWC of an (n, c, h, w) tensor. */
static void to_nhwc(const float *src, float *dst, size_t n, size_t c, size_t h, size_t w)
{
    for (size_t a = 0; a < n; a++)
        for (size_t k = 0; k < c; k++)
            for (size_t y = 0; y < h; y++)
                for (size_t x = 0; x < w; x++)
                    dst[((a * h + y) * w + x) * c + k] = src[((a * c + k) * h + y) * w + x];
}

static void to_nchw(const float *src, float *dst, size_t n, size_t c, size_t h, size_t w)
{
    for (size_t a = 0; a < n; a++)
        for (size_t k = 0; k < c; k++)
            for (size_t y = 0; y < h; y++)
                for (size_t x = 0; x < w; x++)
                    dst[((a * c + k) * h + y) * w + x] = src[((a * h + y) * w + x) * c + k];
}

/* The case's model with graph inputs 2.. made initializers from data set
 * 0, written to out_path.  Returns 0 on success. */
static int rewrite_model(const char *dir, const char *out_path)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    size_t len;
    unsigned char *b = read_all(path, &len);
    Onnx__ModelProto *mp = b ? onnx__model_proto__unpack(NULL, len, b) : NULL;
    free(b);
    if (!mp || !mp->graph)
        return -1;
    Onnx__GraphProto *g = mp->graph;
    size_t extra = g->n_input > 1 ? g->n_input - 1 : 0;
    Onnx__TensorProto **inits = calloc(g->n_initializer + extra + 1, sizeof *inits);
    Onnx__TensorProto **loaded = calloc(extra + 1, sizeof *loaded);
    int rc = inits && loaded ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < g->n_initializer; i++)
        inits[i] = g->initializer[i];
    for (size_t k = 0; rc == 0 && k < extra; k++) {
        snprintf(path, sizeof path, "%s/test_data_set_0/input_%zu.pb", dir, k + 1);
        if (!(loaded[k] = read_tensor(path))) {
            rc = -1;
            break;
        }
        free(loaded[k]->name);
        loaded[k]->name = strdup(g->input[k + 1]->name);
        inits[g->n_initializer + k] = loaded[k];
    }
    size_t n_init = g->n_initializer, n_input = g->n_input;
    Onnx__TensorProto **old_inits = g->initializer;
    if (rc == 0) {
        g->initializer = inits;
        g->n_initializer = n_init + extra;
        g->n_input = 1;
        size_t size = onnx__model_proto__get_packed_size(mp);
        unsigned char *out = malloc(size ? size : 1);
        FILE *f = out ? fopen(out_path, "wb") : NULL;
        if (!f || fwrite(out, 1, onnx__model_proto__pack(mp, out), f) != size)
            rc = -1;
        if (f && fclose(f))
            rc = -1;
        free(out);
        g->initializer = old_inits;
        g->n_initializer = n_init;
        g->n_input = n_input;
    }
    for (size_t k = 0; k < extra && loaded; k++)
        if (loaded[k])
            onnx__tensor_proto__free_unpacked(loaded[k], NULL);
    free(inits);
    free(loaded);
    onnx__model_proto__free_unpacked(mp, NULL);
    return rc;
}

/* One data set: input_0.pb through the model against output_0.pb. */
static int run_set(clcnn_model *m, const char *set, double *worst)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/input_0.pb", set);
    Onnx__TensorProto *in = read_tensor(path);
    snprintf(path, sizeof path, "%s/output_0.pb", set);
    Onnx__TensorProto *out = read_tensor(path);
    size_t nin = 0, nout = 0;
    float *x = in ? tensor_values(in, &nin) : NULL, *want = out ? tensor_values(out, &nout) : NULL;
    float *xh = NULL, *got = NULL, *goth = NULL;
    int rc = -1;
    if (!x || !want || in->n_dims < 2 || (out->n_dims != 2 && out->n_dims != 4))
        goto done;
    size_t n = (size_t)in->dims[0], k = clcnn_model_classes(m);
    if (nout != n * k || !(xh = malloc(nin * sizeof *xh)) || !(got = malloc(nout * sizeof *got)) ||
        !(goth = malloc(nout * sizeof *goth)))
        goto done;
    if (in->n_dims == 4)
        to_nhwc(x, xh, n, (size_t)in->dims[1], (size_t)in->dims[2], (size_t)in->dims[3]);
    else
        memcpy(xh, x, nin * sizeof *x);
    if (clcnn_model_predict(m, xh, n, got) != CLCNN_OK)
        goto done;
    if (out->n_dims == 4)
        to_nchw(got, goth, n, (size_t)out->dims[1], (size_t)out->dims[2], (size_t)out->dims[3]);
    else
        memcpy(goth, got, nout * sizeof *got);
    double err = 0, scale = 1;
    for (size_t i = 0; i < nout; i++) {
        double d = fabs((double)goth[i] - want[i]);
        err = d > err || isnan(d) ? d : err;
        scale = fabs(want[i]) > scale ? fabs(want[i]) : scale;
    }
    *worst = err / scale > *worst ? err / scale : *worst;
    rc = err <= 1e-5 * scale ? 0 : 1;
done:
    free(x);
    free(want);
    free(xh);
    free(got);
    free(goth);
    if (in)
        onnx__tensor_proto__free_unpacked(in, NULL);
    if (out)
        onnx__tensor_proto__free_unpacked(out, NULL);
    return rc;
}

/* Runs one case; expect NULL: it must agree, else it must be refused with
 * a message holding expect.  Prints its line; returns 0 when as listed. */
static int run_case(clcnn_ctx *ctx, const char *node_dir, const char *name, const char *expect, const char *tmp,
                    const char *keep)
{
    char dir[2048], kept[2048];
    snprintf(dir, sizeof dir, "%s/%s", node_dir, name);
    snprintf(kept, sizeof kept, "%s/%s.onnx", keep ? keep : "", name);
    if (rewrite_model(dir, tmp) != 0 || (keep && !expect && rewrite_model(dir, kept) != 0)) {
        printf("FAIL %s: cannot read or rewrite the case\n", name);
        return 1;
    }
    clcnn_model *m = NULL;
    int st = clcnn_model_load_onnx(ctx, &m, tmp);
    if (expect) {
        int ok = st == CLCNN_ERR_UNSUPPORTED && strstr(clcnn_errmsg(ctx), expect);
        printf("%s %s: refused: %s\n", ok ? "ok" : "FAIL", name, st ? clcnn_errmsg(ctx) : "(loaded)");
        clcnn_model_free(m);
        return !ok;
    }
    if (st) {
        printf("FAIL %s: %s\n", name, clcnn_errmsg(ctx));
        return 1;
    }
    int rc = 0, sets = 0;
    double worst = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strncmp(e->d_name, "test_data_set_", 14) == 0) {
            char set[3072];
            snprintf(set, sizeof set, "%s/%s", dir, e->d_name);
            int r = run_set(m, set, &worst);
            if (r < 0)
                printf("FAIL %s: %s: %s\n", name, e->d_name, clcnn_errmsg(ctx));
            rc |= r != 0;
            sets++;
        }
    if (d)
        closedir(d);
    printf("%s %s: %d data set%s, worst error %.3g of the largest output\n", rc || !sets ? "FAIL" : "ok", name, sets,
           sets == 1 ? "" : "s", worst);
    clcnn_model_free(m);
    return rc || !sets;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: onnx_conformance CASES NODE_DIR [KEEP]\n");
        return 2;
    }
    struct stat sb;
    if (stat(argv[2], &sb) != 0) {
        printf("skipping: no ONNX node tests at %s (Debian: libonnx-testdata)\n", argv[2]);
        return 77;
    }
    FILE *f = fopen(argv[1], "r");
    clcnn_ctx *ctx = NULL;
    int st = clcnn_ctx_create(&ctx, NULL);
    if (st == CLCNN_ERR_NO_DEVICE) {
        printf("skipping: %s\n", clcnn_errmsg(ctx));
        clcnn_ctx_free(ctx);
        return 77;
    }
    if (!f || st) {
        fprintf(stderr, "onnx_conformance: %s\n", f ? clcnn_errmsg(ctx) : "cannot read the case list");
        return 1;
    }
    char tmp[] = "/tmp/clcnn-onnx-conformance-XXXXXX.onnx";
    int fd = mkstemps(tmp, 5);
    if (fd < 0)
        return 1;
    close(fd);
    char line[512];
    int failed = 0, run = 0, refused = 0;
    while (fgets(line, sizeof line, f)) {
        char verb[16], name[256], word[128];
        int n = sscanf(line, "%15s %255s %127s", verb, name, word);
        if (n < 2 || verb[0] == '#')
            continue;
        int refuse = strcmp(verb, "refuse") == 0;
        if (refuse && n < 3)
            continue;
        failed += run_case(ctx, argv[2], name, refuse ? word : NULL, tmp, argc == 4 ? argv[3] : NULL);
        run += !refuse;
        refused += refuse;
    }
    fclose(f);
    remove(tmp);
    printf("%s: %d cases run, %d refused as expected, %d failed on %s\n", failed ? "FAIL" : "PASS", run, refused,
           failed, clcnn_ctx_device_name(ctx));
    clcnn_ctx_free(ctx);
    return failed ? 1 : 0;
}
