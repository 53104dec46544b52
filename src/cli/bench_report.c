/* clcnn bench's output: the table on stdout and the JSON file. */
#include <math.h>
#include <stdio.h>

#include "bench.h"
#include "clcnn.h"
#include "common.h"

/* One figure of a result; layer is the row's layer (ignored by the
 * figures that are not per layer). */
typedef double (*figure_fn)(const bench_result *r, int layer);

static double get_fwd(const bench_result *r, int l) { return l < r->nlayers ? r->layers[l].fwd_ms : NAN; }
static double get_bwd(const bench_result *r, int l) { return l < r->nlayers ? r->layers[l].bwd_ms : NAN; }
/* GFLOP/s of a layer's pass, NAN where it does no multiply-adds. */
static double gflops(double flop, double ms) { return flop > 0 ? flop / (ms * 1e6) : NAN; }
static double get_fwd_gf(const bench_result *r, int l)
{
    return l < r->nlayers ? gflops(r->layers[l].fwd_flop, r->layers[l].fwd_ms) : NAN;
}
static double get_bwd_gf(const bench_result *r, int l)
{
    return l < r->nlayers ? gflops(r->layers[l].bwd_flop, r->layers[l].bwd_ms) : NAN;
}
static double get_sum(const bench_result *r, int l)
{
    double s = 0;
    for (l = 0; l < r->nlayers; l++)
        s += r->layers[l].fwd_ms + r->layers[l].bwd_ms;
    return s;
}
/* The figures that are not per layer. */
#define FIGURE(name, expr)                                                                                             \
    static double name(const bench_result *r, int l)                                                                   \
    {                                                                                                                  \
        (void)l;                                                                                                       \
        return expr;                                                                                                   \
    }
FIGURE(get_step32, 1e3 * (double)bench_train_batch[0] / r->train_ips[0])
FIGURE(get_ips32, r->train_ips[0])
FIGURE(get_ips256, r->train_ips[1])
FIGURE(get_first, r->first_step_ms)
FIGURE(get_lat, r->latency_us)
FIGURE(get_lat90, r->latency_p90_us)
FIGURE(get_infer, r->infer_ips)
FIGURE(get_cold, r->startup_cold_ms)
FIGURE(get_warm, r->startup_warm_ms)
FIGURE(get_rss, r->maxrss_kib / 1024.0)
/* Negative: the backend counts nothing (the CPU backend). */
FIGURE(get_lsteps, r->launches_step < 0 ? NAN : r->launches_step)
FIGURE(get_wsteps, r->waits_step < 0 ? NAN : r->waits_step)
FIGURE(get_lpred, r->launches_predict < 0 ? NAN : r->launches_predict)
FIGURE(get_wpred, r->waits_predict < 0 ? NAN : r->waits_predict)

static void print_row(const char *label, const bench_result *rs, int n, figure_fn get, int layer, const char *fmt)
{
    printf("%-38s", label);
    for (int i = 0; i < n; i++) {
        char cell[32];
        double v = get(&rs[i], layer);
        if (isfinite(v))
            snprintf(cell, sizeof cell, fmt, v);
        else
            snprintf(cell, sizeof cell, "-");
        printf(" %16s", cell);
    }
    putchar('\n');
}

