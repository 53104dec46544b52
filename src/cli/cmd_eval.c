/* clcnn eval: loss and accuracy of a saved model, and its report per class. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "common.h"
#include "model_file.h"
#include "eval_report.h"

static const char usage_text[] =
    "usage: clcnn eval --model FILE [OPTIONS]\n"
    "Prints the loss and accuracy of a saved model on a data set, then per class its\n"
    "precision, recall and F1 (with macro averages) and the confusion matrix.\n\n"
    "  --model FILE        the model (from clcnn train --save, or an .onnx)\n"
    "  --data PATH         IDX directory or .npz (default " CLI_DEFAULT_DATA ")\n"
    "  --split NAME        test, valid or train (default: test, else valid, else train)\n"
    "  --batch-size N      examples per batch (default 64)\n"
    "  --report FILE.csv   also write the per-class figures and the matrix as CSV\n"
    "  --errors N          list the N most confident mistakes\n"
    "  --device D          auto, cpu, opencl or opencl:P:D (default auto)\n"
    "  --help              show this help\n";

int cmd_eval(int argc, char **argv)
{
    enum { O_MODEL = 1, O_DATA, O_SPLIT, O_BATCH, O_DEVICE, O_REPORT, O_ERRORS, O_HELP };
    static const struct option longopts[] = {
        {"model", required_argument, 0, O_MODEL}, {"data", required_argument, 0, O_DATA},
        {"split", required_argument, 0, O_SPLIT}, {"batch-size", required_argument, 0, O_BATCH},
        {"device", required_argument, 0, O_DEVICE}, {"report", required_argument, 0, O_REPORT},
        {"errors", required_argument, 0, O_ERRORS}, {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    const char *model_path = NULL, *data = NULL, *split = NULL, *device = NULL, *report_path = NULL;
    size_t batch = 64, errors = 0;
    opterr = 0;
    optind = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_MODEL: model_path = optarg; break;
        case O_DATA: data = optarg; break;
        case O_DEVICE: device = optarg; break;
        case O_SPLIT:
            if (strcmp(optarg, "test") && strcmp(optarg, "valid") && strcmp(optarg, "train"))
                return cli_usage_error("eval", "--split wants test, valid or train, not '%s'", optarg);
            split = optarg;
            break;
        case O_BATCH:
            if (cli_parse_size(optarg, 1, 1 << 20, &batch))
                return cli_usage_error("eval", "--batch-size wants a whole number from 1, not '%s'", optarg);
            break;
        case O_REPORT: report_path = optarg; break;
        case O_ERRORS:
            if (cli_parse_size(optarg, 0, (size_t)-1, &errors))
                return cli_usage_error("eval", "--errors wants a whole number, not '%s'", optarg);
            break;
        case O_HELP: fputs(usage_text, stdout); return 0;
        default: return cli_usage_error("eval", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("eval", "unexpected argument '%s'", argv[optind]);
    if (!model_path)
        return cli_usage_error("eval", "--model FILE is required");

    clcnn_ctx *ctx = cli_open_ctx(device);
    if (!ctx)
        return 1;
    clcnn_model *model = NULL;
    clcnn_dataset *train = NULL, *valid = NULL, *test = NULL;
    cli_atomic_file csv = {0};
    eval_report report = {0};
    int rc = 1;
    if (cli_load_classifier(ctx, &model, model_path) != CLCNN_OK) {
        cli_fail("%s", clcnn_errmsg(ctx));
        goto done;
    }
    if (cli_load_data(ctx, data, &train, &valid, &test))
        goto done;
    clcnn_dataset *ds = test ? test : valid ? valid : train;
    const char *name = test ? "test" : valid ? "valid" : "train";
    if (split) {
        name = split;
        ds = strcmp(split, "test") == 0 ? test : strcmp(split, "valid") == 0 ? valid : train;
        if (!ds) {
            cli_fail("the data has no %s split", split);
            goto done;
        }
    }
    /* An unwritable --report fails now, before the evaluation's work. */
    if (report_path && cli_atomic_open(&csv, report_path))
        goto done;
    double loss, acc;
    if (clcnn_model_evaluate(model, ds, batch, &loss, &acc) != CLCNN_OK) {
        cli_fail("%s", clcnn_errmsg(ctx));
        goto done;
    }
    printf("%s: loss %.4f accuracy %.4f (%zu images)\n", name, loss, acc, clcnn_dataset_count(ds));
    if (eval_report_collect(ctx, model, ds, batch, &report))
        goto done;
    eval_report_print(stdout, model, &report, errors);
    if (report_path) {
        eval_report_write_csv(csv.f, model, &report);
        if (cli_atomic_commit(&csv))
            goto done;
    }
    rc = 0;
done:
    cli_atomic_discard(&csv);
    eval_report_free(&report);
    clcnn_dataset_free(train);
    clcnn_dataset_free(valid);
    clcnn_dataset_free(test);
    clcnn_model_free(model);
    clcnn_ctx_free(ctx);
    return rc;
}
