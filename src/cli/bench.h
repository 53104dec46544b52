/*
 * clcnn bench: what its parts share.  cmd_bench.c reads the options and
 * runs the benchmark; bench_child.c runs each measurement in a child
 * process; bench_measure.c measures, inside that child; bench_report.c
 * prints the table and writes the JSON.
 */
#ifndef CLCNN_CLI_BENCH_H
#define CLCNN_CLI_BENCH_H

#include <stddef.h>
#include <stdio.h>
#include <sys/resource.h>

#define BENCH_MAX_DEVICES 4
#define BENCH_MAX_LAYERS 24 /* timed layers (conv, pool, lrn, dropout, dense) of the model */
#define BENCH_LAYER_BATCH 32
#define BENCH_INFER_BATCH 256
#define BENCH_TRAIN_BATCHES 2

/* The training batch sizes timed, in the order of bench_result.train_ips. */
extern const size_t bench_train_batch[BENCH_TRAIN_BATCHES];

/* --scaling: the batch sizes of its table. */
#define BENCH_SCALING_BATCHES 6
extern const size_t bench_scaling_batch[BENCH_SCALING_BATCHES];

typedef struct bench_config {
    const char *devices[BENCH_MAX_DEVICES];
    int ndevices;
    int optional[BENCH_MAX_DEVICES]; /* skip, rather than fail, when unavailable */
    size_t repeats, images, latency_calls;
    const char *json;
    int scaling; /* --scaling: only the training and inference rates per batch size */
    const char *model; /* --model SPEC: the network timed (clcnn_model_from_spec; "lenet5") */
} bench_config;

/* What a child sends back: a plain struct through a pipe. */
enum { BENCH_OK = 0, BENCH_FAILED = 1, BENCH_UNAVAILABLE = 3 };

typedef struct bench_layer {
    char name[16];  /* "conv1", "pool2", ... */
    char what[128]; /* the model's own description of the layer */
    char input[48]; /* its input per example, "28x28x1" */
    int no_dx;      /* a first layer: backward computes no input gradient */
    int logits;     /* the last layer: forward stops at the logits, as in training */
    double fwd_ms, bwd_ms;
    /* Floating-point operations at BENCH_LAYER_BATCH (a multiply-add is 2),
     * forward and backward; 0 for layers without multiply-adds. */
    double fwd_flop, bwd_flop;
} bench_layer;

typedef struct bench_result {
    int status;
    char backend[16];
    char device[256];
    char error[512];
    int nlayers;
    bench_layer layers[BENCH_MAX_LAYERS];
    double first_step_ms;
    double train_ips[BENCH_TRAIN_BATCHES];
    double latency_us, latency_p90_us;
    double infer_ips;
    /* filled by the parent */
    double startup_cold_ms, startup_warm_ms;
    long maxrss_kib;
    /* clcnn_ctx_counters per training step (batch 32, within an epoch) and
     * per batch-1 prediction; negative where the backend counts nothing. */
    double launches_step, waits_step, launches_predict, waits_predict;
    /* --scaling: images/s at each of bench_scaling_batch. */
    double scale_train_ips[BENCH_SCALING_BATCHES], scale_infer_ips[BENCH_SCALING_BATCHES];
} bench_result;

/* bench_measure.c */

/* Every figure but start-up and memory for one device (in the child);
 * r->status says how it went, r->error why not. */
void bench_run_backend(const char *device, const bench_config *cfg, bench_result *r);
/* Seconds one context creation on device takes (with the log off), or a
 * negative number with the reason in why. */
double bench_time_ctx_create(const char *device, char *why, size_t why_len);
/* The median and the p-quantile (0 < p <= 1) of v[0..n) (they sort v). */
double bench_median(double *v, size_t n);
double bench_percentile(double *v, size_t n, double p);

/* bench_child.c (each returns 0, or -1 with the reason in why) */

/* bench_run_backend in a child process; ru receives its resource usage. */
int bench_backend_in_child(const char *device, const bench_config *cfg, bench_result *r, struct rusage *ru,
                           char *why, size_t why_len);
/* Median cold and warm context creation over cfg->repeats pairs of fresh
 * processes, each pair with a new, empty kernel cache. */
int bench_startup(const char *device, const bench_config *cfg, bench_result *r, char *why, size_t why_len);

/* bench_report.c */

void bench_print_table(const bench_config *cfg, const bench_result *rs, int n);
/* The --scaling table. */
void bench_print_scaling(const bench_config *cfg, const bench_result *rs, int n);
/* Writes to f (opened before the run, so that a bad path fails at once)
 * and closes it; returns non-zero (with the error printed) on failure. */
int bench_write_json(FILE *f, const char *path, const bench_config *cfg, const bench_result *rs, int n);

#endif