void bench_print_table(const bench_config *cfg, const bench_result *rs, int n)
{
    const bench_result *first = &rs[0]; /* every backend runs the same model */
    printf("clcnn bench: %s, synthetic data, medians of %zu repeats after warm-up\n", cfg->model, cfg->repeats);
    for (int i = 0; i < n; i++)
        printf("  %s: %s\n", rs[i].backend, rs[i].device);
    printf("\n%-38s", "");
    for (int i = 0; i < n; i++)
        printf(" %16s", rs[i].backend);
    printf("\nlayer times at batch %d (ms)\n", BENCH_LAYER_BATCH);
    for (int l = 0; l < first->nlayers; l++) {
        const bench_layer *bl = &first->layers[l];
        char label[80];
        snprintf(label, sizeof label, "  %-6s forward%s", bl->name, bl->logits ? " (logits)" : "");
        print_row(label, rs, n, get_fwd, l, "%.3f");
        snprintf(label, sizeof label, "  %-6s backward%s", bl->name, bl->no_dx ? " (no dA_prev)" : "");
        print_row(label, rs, n, get_bwd, l, "%.3f");
    }
    print_row("  sum of the layers above", rs, n, get_sum, 0, "%.3f");
    printf("layer arithmetic at batch %d (GFLOP/s: 2 x multiply-adds / time)\n", BENCH_LAYER_BATCH);
    for (int l = 0; l < first->nlayers; l++) {
        const bench_layer *bl = &first->layers[l];
        if (!(bl->fwd_flop > 0))
            continue;
        char label[80];
        snprintf(label, sizeof label, "  %-6s forward", bl->name);
        print_row(label, rs, n, get_fwd_gf, l, "%.2f");
        snprintf(label, sizeof label, "  %-6s backward", bl->name);
        print_row(label, rs, n, get_bwd_gf, l, "%.2f");
    }
    print_row("training step, batch 32 (ms)", rs, n, get_step32, 0, "%.3f");
    print_row("training, batch 32 (images/s)", rs, n, get_ips32, 0, "%.0f");
    print_row("training, batch 256 (images/s)", rs, n, get_ips256, 0, "%.0f");
    print_row("first training step (ms)", rs, n, get_first, 0, "%.1f");
    print_row("inference latency, batch 1 (us)", rs, n, get_lat, 0, "%.1f");
    print_row("  90th percentile (us)", rs, n, get_lat90, 0, "%.1f");
    print_row("inference, batch 256 (images/s)", rs, n, get_infer, 0, "%.0f");
    print_row("context creation, cold cache (ms)", rs, n, get_cold, 0, "%.1f");
    print_row("context creation, warm cache (ms)", rs, n, get_warm, 0, "%.1f");
    print_row("peak RSS of the bench process (MiB)", rs, n, get_rss, 0, "%.1f");
    print_row("kernel launches per training step", rs, n, get_lsteps, 0, "%.2f");
    print_row("host waits per training step", rs, n, get_wsteps, 0, "%.3f");
    print_row("kernel launches per batch-1 predict", rs, n, get_lpred, 0, "%.0f");
    print_row("host waits per batch-1 predict", rs, n, get_wpred, 0, "%.0f");
    printf("\nlayers (clcnn_model_layer_describe; timed through the public operations with the model's weights):\n");
    for (int l = 0; l < first->nlayers; l++)
        printf("  %-6s %-9s %s\n", first->layers[l].name, first->layers[l].input, first->layers[l].what);
    printf("arithmetic: a multiply-add counts 2, every tap of a window counts (padding too); bench/fma_peak\n"
           "measures this machine's FP32 peak to compare with.\n");
    printf("training: %zu synthetic images per epoch (clcnn_model_train_epoch); peak RSS: ru_maxrss of the\n"
           "process that ran all of the above for that backend.  Launches and waits per step: one epoch at\n"
           "batch %d (clcnn_ctx_counters; its closing read of the loss sums shared among the steps).\n",
           cfg->images, BENCH_LAYER_BATCH);
}

void bench_print_scaling(const bench_config *cfg, const bench_result *rs, int n)
{
    printf("clcnn bench --scaling: %s, synthetic data (%zu images), images/s, medians of %zu repeats after "
           "warm-up\n",
           cfg->model, cfg->images, cfg->repeats);
    for (int i = 0; i < n; i++)
        printf("  %s: %s\n", rs[i].backend, rs[i].device);
    printf("\n%-8s", "batch");
    for (int i = 0; i < n; i++)
        printf(" %14s %14s", "train", "infer");
    printf("\n%-8s", "");
    for (int i = 0; i < n; i++)
        printf(" %29s", rs[i].backend);
    putchar('\n');
    for (int b = 0; b < BENCH_SCALING_BATCHES; b++) {
        printf("%-8zu", bench_scaling_batch[b]);
        for (int i = 0; i < n; i++)
            printf(" %14.0f %14.0f", rs[i].scale_train_ips[b], rs[i].scale_infer_ips[b]);
        putchar('\n');
    }
    printf("\ntrain: clcnn_model_train_epoch over the set at that batch size; infer: clcnn_model_predict on that\n"
           "many images at a time, as many calls as cover the set.\n");
}

