/*
 * clcnn bench: per-layer times, training throughput, inference latency and
 * throughput, peak memory and start-up time of LeNet-5, per backend.
 *
 * Each backend runs in its own child process (fork), so that its peak
 * resident memory (ru_maxrss from wait4) is its own and a crash or a missing
 * device stays contained; the child sends its figures back through a pipe.
 * Start-up is measured in further fresh children, one context creation each.
 * The parent itself never touches a device, so forking stays safe.
 *
 * Every figure is a median over --repeats samples taken after warm-up, and
 * every clock stops only after clcnn_ctx_finish() (or a call that reads
 * results back to the host, which waits for the device anyway).
 */
#include <errno.h>
#include <dirent.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "common.h"
#include "model/model.h"
#include "ops/family.h"

static const char usage_text[] =
    "usage: clcnn bench [OPTIONS]\n"
    "Times LeNet-5 on synthetic data: every layer forward and backward at batch 32,\n"
    "training throughput at batch 32 and 256, inference latency (batch 1) and\n"
    "throughput (batch 256), peak resident memory and context start-up time.\n"
    "Each backend runs in its own child process; figures are medians over the\n"
    "repeats, warm-up excluded.\n\n"
    "  --device D          a device to time: auto, cpu, opencl or opencl:P:D\n"
    "                      (may be given up to 4 times; default: cpu, then\n"
    "                      opencl when a device is available)\n"
    "  --all               cpu, then opencl when a device is available (default)\n"
    "  --repeats N         timed samples per figure (default 5; --quick: 3)\n"
    "  --images N          size of the synthetic training set (default 4096;\n"
    "                      --quick: 1024)\n"
    "  --quick             fewer repeats and images, for a fast look\n"
    "  --json FILE         also write the figures as JSON to FILE\n"
    "  --help              show this help\n";

#define MAX_DEVICES 4
#define LAYER_BATCH 32
#define INFER_BATCH 256
#define MIN_SAMPLE_SECONDS 0.02 /* per-layer samples repeat an op for at least this long */

enum { L_CONV1, L_POOL1, L_CONV2, L_POOL2, L_DENSE1, L_DENSE2, L_DENSE3, NLAYERS };

static const char *const layer_name[NLAYERS] = {"conv1", "pool1", "conv2", "pool2", "dense1", "dense2", "dense3"};
static const char *const layer_what[NLAYERS] = {
    "28x28x1 -> 28x28x6, 5x5 same, relu", "28x28x6 -> 14x14x6, 2x2/2 max", "14x14x6 -> 10x10x16, 5x5 valid, relu",
    "10x10x16 -> 5x5x16, 2x2/2 max",      "400 -> 120, relu",              "120 -> 84, relu",
    "84 -> 10 (logits)",
};

static const size_t train_batches[2] = {32, 256};

typedef struct config {
    const char *devices[MAX_DEVICES];
    int ndevices;
    int optional[MAX_DEVICES]; /* skip, rather than fail, when unavailable */
    size_t repeats, images, latency_calls;
    int quick;
    const char *json;
} config;

/* What a child sends back (a plain struct through a pipe). */
enum { RES_OK = 0, RES_FAILED = 1, RES_UNAVAILABLE = 3 };

typedef struct result {
    int status;
    char backend[16];
    char device[256];
    char error[512];
    double fwd_ms[NLAYERS], bwd_ms[NLAYERS];
    double first_step_ms;
    double train_ips[2];
    double latency_us, latency_p90_us;
    double infer_ips;
    /* filled by the parent */
    double startup_cold_ms, startup_warm_ms;
    long maxrss_kib;
} result;

/* ---------------------------------------------------------------- helpers */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median (sorts v). */
static double median(double *v, size_t n)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double percentile(double *v, size_t n, double p)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    size_t i = (size_t)ceil(p * (double)n) - 1;
    return v[i < n ? i : n - 1];
}

/* Deterministic pseudo-random floats in [lo, hi) (xorshift; no shared state). */
static void fill_random(float *v, size_t n, uint64_t *state, float lo, float hi)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t x = *state;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        *state = x;
        v[i] = lo + (hi - lo) * (float)((x >> 40) * (1.0 / 16777216.0));
    }
}

