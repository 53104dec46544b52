/*
 * clcnn_tune: the fastest correct value of each kernel tunable for a device
 * and a training workload, by measurement (coordinate descent, one tunable
 * at a time), stored for later contexts through tuned.c.
 *
 * Every candidate is a context of its own on the same device, built with
 * the candidate's values as -D build options and the stored choices off; a
 * candidate whose training step (from the same weights, on the same batch)
 * disagrees with the defaults' is rejected, whatever its speed.
 */
#include "opencl/ocl_backend.h" /* first: it picks the OpenCL API version */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check/compare.h"
#include "opencl/cache.h"

#define MAX_ROUNDS 9
#define MAX_CANDIDATES 8 /* the incumbent and the values of one tunable */
#define MAX_GRADS 64     /* parameter tensors compared, and the loss */
#define KEEP_MARGIN 1.03 /* how much faster a value must be to replace the best so far */

typedef size_t values_t[OCL_FAMILY_COUNT][OCL_MAX_TUNABLES];

/* One training step's loss and gradients, on the host. */
typedef struct step_result {
    float *v[MAX_GRADS];
    size_t n[MAX_GRADS];
    int count;
} step_result;

typedef struct candidate {
    clcnn_ctx *ctx;
    clcnn_model *m;
    size_t value;
    double rates[MAX_ROUNDS];
    const char *verdict; /* NULL while it is in the running */
} candidate;

typedef struct tuner {
    clcnn_ctx *ctx; /* the caller's: messages go here */
    ocl_backend *b;
    const clcnn_tune_options *o;
    size_t batch;
    int rounds;
    double seconds;
    float *images;
    int32_t *labels;
    candidate ref; /* the defaults */
    step_result ref_step;
    clcnn_tune_report *report;
} tuner;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void step_free(step_result *s)
{
    for (int i = 0; i < s->count; i++)
        free(s->v[i]);
    memset(s, 0, sizeof *s);
}

static void candidate_free(candidate *c)
{
    clcnn_model_free(c->m);
    clcnn_ctx_free(c->ctx);
    c->m = NULL;
    c->ctx = NULL;
}

/* 1 when list (names separated by commas or spaces) holds name. */
static int names(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = strstr(list, name); p; p = strstr(p + 1, name))
        if ((p == list || p[-1] == ',' || p[-1] == ' ' || p[-1] == 'D') &&
            (p[len] == '=' || p[len] == ',' || p[len] == ' ' || p[len] == '\0'))
            return 1;
    return 0;
}

/* The tunables named in list that no tunable has, or NULL. */
static const char *unknown_name(const char *list, char *buf, size_t len)
{
    for (const char *p = list; *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        const char *start = p;
        while (*p && *p != ',' && *p != ' ')
            p++;
        if (p == start)
            break;
        int found = 0;
        for (int f = 0; f < OCL_FAMILY_COUNT && !found; f++)
            for (int t = 0; t < ocl_families[f]->tunable_count && !found; t++)
                found = !ocl_families[f]->tunables[t].fixed && strlen(ocl_families[f]->tunables[t].name) ==
                                                                   (size_t)(p - start) &&
                        memcmp(ocl_families[f]->tunables[t].name, start, (size_t)(p - start)) == 0;
        if (!found) {
            snprintf(buf, len, "%.*s", (int)(p - start), start);
            return buf;
        }
    }
    return NULL;
}

/* A context on b's device built with values (NULL: the defaults) and the
 * context's other settings, with a model of the workload on it. */
static int open_candidate(tuner *t, const values_t *values, candidate *c)
{
    const clcnn_config *cfg = &t->b->ctx->config;
    char device[32], defines[512], options[CLCNN_CONFIG_OPTIONS_LEN];
    snprintf(device, sizeof device, "opencl:%d:%d", t->b->dev.platform_index, t->b->dev.device_index);
    defines[0] = '\0';
    if (values && ocl_tuned_format(*values, "-D", defines, sizeof defines) < 0)
        return clcnn_error(t->ctx, CLCNN_ERR_ARGUMENT, "clcnn_tune: the candidate's options are too long");
    int n = snprintf(options, sizeof options, "%s %s", cfg->build_options, defines);
    if (n < 0 || (size_t)n >= sizeof options)
        return clcnn_error(t->ctx, CLCNN_ERR_ARGUMENT, "clcnn_tune: the build options are too long to add to");
    clcnn_ctx_options o = {.device = device,
                           .allocator = t->ctx->allocator.alloc ? &t->ctx->allocator : NULL,
                           .ignore_environment = 1,
                           .kernel_dir = cfg->kernel_dir,
                           .cache_dir = cfg->cache_dir,
                           .cache = cfg->cache_dir[0] ? 1 : -1,
                           .build_options = options,
                           .conv_path = cfg->conv_path,
                           .dense_path = cfg->dense_path,
                           .col_limit = cfg->col_limit,
                           .max_work_group = cfg->max_work_group,
                           .max_local_mem = cfg->max_local_mem,
                           .max_alloc = cfg->max_alloc,
                           .tuned = -1};
    int st = clcnn_ctx_create_with_options(&c->ctx, &o);
    if (st)
        return st; /* the message is on c->ctx */
    if (t->o->model) {
        st = clcnn_model_load(c->ctx, &c->m, t->o->model);
    } else {
        st = clcnn_model_lenet5(c->ctx, &c->m);
        if (!st)
            st = clcnn_model_init(c->m, 1);
    }
    return st;
}