static void json_num(FILE *f, const char *key, double v, int comma)
{
    if (isfinite(v))
        fprintf(f, "\"%s\": %.6g%s", key, v, comma ? ", " : "");
    else
        fprintf(f, "\"%s\": null%s", key, comma ? ", " : "");
}

/* A JSON string; runs of spaces (the table alignment of layer
 * descriptions) become one. */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == ' ' && p > s && p[-1] == ' ')
            continue;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

int bench_write_json(FILE *f, const char *path, const bench_config *cfg, const bench_result *rs, int n)
{
    fprintf(f, "{\n  \"clcnn_version\": \"%s\", \"model\": ", clcnn_version());
    json_str(f, cfg->model);
    fprintf(f, ", \"data\": \"synthetic\",\n");
    fprintf(f, "  \"repeats\": %zu, \"train_images\": %zu, \"layer_batch\": %d, \"latency_calls\": %zu,\n",
            cfg->repeats, cfg->images, BENCH_LAYER_BATCH, cfg->latency_calls);
    fprintf(f, "  \"backends\": [\n");
    for (int i = 0; i < n; i++) {
        const bench_result *r = &rs[i];
        fprintf(f, "    {\"backend\": ");
        json_str(f, r->backend);
        fprintf(f, ", \"device\": ");
        json_str(f, r->device);
        fprintf(f, ",\n     \"layers\": [\n");
        for (int l = 0; l < r->nlayers; l++) {
            fprintf(f, "       {\"name\": ");
            json_str(f, r->layers[l].name);
            fprintf(f, ", \"input\": ");
            json_str(f, r->layers[l].input);
            fprintf(f, ", \"what\": ");
            json_str(f, r->layers[l].what);
            fprintf(f, ", ");
            json_num(f, "forward_ms", r->layers[l].fwd_ms, 1);
            json_num(f, "backward_ms", r->layers[l].bwd_ms, 1);
            json_num(f, "forward_flop", r->layers[l].fwd_flop, 1);
            json_num(f, "backward_flop", r->layers[l].bwd_flop, 0);
            fprintf(f, "}%s\n", l + 1 < r->nlayers ? "," : "");
        }
        fprintf(f, "     ],\n     ");
        json_num(f, "layers_sum_ms", get_sum(r, 0), 1);
        json_num(f, "train_step_ms_batch32", get_step32(r, 0), 1);
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
        fprintf(f, "\n     ");
        json_num(f, "launches_per_step", get_lsteps(r, 0), 1);
        json_num(f, "waits_per_step", get_wsteps(r, 0), 1);
        json_num(f, "launches_per_predict", get_lpred(r, 0), 1);
        json_num(f, "waits_per_predict", get_wpred(r, 0), 1);
        if (cfg->scaling) {
            fprintf(f, "\n     \"scaling\": [");
            for (int b = 0; b < BENCH_SCALING_BATCHES; b++) {
                fprintf(f, "{\"batch\": %zu, ", bench_scaling_batch[b]);
                json_num(f, "train_images_per_s", r->scale_train_ips[b], 1);
                json_num(f, "infer_images_per_s", r->scale_infer_ips[b], 0);
                fprintf(f, "}%s", b + 1 < BENCH_SCALING_BATCHES ? ", " : "],\n     ");
            }
        }
        fprintf(f, "\"peak_rss_kib\": %ld}%s\n", r->maxrss_kib, i + 1 < n ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
    if (ferror(f) | fclose(f))
        return cli_fail("%s: write failed", path);
    return 0;
}