static void set_error(result *r, int status, const char *fmt, const char *msg)
{
    r->status = status;
    snprintf(r->error, sizeof r->error, fmt, msg);
}

/* ------------------------------------------------------- per-layer timing */

typedef int (*op_fn)(void *arg);

/* Median seconds per call of fn: two warm-up calls, then `repeats` samples,
 * each running fn often enough to last MIN_SAMPLE_SECONDS. */
static int time_op(clcnn_ctx *ctx, op_fn fn, void *arg, size_t repeats, double *ms)
{
    int st;
    for (int i = 0; i < 2; i++)
        if ((st = fn(arg)))
            return st;
    if ((st = clcnn_ctx_finish(ctx)))
        return st;
    double t0 = cli_now();
    if ((st = fn(arg)) || (st = clcnn_ctx_finish(ctx)))
        return st;
    double once = cli_now() - t0;
    size_t inner = once >= MIN_SAMPLE_SECONDS ? 1 : (size_t)ceil(MIN_SAMPLE_SECONDS / (once > 1e-7 ? once : 1e-7));
    if (inner > 1000)
        inner = 1000;
    double *s = malloc(repeats * sizeof *s);
    if (!s)
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "bench: out of memory");
    for (size_t r = 0; r < repeats; r++) {
        t0 = cli_now();
        for (size_t i = 0; i < inner; i++)
            if ((st = fn(arg)))
                break;
        if (st || (st = clcnn_ctx_finish(ctx)))
            break;
        s[r] = (cli_now() - t0) / (double)inner;
    }
    if (!st)
        *ms = 1e3 * median(s, repeats);
    free(s);
    return st;
}

/* A convolution or pooling layer of LeNet-5 through the public ops. */
typedef struct public_op {
    clcnn_ctx *ctx;
    int conv; /* else max pool 2x2/2 */
    clcnn_padding padding;
    int want_dx;
    clcnn_tensor *x, *w, *b, *y, *dy, *dx, *dw, *db;
} public_op;

static int public_forward(void *arg)
{
    public_op *o = arg;
    if (o->conv)
        return clcnn_conv_forward(o->ctx, o->x, o->w, o->b, CLCNN_ACT_RELU, o->padding, 1, 1, &o->y);
    return clcnn_pool_forward(o->ctx, o->x, 2, 2, 2, 2, CLCNN_POOL_MAX, &o->y);
}

static int public_backward(void *arg)
{
    public_op *o = arg;
    if (o->conv)
        return clcnn_conv_backward(o->ctx, o->dy, o->x, o->w, o->b, o->padding, 1, 1, o->want_dx ? &o->dx : NULL,
                                   &o->dw, &o->db);
    return clcnn_pool_backward(o->ctx, o->dy, o->x, 2, 2, 2, 2, CLCNN_POOL_MAX, &o->dx);
}

static void public_op_free(public_op *o)
{
    clcnn_tensor *t[] = {o->x, o->w, o->b, o->y, o->dy, o->dx, o->dw, o->db};
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        clcnn_tensor_free(t[i]);
}

static int random_tensor(clcnn_ctx *ctx, clcnn_tensor **out, const size_t *shape, uint64_t *rng, float lo, float hi)
{
    size_t n = shape[0] * shape[1] * shape[2] * shape[3];
    float *v = malloc(n * sizeof *v);
    if (!v)
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "bench: out of memory");
    fill_random(v, n, rng, lo, hi);
    int st = clcnn_tensor_create(ctx, out, 4, shape);
    if (st == CLCNN_OK)
        st = clcnn_tensor_write(*out, v, n);
    free(v);
    return st;
}

