/*
 * clcnn bench: per-layer times, training throughput, inference latency and
 * throughput, peak memory and start-up time of LeNet-5, per backend.  This
 * file reads the options and runs each device through bench_child.c (which
 * measures with bench_measure.c in a child process) and bench_report.c.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "cli.h"
#include "common.h"

static const char usage_text[] =
    "usage: clcnn bench [OPTIONS]\n"
    "Times a network (LeNet-5 unless --model) on synthetic data: every layer forward\n"
    "and backward at batch 32,\n"
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
    "  --scaling           only training and inference images/s at batch 1, 8,\n"
    "                      32, 128, 512 and 2048 (the set: at least 4096 images)\n"
    "  --model SPEC        the network: lenet5 (default), alexnet-mini or a spec\n"
    "                      file (docs/spec-format.md)\n"
    "  --json FILE         also write the figures as JSON to FILE\n"
    "  --help              show this help\n";

/* Returns -1 to go on, else the exit status. */
static int parse(int argc, char **argv, bench_config *cfg)
{
    enum { O_DEVICE = 1, O_ALL, O_REPEATS, O_IMAGES, O_QUICK, O_JSON, O_HELP, O_SCALING, O_MODEL };
    static const struct option longopts[] = {
        {"device", required_argument, 0, O_DEVICE}, {"all", no_argument, 0, O_ALL},
        {"repeats", required_argument, 0, O_REPEATS}, {"images", required_argument, 0, O_IMAGES},
        {"quick", no_argument, 0, O_QUICK},         {"json", required_argument, 0, O_JSON},
        {"help", no_argument, 0, O_HELP},           {"scaling", no_argument, 0, O_SCALING},
        {"model", required_argument, 0, O_MODEL},
        {0, 0, 0, 0},
    };
    int all = 0, quick = 0, repeats_set = 0, images_set = 0;
    *cfg = (bench_config){.repeats = 5, .images = 4096, .latency_calls = 200, .model = "lenet5"};
    opterr = 0;
    optind = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_DEVICE:
            if (cfg->ndevices == BENCH_MAX_DEVICES)
                return cli_usage_error("bench", "--device may be given at most %d times", BENCH_MAX_DEVICES);
            cfg->devices[cfg->ndevices++] = optarg;
            break;
        case O_ALL: all = 1; break;
        case O_QUICK: quick = 1; break;
        case O_JSON: cfg->json = optarg; break;
        case O_SCALING: cfg->scaling = 1; break;
        case O_MODEL: cfg->model = optarg; break;
        case O_REPEATS:
            if (cli_parse_size(optarg, 1, 1000, &cfg->repeats))
                return cli_usage_error("bench", "--repeats wants a whole number from 1 to 1000, not '%s'", optarg);
            repeats_set = 1;
            break;
        case O_IMAGES:
            if (cli_parse_size(optarg, BENCH_INFER_BATCH, 1 << 22, &cfg->images))
                return cli_usage_error("bench", "--images wants a whole number from %d to 4194304, not '%s'",
                                       BENCH_INFER_BATCH, optarg);
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
    if (quick) {
        if (!repeats_set)
            cfg->repeats = 3;
        if (!images_set)
            cfg->images = 1024;
        cfg->latency_calls = 50;
    }
    /* --scaling's largest batch takes 2048 images per step: two steps at least. */
    if (cfg->scaling && cfg->images < 2 * bench_scaling_batch[BENCH_SCALING_BATCHES - 1])
        cfg->images = 2 * bench_scaling_batch[BENCH_SCALING_BATCHES - 1];
    if (cfg->ndevices == 0) {
        cfg->devices[0] = "cpu";
        cfg->devices[1] = "opencl";
        cfg->optional[1] = 1;
        cfg->ndevices = 2;
    }
    return -1;
}

/* Every figure NaN ("-" in the table) until measured. */
static void result_init(bench_result *r)
{
    memset(r, 0, sizeof *r);
    r->status = BENCH_FAILED;
    r->first_step_ms = r->latency_us = r->latency_p90_us = r->infer_ips = NAN;
    r->startup_cold_ms = r->startup_warm_ms = NAN;
    r->launches_step = r->waits_step = r->launches_predict = r->waits_predict = -1.0;
    for (int b = 0; b < BENCH_TRAIN_BATCHES; b++)
        r->train_ips[b] = NAN;
    for (int b = 0; b < BENCH_SCALING_BATCHES; b++)
        r->scale_train_ips[b] = r->scale_infer_ips[b] = NAN;
    for (int l = 0; l < BENCH_MAX_LAYERS; l++)
        r->layers[l].fwd_ms = r->layers[l].bwd_ms = NAN;
}

int cmd_bench(int argc, char **argv)
{
    bench_config cfg;
    int rc = parse(argc, argv, &cfg);
    if (rc >= 0)
        return rc;
    FILE *json = NULL;
    if (cfg.json && !(json = fopen(cfg.json, "w")))
        return cli_fail("%s: cannot write: %s", cfg.json, strerror(errno));
    bench_result rs[BENCH_MAX_DEVICES];
    int n = 0;
    rc = 0;
    for (int i = 0; i < cfg.ndevices; i++) {
        const char *dev = cfg.devices[i];
        bench_result *r = &rs[n];
        result_init(r);
        struct rusage ru;
        char why[512];
        if (bench_backend_in_child(dev, &cfg, r, &ru, why, sizeof why)) {
            rc = cli_fail("bench on %s: %s", dev, why);
            continue;
        }
        if (r->status == BENCH_UNAVAILABLE && cfg.optional[i]) {
            fprintf(stderr, "clcnn bench: %s is not available, skipped (%s)\n", dev, r->error);
            continue;
        }
        if (r->status != BENCH_OK) {
            rc = cli_fail("bench on %s: %s", dev, r->error);
            continue;
        }
        r->maxrss_kib = ru.ru_maxrss;
        if (cfg.scaling) {
            n++;
            continue;
        }
        fprintf(stderr, "clcnn bench: %s: context start-up\n", r->backend);
        if (bench_startup(dev, &cfg, r, why, sizeof why)) {
            rc = cli_fail("bench on %s: start-up: %s", dev, why);
            continue;
        }
        n++;
    }
    if (n > 0 && cfg.scaling)
        bench_print_scaling(&cfg, rs, n);
    else if (n > 0)
        bench_print_table(&cfg, rs, n);
    if (json) {
        if (n > 0) {
            if (bench_write_json(json, cfg.json, &cfg, rs, n))
                rc = 1;
        } else {
            fclose(json);
            remove(cfg.json);
        }
    }
    return rc;
}