/* One step from the candidate's initial weights: the loss, then every
 * parameter gradient. */
static int first_step(tuner *t, candidate *c, step_result *out)
{
    float loss = 0.0f;
    int st = clcnn_model_train_step(c->m, t->images, t->labels, t->batch, &loss, NULL);
    if (st)
        return st;
    if (!(out->v[0] = malloc(sizeof(float))))
        return clcnn_error(c->ctx, CLCNN_ERR_NOMEM, "clcnn_tune: out of memory");
    out->v[0][0] = loss;
    out->n[0] = 1;
    out->count = 1;
    for (size_t i = 0; i < clcnn_model_layer_count(c->m); i++)
        for (int which = 0; which < 2; which++) {
            size_t n = clcnn_model_param_size(c->m, i, which);
            if (n == 0 || out->count == MAX_GRADS)
                continue;
            float *v = malloc(n * sizeof *v);
            if (!v)
                return clcnn_error(c->ctx, CLCNN_ERR_NOMEM, "clcnn_tune: out of memory");
            out->v[out->count] = v;
            out->n[out->count++] = n;
            if ((st = clcnn_model_read_grad(c->m, i, which, v, n)))
                return st;
        }
    return CLCNN_OK;
}

/* 1 when two steps agree (the device check's rule). */
static int same_step(const step_result *a, const step_result *b)
{
    if (a->count != b->count)
        return 0;
    for (int i = 0; i < a->count; i++) {
        double e = a->n[i] == b->n[i] ? clcnn_scaled_error(a->v[i], b->v[i], a->n[i]) : NAN;
        if (!(e <= CLCNN_CHECK_TOLERANCE))
            return 0;
    }
    return 1;
}

/* Opens candidate c with values and checks its first step against the
 * defaults'; on a failure it is closed with its verdict (not an error). */
static void prepare(tuner *t, const values_t *values, candidate *c)
{
    step_result s = {0};
    int st = open_candidate(t, values, c);
    if (st)
        c->verdict = "does not build";
    else if ((st = first_step(t, c, &s)))
        c->verdict = "does not run";
    else if (!same_step(&s, &t->ref_step))
        c->verdict = "wrong results";
    /* one more step, untimed: the first round starts warm */
    else if (clcnn_model_train_step(c->m, t->images, t->labels, t->batch, NULL, NULL) != CLCNN_OK)
        c->verdict = "does not run";
    step_free(&s);
    if (c->verdict) {
        t->report->rejected++;
        candidate_free(c);
    }
}

/* Training images/s of candidate c in round r. */
static int measure(tuner *t, candidate *c, int r)
{
    double t0 = now(), elapsed = 0.0;
    size_t steps = 0;
    int st = CLCNN_OK;
    while (!st && (steps < 3 || elapsed < t->seconds)) {
        st = clcnn_model_train_step(c->m, t->images, t->labels, t->batch, NULL, NULL);
        steps++;
        elapsed = now() - t0;
    }
    c->rates[r] = st ? 0.0 : (double)(steps * t->batch) / elapsed;
    return st;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const candidate *c, int rounds)
{
    double r[MAX_ROUNDS];
    memcpy(r, c->rates, (size_t)rounds * sizeof *r);
    qsort(r, (size_t)rounds, sizeof *r, cmp_double);
    return rounds % 2 ? r[rounds / 2] : 0.5 * (r[rounds / 2 - 1] + r[rounds / 2]);
}