/* Times conv1, pool1, conv2, pool2 forward and backward at batch 32. */
static int bench_public_layers(clcnn_ctx *ctx, const config *cfg, result *r)
{
    static const struct {
        int conv;
        size_t h, w, c, k; /* input h, w, c; conv filters */
        clcnn_padding padding;
        size_t oh, ow;
        int want_dx;
    } spec[4] = {
        {1, 28, 28, 1, 6, CLCNN_PAD_SAME, 28, 28, 0}, /* conv1: first layer, no input gradient in training */
        {0, 28, 28, 6, 6, CLCNN_PAD_VALID, 14, 14, 1},
        {1, 14, 14, 6, 16, CLCNN_PAD_VALID, 10, 10, 1},
        {0, 10, 10, 16, 16, CLCNN_PAD_VALID, 5, 5, 1},
    };
    uint64_t rng = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 4; i++) {
        public_op o = {.ctx = ctx, .conv = spec[i].conv, .padding = spec[i].padding, .want_dx = spec[i].want_dx};
        size_t xs[4] = {LAYER_BATCH, spec[i].h, spec[i].w, spec[i].c};
        size_t ys[4] = {LAYER_BATCH, spec[i].oh, spec[i].ow, spec[i].k};
        size_t ws[4] = {5, 5, spec[i].c, spec[i].k}, bs[4] = {1, 1, 1, spec[i].k};
        int st = random_tensor(ctx, &o.x, xs, &rng, 0.0f, 1.0f);
        if (!st)
            st = random_tensor(ctx, &o.dy, ys, &rng, -0.01f, 0.01f);
        if (!st && o.conv) {
            st = random_tensor(ctx, &o.w, ws, &rng, -0.2f, 0.2f);
            if (!st)
                st = random_tensor(ctx, &o.b, bs, &rng, -0.1f, 0.1f);
        }
        if (!st)
            st = time_op(ctx, public_forward, &o, cfg->repeats, &r->fwd_ms[i]);
        if (!st)
            st = time_op(ctx, public_backward, &o, cfg->repeats, &r->bwd_ms[i]);
        public_op_free(&o);
        if (st)
            return st;
    }
    return CLCNN_OK;
}

/* A dense layer of the LeNet-5 model itself, through its internal layer ops
 * (the public API has no dense op): exactly what a training step runs. */
typedef struct model_layer_op {
    clcnn_model *m;
    size_t i;
} model_layer_op;

static int model_layer_forward(void *arg)
{
    model_layer_op *o = arg;
    layer *l = &o->m->layers[o->i];
    clcnn_activation act = o->i + 1 == o->m->nlayers ? CLCNN_ACT_IDENTITY : l->cfg.act;
    return l->family->forward(o->m->ctx, l, o->m->layers[o->i - 1].out, LAYER_BATCH, act);
}

static int model_layer_backward(void *arg)
{
    model_layer_op *o = arg;
    layer *l = &o->m->layers[o->i];
    return l->family->backward(o->m->ctx, l, o->m->layers[o->i - 1].out, o->m->grad[0], o->m->grad[1], LAYER_BATCH);
}

static int bench_dense_layers(clcnn_ctx *ctx, clcnn_model *m, const config *cfg, result *r)
{
    int st = clcnn_model_reserve(m, LAYER_BATCH);
    /* One forward pass through every layer sets up the flatten alias. */
    const clcnn_buf *x = m->input;
    for (size_t i = 0; st == CLCNN_OK && i < m->nlayers; i++) {
        layer *l = &m->layers[i];
        st = l->family->forward(ctx, l, x, LAYER_BATCH, CLCNN_ACT_IDENTITY);
        x = l->out;
    }
    size_t largest = 0;
    for (size_t i = 0; i < m->nlayers; i++) {
        size_t s = clcnn_shape_size(m->layers[i].out_shape);
        largest = s > largest ? s : largest;
    }
    if (st == CLCNN_OK)
        st = ctx->ops->fill(ctx->bctx, m->grad[0], m->capacity * largest, 0.01f);
    int row = L_DENSE1;
    for (size_t i = 1; st == CLCNN_OK && i < m->nlayers && row < NLAYERS; i++) {
        if (m->layers[i].cfg.kind != CLCNN_LAYER_DENSE)
            continue;
        model_layer_op o = {m, i};
        if ((st = time_op(ctx, model_layer_forward, &o, cfg->repeats, &r->fwd_ms[row])) ||
            (st = time_op(ctx, model_layer_backward, &o, cfg->repeats, &r->bwd_ms[row])))
            break;
        row++;
    }
    return st;
}

/* ------------------------------------------------- training and inference */

