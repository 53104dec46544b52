/* clcnn info (or summary): a saved model's layer table, as Keras's
 * model.summary() prints it, and what its file holds besides. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "common.h"

static const char usage_text[] =
    "usage: clcnn info [--json] MODEL   (or clcnn summary; MODEL may be given as --model FILE)\n"
    "Prints a model's or checkpoint's layers (output shapes, parameters and their totals),\n"
    "its input shape, classes and class names, its file format version and, for a\n"
    "checkpoint, the training state.\n\n"
    "  --json              the same as one JSON object, for programs\n"
    "  --help              show this help\n";

/* A layer's kind as clcnn names it and as Keras would call its class. */
static size_t layer_params(const clcnn_model *m, size_t i)
{
    return clcnn_model_param_size(m, i, 0) + clcnn_model_param_size(m, i, 1);
}

/* n with thousands separators, as Keras prints parameter counts. */
static const char *grouped(size_t n, char *buf, size_t len)
{
    char digits[32];
    int nd = snprintf(digits, sizeof digits, "%zu", n), o = 0;
    for (int i = 0; i < nd && (size_t)o + 2 < len; i++) {
        if (i > 0 && (nd - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

/* "(None, 28, 28, 6)", or "(None, 400)" for a flat shape. */
static const char *shape_text(const size_t *s, char *buf, size_t len)
{
    if (s[0] == 1 && s[1] == 1)
        snprintf(buf, len, "(None, %zu)", s[2]);
    else
        snprintf(buf, len, "(None, %zu, %zu, %zu)", s[0], s[1], s[2]);
    return buf;
}

/* Layers are named as Keras names them, by kind and a count per kind:
 * conv_1, conv_2, ...  Reads layer i into *c; *ordinal is its number among
 * the layers of its kind so far (counts: one per kind, 64 kinds). */
static int numbered_layer(const clcnn_model *m, size_t i, size_t counts[64], clcnn_layer_config *c, size_t *ordinal)
{
    if (clcnn_model_layer_config(m, i, c) != CLCNN_OK)
        return -1;
    *ordinal = ++counts[(size_t)c->kind % 64];
    return 0;
}

static void print_text(const char *path, const clcnn_model *m, const clcnn_model_file_info *info)
{
    static const char rule[] = "_________________________________________________________________\n";
    static const char double_rule[] = "=================================================================\n";
    size_t in[3], total = clcnn_model_param_count(m), counts[64] = {0}, ordinal;
    char name[64], shape[64], num[32];
    clcnn_model_input_shape(m, in);
    printf("Model: \"%s\" (format version %u, %s)\n", path, info->version, info->checkpoint ? "checkpoint" : "model");
    printf("Input shape: (None, %zu, %zu, %zu)\n%s", in[0], in[1], in[2], rule);
    printf(" %-28s %-25s %s\n%s", "Layer (type)", "Output Shape", "Param #", double_rule);
    for (size_t i = 0; i < clcnn_model_layer_count(m); i++) {
        clcnn_layer_config c;
        if (numbered_layer(m, i, counts, &c, &ordinal))
            continue;
        snprintf(name, sizeof name, "%s_%zu (%s)", c.name, ordinal, c.type);
        printf(" %-28s %-25s %s\n", name, shape_text(c.out_shape, shape, sizeof shape),
               grouped(layer_params(m, i), num, sizeof num));
    }
    printf("%sTotal params: %s\n", double_rule, grouped(total, num, sizeof num));
    printf("Trainable params: %s\nNon-trainable params: 0\n%s", num, rule);
    printf("Classes: %zu\n", clcnn_model_classes(m));
    for (size_t k = 0; clcnn_model_class_name(m, k); k++)
        printf("  %3zu  %s\n", k, clcnn_model_class_name(m, k));
    if (!info->checkpoint)
        return;
    const clcnn_train_state *s = &info->state;
    float lr, b1, b2, eps;
    clcnn_model_get_adam(m, &lr, &b1, &b2, &eps);
    printf("Training state: epoch %u, %llu of %llu examples done", s->epoch, (unsigned long long)s->done,
           (unsigned long long)s->data_count);
    if (s->done)
        printf(" (loss %.4f, accuracy %.4f so far)", s->loss_sum / (double)s->done, s->correct / (double)s->done);
    printf("\n  step %llu, seed %llu, batch size %u\n", (unsigned long long)s->step, (unsigned long long)s->seed,
           s->batch_size);
    float mom, wd;
    int nesterov;
    if (strcmp(clcnn_model_optimizer(m), "sgd") == 0 && clcnn_model_get_sgd(m, &lr, &mom, &wd, &nesterov) == 0)
        printf("  SGD: lr %g, momentum %g, weight decay %g%s\n", (double)lr, (double)mom, (double)wd,
               nesterov ? ", Nesterov" : "");
    else
        printf("  Adam: lr %g, beta1 %g, beta2 %g, epsilon %g\n", (double)lr, (double)b1, (double)b2, (double)eps);
}

static void print_json(const char *path, const clcnn_model *m, const clcnn_model_file_info *info)
{
    size_t in[3], counts[64] = {0}, ordinal;
    clcnn_model_input_shape(m, in);
    printf("{\"path\": ");
    cli_json_string(stdout, path);
    printf(", \"format_version\": %u, \"file\": \"%s\", \"input_shape\": [%zu, %zu, %zu], \"layers\": [", info->version,
           info->checkpoint ? "checkpoint" : "model", in[0], in[1], in[2]);
    for (size_t i = 0; i < clcnn_model_layer_count(m); i++) {
        clcnn_layer_config c;
        if (numbered_layer(m, i, counts, &c, &ordinal))
            continue;
        printf("%s\n  {\"name\": \"%s_%zu\", \"kind\": \"%s\", \"type\": \"%s\", \"output_shape\": [%zu, %zu, %zu], "
               "\"params\": %zu}",
               i ? "," : "", c.name, ordinal, c.name, c.type, c.out_shape[0], c.out_shape[1], c.out_shape[2],
               layer_params(m, i));
    }
    size_t total = clcnn_model_param_count(m);
    printf("],\n \"total_params\": %zu, \"trainable_params\": %zu, \"non_trainable_params\": 0, \"classes\": %zu",
           total, total, clcnn_model_classes(m));
    printf(",\n \"class_names\": ");
    if (!clcnn_model_class_name(m, 0))
        printf("null");
    for (size_t k = 0; clcnn_model_class_name(m, k); k++) {
        printf(k ? ", " : "[");
        cli_json_string(stdout, clcnn_model_class_name(m, k));
        if (!clcnn_model_class_name(m, k + 1))
            printf("]");
    }
    if (info->checkpoint) {
        const clcnn_train_state *s = &info->state;
        printf(",\n \"training_state\": {\"epoch\": %u, \"examples_done\": %llu, \"examples_total\": %llu, "
               "\"step\": %llu, \"seed\": %llu, \"batch_size\": %u, \"loss_sum\": %.17g, \"correct\": %.17g, "
               "\"optimizer\": \"%s\", ",
               s->epoch, (unsigned long long)s->done, (unsigned long long)s->data_count,
               (unsigned long long)s->step, (unsigned long long)s->seed, s->batch_size, s->loss_sum, s->correct,
               clcnn_model_optimizer(m));
        float lr, b1, b2, eps, mom, wd;
        int nesterov;
        if (strcmp(clcnn_model_optimizer(m), "sgd") == 0 && clcnn_model_get_sgd(m, &lr, &mom, &wd, &nesterov) == 0)
            printf("\"sgd\": {\"lr\": %.9g, \"momentum\": %.9g, \"weight_decay\": %.9g, \"nesterov\": %s}}",
                   (double)lr, (double)mom, (double)wd, nesterov ? "true" : "false");
        else if (clcnn_model_get_adam(m, &lr, &b1, &b2, &eps) == 0)
            printf("\"adam\": {\"lr\": %.9g, \"beta1\": %.9g, \"beta2\": %.9g, \"epsilon\": %.9g}}", (double)lr,
                   (double)b1, (double)b2, (double)eps);
    }
    printf("}\n");
}

int cmd_info(int argc, char **argv)
{
    enum { O_JSON = 1, O_MODEL, O_HELP };
    static const struct option longopts[] = {
        {"json", no_argument, 0, O_JSON},
        {"model", required_argument, 0, O_MODEL}, /* as eval and predict take it */
        {"help", no_argument, 0, O_HELP},
        {0, 0, 0, 0},
    };
    int json = 0;
    const char *path = NULL;
    opterr = 0;
    optind = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_JSON: json = 1; break;
        case O_MODEL: path = optarg; break;
        case O_HELP: fputs(usage_text, stdout); return 0;
        default: return cli_usage_error("info", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (!path && optind < argc)
        path = argv[optind++];
    if (!path)
        return cli_usage_error("info", "no MODEL file given");
    if (optind < argc)
        return cli_usage_error("info", "one MODEL file at a time, not '%s' too", argv[optind]);

    /* Reading a file needs no accelerator: the CPU backend is always there
     * and starts at once. */
    clcnn_ctx *ctx = cli_open_ctx("cpu");
    if (!ctx)
        return 1;
    clcnn_model *model = NULL;
    clcnn_model_file_info info;
    int rc = 0;
    if (clcnn_model_load_file(ctx, &model, path, &info) != CLCNN_OK)
        rc = cli_fail("%s", clcnn_errmsg(ctx));
    else if (json)
        print_json(path, model, &info);
    else
        print_text(path, model, &info);
    clcnn_model_free(model);
    clcnn_ctx_free(ctx);
    return rc;
}