/* Every candidate still in the running, in interleaved rounds. */
static void run_rounds(tuner *t, candidate *c, int n)
{
    for (int r = 0; r < t->rounds; r++)
        for (int i = 0; i < n; i++)
            if (c[i].ctx && measure(t, &c[i], r) != CLCNN_OK) {
                c[i].verdict = "does not run";
                t->report->rejected++;
                candidate_free(&c[i]);
            }
}

/* The values a tunable is tried at: work-group sizes 16..256 within the
 * device's limit, register blocks 1..16. */
static int candidate_values(const tuner *t, const ocl_tunable *tun, size_t *v)
{
    int n = 0;
    if (tun->wg_of != OCL_NO_KERNEL) {
        for (size_t w = 16; w <= 256 && w <= t->b->limits.work_group; w *= 2)
            v[n++] = w;
    } else {
        for (size_t k = 1; k <= 16; k *= 2)
            v[n++] = k;
    }
    return n;
}

static void progress(const tuner *t, const ocl_tunable *tun, size_t value, double rate, const char *verdict)
{
    if (t->o->progress)
        t->o->progress(t->o->user, tun->name, value, rate, verdict);
}

/* Tunes tunable ti of family fi, best holding every value so far. */
static void tune_one(tuner *t, int fi, int ti, values_t *best)
{
    const ocl_tunable *tun = &ocl_families[fi]->tunables[ti];
    size_t values[MAX_CANDIDATES - 1];
    int nv = candidate_values(t, tun, values), n = 0;
    candidate c[MAX_CANDIDATES];
    memset(c, 0, sizeof c);
    c[n].value = (*best)[fi][ti];
    prepare(t, best, &c[n++]);
    for (int i = 0; i < nv; i++) {
        if (values[i] == (*best)[fi][ti])
            continue;
        values_t v;
        memcpy(v, best, sizeof v);
        v[fi][ti] = values[i];
        c[n].value = values[i];
        prepare(t, (const values_t *)&v, &c[n]);
        t->report->measured++;
        if (c[n].verdict)
            progress(t, tun, c[n].value, 0.0, c[n].verdict);
        n++;
    }
    run_rounds(t, c, n);
    int winner = 0;
    double best_rate = c[0].ctx ? median(&c[0], t->rounds) : 0.0;
    for (int i = 1; i < n; i++)
        if (c[i].ctx && median(&c[i], t->rounds) > best_rate * KEEP_MARGIN) {
            winner = i;
            best_rate = median(&c[i], t->rounds);
        }
    for (int i = 0; i < n; i++) {
        if (c[i].ctx)
            progress(t, tun, c[i].value, median(&c[i], t->rounds),
                     i == winner ? (i == 0 ? "current" : "kept") : "slower");
        else if (i == 0)
            progress(t, tun, c[i].value, 0.0, c[i].verdict);
        candidate_free(&c[i]);
    }
    (*best)[fi][ti] = c[winner].value;
}

/* The workload's batch: images in [0, 1) and labels, from a fixed seed. */
static int make_batch(tuner *t)
{
    size_t shape[3];
    clcnn_model_input_shape(t->ref.m, shape);
    size_t in = shape[0] * shape[1] * shape[2], classes = clcnn_model_classes(t->ref.m);
    t->images = malloc(t->batch * in * sizeof *t->images);
    t->labels = malloc(t->batch * sizeof *t->labels);
    if (!t->images || !t->labels || classes == 0)
        return clcnn_error(t->ctx, CLCNN_ERR_NOMEM, "clcnn_tune: out of memory");
    uint64_t s = 1;
    for (size_t i = 0; i < t->batch * in; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        t->images[i] = (float)(s >> 40) / (float)(1u << 24);
    }
    for (size_t i = 0; i < t->batch; i++)
        t->labels[i] = (int32_t)(i % classes);
    return CLCNN_OK;
}

/* The message of a failed candidate context onto the caller's. */
static int pass_on(tuner *t, candidate *c, int st, const char *what)
{
    clcnn_error(t->ctx, st, "clcnn_tune: %s: %s", what, c->ctx ? clcnn_errmsg(c->ctx) : clcnn_status_str(st));
    return st;
}