static int bench_training(clcnn_ctx *ctx, clcnn_model *m, const clcnn_dataset *ds, const config *cfg, result *r)
{
    double *s = malloc(cfg->repeats * sizeof *s);
    if (!s)
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "bench: out of memory");
    int st = CLCNN_OK;
    for (int b = 0; st == CLCNN_OK && b < 2; b++) {
        fprintf(stderr, "clcnn bench: %s: training at batch %zu\n", r->backend, train_batches[b]);
        /* One epoch of warm-up, then `repeats` timed epochs. */
        for (size_t e = 0; st == CLCNN_OK && e <= cfg->repeats; e++) {
            double t0 = cli_now();
            st = clcnn_model_train_epoch(m, ds, train_batches[b], 1000 + e, NULL, NULL, 0, NULL, NULL);
            if (st == CLCNN_OK)
                st = clcnn_ctx_finish(ctx);
            if (e > 0)
                s[e - 1] = cli_now() - t0;
        }
        if (st == CLCNN_OK)
            r->train_ips[b] = (double)clcnn_dataset_count(ds) / median(s, cfg->repeats);
    }
    free(s);
    return st;
}

static int bench_inference(clcnn_ctx *ctx, clcnn_model *m, const float *images, const config *cfg, result *r)
{
    float probs[INFER_BATCH * 10];
    size_t calls = cfg->latency_calls;
    size_t n = calls > cfg->repeats ? calls : cfg->repeats;
    double *s = malloc(n * sizeof *s);
    if (!s)
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "bench: out of memory");
    fprintf(stderr, "clcnn bench: %s: inference\n", r->backend);
    int st = CLCNN_OK;
    /* Latency: one image per call; predict reads the result back, so every
     * call waits for the device. */
    for (size_t i = 0; st == CLCNN_OK && i < 20; i++)
        st = clcnn_model_predict(m, images + (i % 64) * 784, 1, probs);
    for (size_t i = 0; st == CLCNN_OK && i < calls; i++) {
        double t0 = cli_now();
        st = clcnn_model_predict(m, images + (i % 64) * 784, 1, probs);
        s[i] = cli_now() - t0;
    }
    if (st == CLCNN_OK) {
        r->latency_p90_us = 1e6 * percentile(s, calls, 0.9);
        r->latency_us = 1e6 * median(s, calls);
    }
    /* Throughput at batch 256. */
    for (size_t i = 0; st == CLCNN_OK && i < 2; i++)
        st = clcnn_model_predict(m, images, INFER_BATCH, probs);
    for (size_t i = 0; st == CLCNN_OK && i < cfg->repeats; i++) {
        double t0 = cli_now();
        st = clcnn_model_predict(m, images, INFER_BATCH, probs);
        s[i] = cli_now() - t0;
    }
    if (st == CLCNN_OK)
        r->infer_ips = INFER_BATCH / median(s, cfg->repeats);
    free(s);
    return st;
}

/* Everything for one device, in the child process. */
static void run_backend(const char *device, const config *cfg, result *r)
{
    clcnn_ctx *ctx = NULL;
    clcnn_model *model = NULL;
    clcnn_dataset *ds = NULL;
    float *images = NULL;
    int32_t *labels = NULL;
    int st = clcnn_ctx_create(&ctx, device);
    if (st != CLCNN_OK) {
        set_error(r, st == CLCNN_ERR_NO_DEVICE || st == CLCNN_ERR_UNSUPPORTED ? RES_UNAVAILABLE : RES_FAILED, "%s",
                  ctx ? clcnn_errmsg(ctx) : "out of memory");
        clcnn_ctx_free(ctx);
        return;
    }
    snprintf(r->backend, sizeof r->backend, "%s", clcnn_ctx_backend(ctx));
    snprintf(r->device, sizeof r->device, "%s", clcnn_ctx_device_name(ctx));

    size_t count = cfg->images; /* at least INFER_BATCH */
    images = malloc(count * 784 * sizeof *images);
    labels = malloc(count * sizeof *labels);
    if (!images || !labels) {
        set_error(r, RES_FAILED, "%s", "out of memory");
        goto done;
    }
    uint64_t rng = 42;
    fill_random(images, count * 784, &rng, 0.0f, 1.0f);
    for (size_t i = 0; i < count; i++)
        labels[i] = (int32_t)(i * 7 % 10);

    if ((st = clcnn_dataset_create(ctx, &ds, count, 28, 28, 1, images, labels)) ||
        (st = clcnn_model_lenet5(ctx, &model)) || (st = clcnn_model_init(model, 1)))
        goto fail;

    /* The first step pays for whatever is compiled or tuned lazily. */
    fprintf(stderr, "clcnn bench: %s: first step and layers (%s)\n", r->backend, r->device);
    double t0 = cli_now();
    if ((st = clcnn_model_train_step(model, images, labels, LAYER_BATCH, NULL, NULL)) ||
        (st = clcnn_ctx_finish(ctx)))
        goto fail;
    r->first_step_ms = 1e3 * (cli_now() - t0);

    if ((st = bench_public_layers(ctx, cfg, r)) || (st = bench_dense_layers(ctx, model, cfg, r)) ||
        (st = bench_training(ctx, model, ds, cfg, r)) || (st = bench_inference(ctx, model, images, cfg, r)))
        goto fail;
    r->status = RES_OK;
    goto done;
fail:
    set_error(r, RES_FAILED, "%s", clcnn_errmsg(ctx));
done:
    clcnn_model_free(model);
    clcnn_dataset_free(ds);
    free(images);
    free(labels);
    clcnn_ctx_free(ctx);
}

