/* clcnn predict: the top classes of IDX, PGM, PNG or JPEG images, as text
 * or JSON. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "common.h"
#include "model_file.h"
#include "pgm.h"

static const char usage_text[] =
    "usage: clcnn predict --model FILE [OPTIONS] INPUT...\n"
    "Prints the most likely classes of each image, with their probabilities:\n"
    "  img.pgm: Ankle boot (9) 0.9985, Sandal (5) 0.0009, Sneaker (7) 0.0004\n"
    "for a model that holds class names, else \"img.pgm: 9 (0.9985), 5 (0.0009), ...\".\n"
    "An INPUT is a PGM image (P2/P5), a PNG or JPEG image (grey or colour, as the\n"
    "model takes), or an IDX image file (raw or .gz, every image).\n\n"
    "  --model FILE        the model (from clcnn train --save, or an .onnx)\n"
    "  --top K             classes shown per image, 1 to 4096 (default 3; at most\n"
    "                      the model's classes are shown)\n"
    "  --json              one JSON object per image and line, for programs:\n"
    "                      {\"input\": ..., \"index\": ..., \"top\": [{\"class\": 9,\n"
    "                      \"name\": \"Ankle boot\", \"probability\": 0.9985}, ...]}\n"
    "                      (\"name\" is null for a model without class names)\n"
    "  --device D          auto, cpu, opencl or opencl:P:D (default auto)\n"
    "  --help              show this help\n";

/* The top classes of one image, most likely first (ties: the lower id),
 * into order[0 .. top-1]; top is at most classes. */
static int rank_classes(const float *p, size_t classes, size_t top, size_t *order)
{
    char *shown = calloc(classes, 1);
    if (!shown)
        return cli_fail("out of memory");
    for (size_t t = 0; t < top; t++) {
        size_t best = classes;
        for (size_t k = 0; k < classes; k++)
            if (!shown[k] && (best == classes || p[k] > p[best]))
                best = k;
        shown[best] = 1;
        order[t] = best;
    }
    free(shown);
    return 0;
}

/* One image's line: "NAME[INDEX]: label prob, ..." (INDEX only when the
 * input holds several images); a label with a name takes its probability
 * after it, an id alone in parentheses (the format before class names). */
static void print_text(const clcnn_model *m, const char *input, size_t index, int indexed, const float *p,
                       const size_t *order, size_t top)
{
    char label[CLI_LABEL_MAX];
    if (indexed)
        printf("%s[%zu]:", input, index);
    else
        printf("%s:", input);
    for (size_t t = 0; t < top; t++) {
        size_t k = order[t];
        cli_class_label(m, k, label, sizeof label);
        printf(clcnn_model_class_name(m, k) ? " %s %.4f%s" : " %s (%.4f)%s", label, (double)p[k],
               t + 1 < top ? "," : "");
    }
    putchar('\n');
}

static void print_json(const clcnn_model *m, const char *input, size_t index, const float *p, const size_t *order,
                       size_t top)
{
    printf("{\"input\": ");
    cli_json_string(stdout, input);
    printf(", \"index\": %zu, \"top\": [", index);
    for (size_t t = 0; t < top; t++) {
        size_t k = order[t];
        const char *name = clcnn_model_class_name(m, k);
        printf("%s{\"class\": %zu, \"name\": ", t ? ", " : "", k);
        if (name)
            cli_json_string(stdout, name);
        else
            printf("null");
        printf(", \"probability\": %.9g}", (double)p[k]);
    }
    printf("]}\n");
}