int clcnn_tune(clcnn_ctx *ctx, const clcnn_tune_options *options, clcnn_tune_report *report)
{
    if (!ctx)
        return CLCNN_ERR_ARGUMENT;
    if (!report)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_tune: NULL report");
    memset(report, 0, sizeof *report);
    if (!ctx->ops || strcmp(ctx->ops->name, "opencl") != 0)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_tune: the context is not on an OpenCL device");
    clcnn_tune_options defaults = {0};
    tuner t = {.ctx = ctx, .b = ctx->bctx, .o = options ? options : &defaults, .report = report};
    if (t.b->dev.platform_index < 0)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT,
                           "clcnn_tune: the context is on an application's OpenCL objects; tune with a context "
                           "clcnn created on the same device");
    t.batch = t.o->batch ? t.o->batch : 32;
    t.rounds = t.o->rounds ? t.o->rounds : 3;
    t.seconds = t.o->seconds > 0.0 ? t.o->seconds : 0.25;
    if (t.rounds < 1 || t.rounds > MAX_ROUNDS || t.batch > 65536 || t.seconds > 60.0)
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT,
                           "clcnn_tune: rounds %d (1 to %d), batch %zu (1 to 65536), seconds %g (up to 60)", t.rounds,
                           MAX_ROUNDS, t.batch, t.seconds);
    char bad[64];
    if (t.o->only && unknown_name(t.o->only, bad, sizeof bad)) {
        char all[256] = "", *at = all;
        for (int f = 0; f < OCL_FAMILY_COUNT; f++)
            for (int k = 0; k < ocl_families[f]->tunable_count; k++)
                if (!ocl_families[f]->tunables[k].fixed && at < all + sizeof all - 1)
                    at += snprintf(at, (size_t)(all + sizeof all - at), "%s%s", at == all ? "" : ", ",
                                   ocl_families[f]->tunables[k].name);
        return clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_tune: '%s' is not a tunable (%s)", bad, all);
    }
    if (!t.o->dry_run && !ocl_cache_dir(&ctx->config))
        return clcnn_error(ctx, CLCNN_ERR_IO, "clcnn_tune: the program cache is off or its directory cannot be used, "
                                              "so the result could not be stored (or tune with dry_run)");

    /* The defaults as this device builds them: the reference and the start. */
    int st = open_candidate(&t, NULL, &t.ref);
    if (st) {
        pass_on(&t, &t.ref, st, "the default kernels");
        candidate_free(&t.ref);
        return st;
    }
    values_t start, best;
    memcpy(start, ((const ocl_backend *)t.ref.ctx->bctx)->tunables, sizeof start);
    if (!(st = make_batch(&t)) && (st = first_step(&t, &t.ref, &t.ref_step)))
        pass_on(&t, &t.ref, st, "a training step with the default kernels");
    memcpy(best, start, sizeof best);
    for (int f = 0; !st && f < OCL_FAMILY_COUNT; f++)
        for (int k = 0; k < ocl_families[f]->tunable_count; k++) {
            const ocl_tunable *tun = &ocl_families[f]->tunables[k];
            if (!tun->fixed && !names(ctx->config.build_options, tun->name) &&
                (!t.o->only || names(t.o->only, tun->name)))
                tune_one(&t, f, k, &best);
        }

    /* The defaults against the choice, side by side. */
    if (!st) {
        candidate c[2];
        memset(c, 0, sizeof c);
        prepare(&t, (const values_t *)&start, &c[0]);
        prepare(&t, (const values_t *)&best, &c[1]);
        if (!c[0].ctx || !c[1].ctx) {
            st = clcnn_error(ctx, CLCNN_ERR_OPENCL, "clcnn_tune: the final comparison could not be built");
        } else {
            run_rounds(&t, c, 2);
            report->default_rate = c[0].ctx ? median(&c[0], t.rounds) : 0.0;
            report->tuned_rate = c[1].ctx ? median(&c[1], t.rounds) : 0.0;
            if (report->tuned_rate <= report->default_rate) { /* lost side by side: noise chose it */
                memcpy(best, start, sizeof best);
                report->tuned_rate = report->default_rate;
            }
        }
        candidate_free(&c[0]);
        candidate_free(&c[1]);
    }
    if (!st && ocl_tuned_format(best, "-D", report->options, sizeof report->options) < 0)
        st = clcnn_error(ctx, CLCNN_ERR_ARGUMENT, "clcnn_tune: the tuned options are too long");
    if (!st && !t.o->dry_run) {
        char note[512];
        snprintf(note, sizeof note, "tuned for %s, batch %zu: %.0f images/s with the defaults, %.0f tuned",
                 t.o->model ? t.o->model : "LeNet-5", t.batch, report->default_rate, report->tuned_rate);
        st = ocl_tuned_write(t.b, (const size_t(*)[OCL_MAX_TUNABLES])best, note);
        report->stored = st == CLCNN_OK;
    }
    step_free(&t.ref_step);
    candidate_free(&t.ref);
    free(t.images);
    free(t.labels);
    return st;
}