/* -------------------------------------------------------------- processes */

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w, n -= (size_t)w;
    }
    return 0;
}

static size_t read_all(int fd, void *p, size_t n)
{
    char *c = p;
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, c + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    return got;
}

typedef void (*child_fn)(void *arg, void *out, size_t len);

/* Runs fn in a child process; out receives what it wrote (len bytes).
 * Returns 0 when the child delivered everything and exited normally. */
static int in_child(child_fn fn, void *arg, void *out, size_t len, struct rusage *ru, char *why, size_t why_len)
{
    int fds[2];
    if (pipe(fds) != 0) {
        snprintf(why, why_len, "pipe: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, why_len, "fork: %s", strerror(errno));
        close(fds[0]), close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        fn(arg, out, len);
        int rc = write_all(fds[1], out, len) ? 1 : 0;
        fflush(NULL);
        _exit(rc);
    }
    close(fds[1]);
    size_t got = read_all(fds[0], out, len);
    close(fds[0]);
    int status = 0;
    struct rusage local;
    while (wait4(pid, &status, 0, ru ? ru : &local) < 0) {
        if (errno != EINTR) {
            snprintf(why, why_len, "wait4: %s", strerror(errno));
            return -1;
        }
    }
    if (WIFSIGNALED(status)) {
        snprintf(why, why_len, "the benchmark process died of signal %d", WTERMSIG(status));
        return -1;
    }
    if (got != len || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(why, why_len, "the benchmark process ended early (exit status %d)",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return -1;
    }
    return 0;
}

typedef struct backend_job {
    const char *device;
    const config *cfg;
} backend_job;

static void backend_child(void *arg, void *out, size_t len)
{
    const backend_job *j = arg;
    (void)len;
    run_backend(j->device, j->cfg, out);
}

typedef struct startup_job {
    const char *device, *cache_dir;
} startup_job;

typedef struct startup_result {
    int ok;
    double ms;
    char error[256];
} startup_result;

/* One context creation with the kernel cache in cache_dir.  PoCL keeps a
 * binary cache of its own; it goes in the same directory, so that "cold"
 * means cold for the whole stack. */
static void startup_child(void *arg, void *out, size_t len)
{
    const startup_job *j = arg;
    startup_result *r = out;
    (void)len;
    char pocl[4200];
    snprintf(pocl, sizeof pocl, "%.4000s/pocl", j->cache_dir);
    setenv("CLCNN_CACHE_DIR", j->cache_dir, 1);
    setenv("POCL_CACHE_DIR", pocl, 1);
    clcnn_ctx *ctx = NULL;
    double t0 = cli_now();
    int st = clcnn_ctx_create_with_log(&ctx, j->device, NULL, NULL);
    r->ms = 1e3 * (cli_now() - t0);
    r->ok = st == CLCNN_OK;
    if (!r->ok)
        snprintf(r->error, sizeof r->error, "%s", ctx ? clcnn_errmsg(ctx) : "out of memory");
    clcnn_ctx_free(ctx);
}

/* rm -r of a temporary directory we made (no symbolic links followed). */
static void remove_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                    continue;
                char sub[4096];
                if ((size_t)snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) < sizeof sub)
                    remove_tree(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* Median cold and warm context creation over cfg->repeats fresh processes. */
static int bench_startup(const char *device, const config *cfg, result *r, char *why, size_t why_len)
{
    size_t n = cfg->repeats;
    double *cold = calloc(n, sizeof *cold), *warm = calloc(n, sizeof *warm);
    int rc = 0;
    if (!cold || !warm) {
        snprintf(why, why_len, "out of memory");
        rc = -1;
    }
    const char *tmp = getenv("TMPDIR");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/clcnn-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) {
            snprintf(why, why_len, "cannot make a temporary directory: %s", strerror(errno));
            rc = -1;
            break;
        }
        startup_job j = {device, dir};
        startup_result sr[2];
        memset(sr, 0, sizeof sr);
        for (int k = 0; rc == 0 && k < 2; k++) {
            if (in_child(startup_child, &j, &sr[k], sizeof sr[k], NULL, why, why_len))
                rc = -1;
            else if (!sr[k].ok) {
                snprintf(why, why_len, "%s", sr[k].error);
                rc = -1;
            }
        }
        remove_tree(dir);
        if (rc == 0)
            cold[i] = sr[0].ms, warm[i] = sr[1].ms;
    }
    if (rc == 0) {
        r->startup_cold_ms = median(cold, n);
        r->startup_warm_ms = median(warm, n);
    }
    free(cold);
    free(warm);
    return rc;
}

