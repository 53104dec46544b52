/* clcnn tune: the fastest correct kernel tunables for an OpenCL device,
 * measured on a training workload and stored for later runs. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "common.h"

static const char usage_text[] =
    "usage: clcnn tune [--device D] [--model FILE] [--batch N] [--rounds N] [--seconds S]\n"
    "                  [--only NAME,...] [--dry-run]\n\n"
    "Measures each kernel tunable of the OpenCL device (work-group sizes, register\n"
    "blocks) at the shapes of a training workload, one at a time: every candidate\n"
    "value gets a context of its own, must reproduce the default kernels' training\n"
    "step (loss and gradients within 1e-4), and is kept when its training images/s\n"
    "beat the best so far by 3% (median of interleaved rounds).  The choice is\n"
    "stored in the program cache for this device, driver and kernel sources; every\n"
    "later run on the device uses it (CLCNN_TUNED=0 or the context option tuned = -1\n"
    "to ignore it; a -D of a tunable in CLCNN_BUILD_OPTIONS wins and is not tuned).\n\n"
    "  --device D    the OpenCL device (default: auto; see clcnn devices)\n"
    "  --model FILE  a model file whose layers set the shapes (default: LeNet-5)\n"
    "  --batch N     the training batch (default 32)\n"
    "  --rounds N    interleaved measuring rounds per candidate, 1 to 9 (default 3)\n"
    "  --seconds S   the least timed training per measurement (default 0.25)\n"
    "  --only NAMES  tune only these tunables (e.g. XENT_WG,COLSUM_WG); the others\n"
    "                keep their defaults\n"
    "  --dry-run     measure and report; store nothing\n";

static void on_candidate(void *user, const char *tunable, size_t value, double rate, const char *verdict)
{
    (void)user;
    if (rate > 0.0)
        printf("  %-11s %6zu  %9.0f images/s  %s\n", tunable, value, rate, verdict);
    else
        printf("  %-11s %6zu  %9s images/s  %s\n", tunable, value, "-", verdict);
    fflush(stdout);
}

int cmd_tune(int argc, char **argv)
{
    enum { O_DEVICE = 1, O_MODEL, O_BATCH, O_ROUNDS, O_SECONDS, O_ONLY, O_DRY, O_HELP };
    static const struct option longopts[] = {
        {"device", required_argument, 0, O_DEVICE}, {"model", required_argument, 0, O_MODEL},
        {"batch", required_argument, 0, O_BATCH},   {"rounds", required_argument, 0, O_ROUNDS},
        {"seconds", required_argument, 0, O_SECONDS}, {"only", required_argument, 0, O_ONLY},
        {"dry-run", no_argument, 0, O_DRY},
        {"help", no_argument, 0, O_HELP},           {0, 0, 0, 0},
    };
    const char *device = NULL;
    clcnn_tune_options o = {.progress = on_candidate};
    size_t n = 0;
    double s = 0.0;
    optind = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_DEVICE: device = optarg; break;
        case O_MODEL: o.model = optarg; break;
        case O_BATCH:
            if (cli_parse_size(optarg, 1, 65536, &o.batch))
                return cli_usage_error("tune", "--batch must be a whole number from 1 to 65536, not '%s'", optarg);
            break;
        case O_ROUNDS:
            if (cli_parse_size(optarg, 1, 9, &n))
                return cli_usage_error("tune", "--rounds must be a whole number from 1 to 9, not '%s'", optarg);
            o.rounds = (int)n;
            break;
        case O_SECONDS:
            if (cli_parse_float(optarg, 0.001, 60.0, &s))
                return cli_usage_error("tune", "--seconds must be a number from 0.001 to 60, not '%s'", optarg);
            o.seconds = s;
            break;
        case O_ONLY: o.only = optarg; break;
        case O_DRY: o.dry_run = 1; break;
        case O_HELP: fputs(usage_text, stdout); return 0;
        default: return cli_usage_error("tune", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("tune", "unexpected argument '%s'", argv[optind]);

    clcnn_ctx *ctx = cli_open_ctx(device ? device : "opencl");
    if (!ctx)
        return 1;
    printf("tuning %s for %s, batch %zu\n", clcnn_ctx_device_name(ctx), o.model ? o.model : "LeNet-5 training",
           o.batch ? o.batch : 32);
    fflush(stdout);
    clcnn_tune_report r;
    int rc = 0;
    if (clcnn_tune(ctx, &o, &r) != CLCNN_OK) {
        rc = cli_fail("%s", clcnn_errmsg(ctx));
    } else {
        printf("chosen: %s\n", r.options);
        printf("training: %.0f images/s with the defaults, %.0f tuned (%.2fx); %u candidates measured, %u "
               "rejected\n",
               r.default_rate, r.tuned_rate, r.default_rate > 0.0 ? r.tuned_rate / r.default_rate : 0.0, r.measured,
               r.rejected);
        printf(r.stored ? "stored in the program cache: later runs on this device use it\n"
                        : "not stored (--dry-run)\n");
    }
    clcnn_ctx_free(ctx);
    return rc;
}