/* Whether path starts like a PNG or a JPEG (clcnn_dataset_load_image). */
static int png_jpeg_sniff(const char *path)
{
    static const unsigned char png[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char b[8];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(b, 1, sizeof b, f) : 0;
    if (f)
        fclose(f);
    return (n == 8 && !memcmp(b, png, 8)) || (n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff);
}

/* Loads INPUT as images of the model's shape; *count images. */
static int load_input(clcnn_ctx *ctx, const char *path, const size_t *shape, float **images, size_t *count)
{
    if (pgm_sniff(path)) {
        char err[512];
        size_t w, h;
        if (pgm_read(path, images, &w, &h, err, sizeof err))
            return cli_fail("%s", err);
        if (h != shape[0] || w != shape[1] || shape[2] != 1) {
            free(*images);
            return cli_fail("%s: the image is %zux%zu, the model takes %zux%zux%zu", path, w, h, shape[1], shape[0],
                            shape[2]);
        }
        *count = 1;
        return 0;
    }
    clcnn_dataset *ds = NULL;
    if ((png_jpeg_sniff(path) ? clcnn_dataset_load_image(ctx, &ds, path)
                              : clcnn_dataset_load_idx(ctx, &ds, path, NULL)) != CLCNN_OK)
        return cli_fail("%s", clcnn_errmsg(ctx));
    size_t s[3], n = clcnn_dataset_count(ds);
    clcnn_dataset_image_shape(ds, s);
    if (s[0] != shape[0] || s[1] != shape[1] || s[2] != shape[2]) {
        clcnn_dataset_free(ds);
        return cli_fail("%s: the images are %zux%zux%zu, the model takes %zux%zux%zu", path, s[0], s[1], s[2],
                        shape[0], shape[1], shape[2]);
    }
    *images = malloc(n * s[0] * s[1] * s[2] * sizeof **images);
    int rc = 0;
    if (!*images)
        rc = cli_fail("%s: out of memory", path);
    else if (clcnn_dataset_get(ctx, ds, 0, n, *images, NULL) != CLCNN_OK)
        rc = cli_fail("%s", clcnn_errmsg(ctx));
    clcnn_dataset_free(ds);
    *count = n;
    return rc;
}

int cmd_predict(int argc, char **argv)
{
    enum { O_MODEL = 1, O_TOP, O_DEVICE, O_JSON, O_HELP };
    static const struct option longopts[] = {
        {"model", required_argument, 0, O_MODEL},   {"top", required_argument, 0, O_TOP},
        {"device", required_argument, 0, O_DEVICE}, {"json", no_argument, 0, O_JSON},
        {"help", no_argument, 0, O_HELP},           {0, 0, 0, 0},
    };
    const char *model_path = NULL, *device = NULL;
    size_t top = 3;
    int json = 0;
    opterr = 0;
    optind = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case O_MODEL: model_path = optarg; break;
        case O_DEVICE: device = optarg; break;
        case O_JSON: json = 1; break;
        case O_TOP:
            if (cli_parse_size(optarg, 1, 4096, &top))
                return cli_usage_error("predict", "--top wants a whole number from 1 to 4096, not '%s'", optarg);
            break;
        case O_HELP: fputs(usage_text, stdout); return 0;
        default: return cli_usage_error("predict", "unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    if (!model_path)
        return cli_usage_error("predict", "--model FILE is required");
    if (optind >= argc)
        return cli_usage_error("predict", "no INPUT images given");

    clcnn_ctx *ctx = cli_open_ctx(device);
    if (!ctx)
        return 1;
    clcnn_model *model = NULL;
    int rc = 0;
    if (cli_load_classifier(ctx, &model, model_path) != CLCNN_OK) {
        rc = cli_fail("%s", clcnn_errmsg(ctx));
        goto done;
    }
    size_t classes = clcnn_model_classes(model), shape[3] = {0, 0, 0};
    clcnn_model_input_shape(model, shape);
    if (top > classes)
        top = classes;
    size_t *order = malloc(top * sizeof *order);
    if (!order)
        rc = cli_fail("out of memory");
    for (int i = optind; i < argc && rc == 0; i++) {
        float *images = NULL, *probs = NULL;
        size_t n = 0;
        if ((rc = load_input(ctx, argv[i], shape, &images, &n)))
            break;
        probs = malloc(n * classes * sizeof *probs);
        if (!probs)
            rc = cli_fail("out of memory");
        else if (clcnn_model_predict(model, images, n, probs) != CLCNN_OK)
            rc = cli_fail("%s", clcnn_errmsg(ctx));
        for (size_t k = 0; rc == 0 && k < n; k++) {
            const float *p = probs + k * classes;
            if ((rc = rank_classes(p, classes, top, order)))
                break;
            if (json)
                print_json(model, argv[i], k, p, order, top);
            else
                print_text(model, argv[i], k, n > 1, p, order, top);
        }
        free(images);
        free(probs);
    }
    free(order);
done:
    clcnn_model_free(model);
    clcnn_ctx_free(ctx);
    return rc;
}