/* ----------------------------------------------------------------- output */

static double sum_layers(const result *r)
{
    double s = 0;
    for (int i = 0; i < NLAYERS; i++)
        s += r->fwd_ms[i] + r->bwd_ms[i];
    return s;
}

static void print_row(const char *label, const result *rs, int n, double (*get)(const result *), const char *fmt)
{
    printf("%-38s", label);
    for (int i = 0; i < n; i++) {
        char cell[32];
        double v = get(&rs[i]);
        if (isfinite(v))
            snprintf(cell, sizeof cell, fmt, v);
        else
            snprintf(cell, sizeof cell, "-");
        printf(" %16s", cell);
    }
    putchar('\n');
}

static int cur_layer;
static double get_fwd(const result *r) { return r->fwd_ms[cur_layer]; }
static double get_bwd(const result *r) { return r->bwd_ms[cur_layer]; }
static double get_sum(const result *r) { return sum_layers(r); }
static double get_step32(const result *r) { return 1e3 * train_batches[0] / r->train_ips[0]; }
static double get_ips32(const result *r) { return r->train_ips[0]; }
static double get_ips256(const result *r) { return r->train_ips[1]; }
static double get_first(const result *r) { return r->first_step_ms; }
static double get_lat(const result *r) { return r->latency_us; }
static double get_lat90(const result *r) { return r->latency_p90_us; }
static double get_infer(const result *r) { return r->infer_ips; }
static double get_cold(const result *r) { return r->startup_cold_ms; }
static double get_warm(const result *r) { return r->startup_warm_ms; }
static double get_rss(const result *r) { return r->maxrss_kib / 1024.0; }

static void print_table(const config *cfg, const result *rs, int n)
{
    printf("clcnn bench: LeNet-5, synthetic data, medians of %zu repeats after warm-up\n", cfg->repeats);
    for (int i = 0; i < n; i++)
        printf("  %s: %s\n", rs[i].backend, rs[i].device);
    printf("\n%-38s", "");
    for (int i = 0; i < n; i++)
        printf(" %16s", rs[i].backend);
    printf("\nlayer times at batch %d (ms)\n", LAYER_BATCH);
    for (int l = 0; l < NLAYERS; l++) {
        char label[80];
        cur_layer = l;
        snprintf(label, sizeof label, "  %-6s forward  %s", layer_name[l], l == L_CONV1 ? "(5x5 same)" :
                 l == L_CONV2 ? "(5x5 valid)" : "");
        print_row(label, rs, n, get_fwd, "%.3f");
        snprintf(label, sizeof label, "  %-6s backward%s", layer_name[l], l == L_CONV1 ? " (no dA_prev)" : "");
        print_row(label, rs, n, get_bwd, "%.3f");
    }
    print_row("  sum of the layers above", rs, n, get_sum, "%.3f");
    print_row("training step, batch 32 (ms)", rs, n, get_step32, "%.3f");
    print_row("training, batch 32 (images/s)", rs, n, get_ips32, "%.0f");
    print_row("training, batch 256 (images/s)", rs, n, get_ips256, "%.0f");
    print_row("first training step (ms)", rs, n, get_first, "%.1f");
    print_row("inference latency, batch 1 (us)", rs, n, get_lat, "%.1f");
    print_row("  90th percentile (us)", rs, n, get_lat90, "%.1f");
    print_row("inference, batch 256 (images/s)", rs, n, get_infer, "%.0f");
    print_row("context creation, cold cache (ms)", rs, n, get_cold, "%.1f");
    print_row("context creation, warm cache (ms)", rs, n, get_warm, "%.1f");
    print_row("peak RSS of the bench process (MiB)", rs, n, get_rss, "%.1f");
    printf("\nlayers: ");
    for (int l = 0; l < NLAYERS; l++)
        printf("%s %s%s", layer_name[l], layer_what[l], l + 1 < NLAYERS ? "; " : "\n");
    printf("training: %zu synthetic images per epoch (clcnn_model_train_epoch); peak RSS: ru_maxrss of the\n"
           "process that ran all of the above for that backend.\n",
           cfg->images);
}

static void json_num(FILE *f, const char *key, double v, int comma)
{
    if (isfinite(v))
        fprintf(f, "\"%s\": %.6g%s", key, v, comma ? ", " : "");
    else
        fprintf(f, "\"%s\": null%s", key, comma ? ", " : "");
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* Writes to f (opened before the run, so that a bad path fails at once)
 * and closes it. */
static int write_json(FILE *f, const char *path, const config *cfg, const result *rs, int n)
{
    fprintf(f, "{\n  \"clcnn_version\": \"%s\", \"model\": \"lenet5\", \"data\": \"synthetic\",\n", clcnn_version());
    fprintf(f, "  \"repeats\": %zu, \"train_images\": %zu, \"layer_batch\": %d, \"latency_calls\": %zu,\n",
            cfg->repeats, cfg->images, LAYER_BATCH, cfg->latency_calls);
    fprintf(f, "  \"backends\": [\n");
    for (int i = 0; i < n; i++) {
        const result *r = &rs[i];
        fprintf(f, "    {\"backend\": ");
        json_str(f, r->backend);
        fprintf(f, ", \"device\": ");
        json_str(f, r->device);
        fprintf(f, ",\n     \"layers\": [\n");
        for (int l = 0; l < NLAYERS; l++) {
            fprintf(f, "       {\"name\": \"%s\", \"what\": \"%s\", ", layer_name[l], layer_what[l]);
            json_num(f, "forward_ms", r->fwd_ms[l], 1);
            json_num(f, "backward_ms", r->bwd_ms[l], 0);
            fprintf(f, "}%s\n", l + 1 < NLAYERS ? "," : "");
        }
        fprintf(f, "     ],\n     ");
        json_num(f, "layers_sum_ms", sum_layers(r), 1);
        json_num(f, "train_step_ms_batch32", get_step32(r), 1);
        json_num(f, "train_images_per_s_batch32", r->train_ips[0], 1);
        json_num(f, "train_images_per_s_batch256", r->train_ips[1], 1);
        fprintf(f, "\n     ");
        json_num(f, "first_step_ms", r->first_step_ms, 1);
        json_num(f, "latency_us_batch1", r->latency_us, 1);
        json_num(f, "latency_p90_us_batch1", r->latency_p90_us, 1);
        json_num(f, "infer_images_per_s_batch256", r->infer_ips, 1);
        fprintf(f, "\n     ");
        json_num(f, "startup_cold_ms", r->startup_cold_ms, 1);
        json_num(f, "startup_warm_ms", r->startup_warm_ms, 1);
        fprintf(f, "\"peak_rss_kib\": %ld}%s\n", r->maxrss_kib, i + 1 < n ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
    if (ferror(f) | fclose(f))
        return cli_fail("%s: write failed", path);
    return 0;
}

/* ------------------------------------------------------------------- main */

static int parse(int argc, char **argv, config *cfg)
{
    enum { O_DEVICE = 1, O_ALL, O_REPEATS, O_IMAGES, O_QUICK, O_JSON, O_HELP };
    static const struct option longopts[] = {
        {"device", required_argument, 0, O_DEVICE}, {"all", no_argument, 0, O_ALL},
        {"repeats", required_argument, 0, O_REPEATS}, {"images", required_argument, 0, O_IMAGES},
        {"quick", no_argument, 0, O_QUICK},         {"json", required_argument, 0, O_JSON},
        {"help", no_argument, 0, O_HELP},           {0, 0, 0, 0},
    };
    int all = 0, repeats_set = 0, images_set = 0;
    *cfg = (config){.repeats = 5, .images = 4096, .latency_calls = 200};
    opterr = 0;
    optind = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_DEVICE:
            if (cfg->ndevices == MAX_DEVICES)
                return cli_usage_error("bench", "--device may be given at most %d times", MAX_DEVICES);
            cfg->devices[cfg->ndevices++] = optarg;
            break;
        case O_ALL: all = 1; break;
        case O_QUICK: cfg->quick = 1; break;
        case O_JSON: cfg->json = optarg; break;
        case O_REPEATS:
            if (cli_parse_size(optarg, 1, 1000, &cfg->repeats))
                return cli_usage_error("bench", "--repeats wants a whole number from 1 to 1000, not '%s'", optarg);
            repeats_set = 1;
            break;
        case O_IMAGES:
            if (cli_parse_size(optarg, INFER_BATCH, 1 << 22, &cfg->images))
                return cli_usage_error("bench", "--images wants a whole number from %d to 4194304, not '%s'",
                                       INFER_BATCH, optarg);
            images_set = 1;
            break;
        case O_HELP: fputs(usage_text, stdout); return 0;
        default: return cli_usage_error("bench", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("bench", "unexpected argument '%s'", argv[optind]);
    if (all && cfg->ndevices)
        return cli_usage_error("bench", "--all and --device exclude each other");
    if (cfg->quick) {
        if (!repeats_set)
            cfg->repeats = 3;
        if (!images_set)
            cfg->images = 1024;
        cfg->latency_calls = 50;
    }
    if (cfg->ndevices == 0) {
        cfg->devices[0] = "cpu";
        cfg->devices[1] = "opencl";
        cfg->optional[1] = 1;
        cfg->ndevices = 2;
    }
    return -1;
}

int cmd_bench(int argc, char **argv)
{
    config cfg;
    int rc = parse(argc, argv, &cfg);
    if (rc >= 0)
        return rc;
    FILE *json = NULL;
    if (cfg.json && !(json = fopen(cfg.json, "w")))
        return cli_fail("%s: cannot write: %s", cfg.json, strerror(errno));
    result rs[MAX_DEVICES];
    int n = 0;
    rc = 0;
    for (int i = 0; i < cfg.ndevices; i++) {
        const char *dev = cfg.devices[i];
        result *r = &rs[n];
        memset(r, 0, sizeof *r);
        for (int l = 0; l < NLAYERS; l++)
            r->fwd_ms[l] = r->bwd_ms[l] = NAN;
        r->first_step_ms = r->train_ips[0] = r->train_ips[1] = NAN;
        r->latency_us = r->latency_p90_us = r->infer_ips = NAN;
        r->startup_cold_ms = r->startup_warm_ms = NAN;
        r->status = RES_FAILED;
        backend_job job = {dev, &cfg};
        struct rusage ru;
        char why[512];
        if (in_child(backend_child, &job, r, sizeof *r, &ru, why, sizeof why)) {
            rc = cli_fail("bench on %s: %s", dev, why);
            continue;
        }
        if (r->status == RES_UNAVAILABLE && cfg.optional[i]) {
            fprintf(stderr, "clcnn bench: %s is not available, skipped (%s)\n", dev, r->error);
            continue;
        }
        if (r->status != RES_OK) {
            rc = cli_fail("bench on %s: %s", dev, r->error);
            continue;
        }
        r->maxrss_kib = ru.ru_maxrss;
        fprintf(stderr, "clcnn bench: %s: context start-up\n", r->backend);
        if (bench_startup(dev, &cfg, r, why, sizeof why)) {
            rc = cli_fail("bench on %s: start-up: %s", dev, why);
            continue;
        }
        n++;
    }
    if (n > 0)
        print_table(&cfg, rs, n);
    if (json) {
        if (n > 0) {
            if (write_json(json, cfg.json, &cfg, rs, n))
                rc = 1;
        } else {
            fclose(json);
            remove(cfg.json);
        }
    }
    return rc;
}
