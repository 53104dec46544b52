/* What --logdir records.  A failed write is reported once and ends the
 * logging, not the run: the training, its checkpoints and --save go on,
 * and the command's exit status says that the log is incomplete. */
#include "tb_log.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "tb_events.h"
#include "tb_png.h"
#include "tb_summary.h"

struct tb_log {
    tb_events *events;
    double step_time;         /* when the last step was recorded */
    uint64_t done;            /* the epoch's examples done then */
    double loss_sum, correct; /* and the state's sums */
    int failed;               /* a write failed and was reported */
};

/* The filter image: each kernel of size kh x kw drawn SCALE times larger
 * (at least TILE_MIN pixels), PAD black pixels between and around them. */
enum { TILE_MIN = 40, PAD = 2 };

int tb_log_open(tb_log **out, const char *dir)
{
    *out = NULL;
    tb_log *t = calloc(1, sizeof *t);
    if (!t)
        return cli_fail("--logdir %s: out of memory", dir);
    if (tb_events_open(&t->events, dir)) {
        free(t);
        return 1;
    }
    if (!tb_png_available())
        fprintf(stderr, "clcnn: --logdir: built without libpng, so the logs hold no filter images\n");
    t->step_time = cli_now();
    *out = t;
    return 0;
}

/* The first failed write: one line, and no more logging. */
static void report_failure(tb_log *t)
{
    cli_fail("%s: write failed (%s); TensorBoard logging stops here, training goes on", tb_events_path(t->events),
             tb_events_error(t->events));
    t->failed = 1;
}

static void write_event(tb_log *t, int64_t step, pb_buf *summary)
{
    if (!t->failed && tb_events_write_summary(t->events, step, summary))
        report_failure(t);
    pb_free(summary);
}

void tb_log_epoch_begin(tb_log *t, const clcnn_train_state *s)
{
    t->step_time = cli_now();
    t->done = s->done;
    t->loss_sum = s->loss_sum;
    t->correct = s->correct;
}

void tb_log_step(tb_log *t, clcnn_model *m, const clcnn_train_state *s)
{
    if (t->failed || s->done <= t->done)
        return;
    double n = (double)(s->done - t->done), now = cli_now();
    float lr = 0.0f;
    clcnn_model_get_adam(m, &lr, NULL, NULL, NULL);
    pb_buf summary = {0};
    tb_summary_scalar(&summary, "step/loss", (float)((s->loss_sum - t->loss_sum) / n));
    tb_summary_scalar(&summary, "step/accuracy", (float)((s->correct - t->correct) / n));
    tb_summary_scalar(&summary, "step/learning_rate", lr);
    tb_summary_scalar(&summary, "step/images_per_second", now > t->step_time ? (float)(n / (now - t->step_time)) : 0.0f);
    write_event(t, (int64_t)s->step, &summary);
    t->step_time = now;
    t->done = s->done;
    t->loss_sum = s->loss_sum;
    t->correct = s->correct;
}

/* Layer i's parameters (which: 0 weights, 1 bias) into a new array. */
static float *read_param(clcnn_model *m, size_t i, int which, size_t *n)
{
    *n = clcnn_model_param_size(m, i, which);
    float *v = *n ? malloc(*n * sizeof *v) : NULL;
    if (v && clcnn_model_read_param(m, i, which, v, *n) != CLCNN_OK) {
        free(v);
        v = NULL;
    }
    return v;
}

/* The kernels of a convolution with weights w (kh, kw, cin, cout) as one
 * greyscale image: a tile per filter and input channel, filter f's
 * channels in a row when cin > 1, else the filters in a near-square grid;
 * each filter scaled from its own minimum (black) to maximum (white). */
static unsigned char *filter_grid(const float *w, int kh, int kw, int cin, int cout, int *height, int *width)
{
    int tiles = cin * cout, cols = cin > 1 ? cin : (int)ceil(sqrt((double)cout));
    int rows = (tiles + cols - 1) / cols;
    int big = kh > kw ? kh : kw, scale = big < TILE_MIN ? TILE_MIN / big : 1;
    int th = kh * scale, tw = kw * scale;
    *height = rows * th + (rows + 1) * PAD;
    *width = cols * tw + (cols + 1) * PAD;
    unsigned char *px = calloc((size_t)*height * (size_t)*width, 1);
    if (!px)
        return NULL;
    for (int f = 0; f < cout; f++) {
        double lo = INFINITY, hi = -INFINITY;
        for (int k = 0; k < kh * kw * cin; k++) {
            double v = w[(size_t)k * (size_t)cout + (size_t)f];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        for (int c = 0; c < cin; c++) {
            int t = f * cin + c, y0 = PAD + t / cols * (th + PAD), x0 = PAD + t % cols * (tw + PAD);
            for (int y = 0; y < th; y++)
                for (int x = 0; x < tw; x++) {
                    double v = w[((size_t)(y / scale * kw + x / scale) * (size_t)cin + (size_t)c) * (size_t)cout +
                                 (size_t)f];
                    long g = hi > lo ? lrint((v - lo) / (hi - lo) * 255.0) : 128;
                    px[(size_t)(y0 + y) * (size_t)*width + (size_t)(x0 + x)] = (unsigned char)g;
                }
        }
    }
    return px;
}

static void add_filter_image(pb_buf *summary, clcnn_model *m, size_t i, const clcnn_layer_config *c,
                             const char *name)
{
    size_t n;
    float *w = read_param(m, i, 0, &n);
    int cin = (int)c->in_shape[2], cout = (int)c->units, h = 0, wd = 0;
    unsigned char *px = NULL, *png = NULL;
    size_t len = 0;
    if (!w || n != (size_t)c->kernel_h * (size_t)c->kernel_w * (size_t)cin * (size_t)cout ||
        !(px = filter_grid(w, c->kernel_h, c->kernel_w, cin, cout, &h, &wd)) || tb_png_grey(px, h, wd, &png, &len)) {
        summary->failed = 1;
    } else {
        char tag[64];
        snprintf(tag, sizeof tag, "%s/filters", name);
        tb_summary_image(summary, tag, h, wd, 1, png, len);
    }
    free(png);
    free(px);
    free(w);
}

/* Every layer with parameters, named as `clcnn info` names it (conv_1,
 * dense_3, ...): histograms of its weights and bias; the first
 * convolution's filters as an image. */
static void add_layers(tb_log *t, clcnn_model *m, uint32_t epoch)
{
    size_t counts[16] = {0};
    int image_done = !tb_png_available();
    for (size_t i = 0; i < clcnn_model_layer_count(m) && !t->failed; i++) {
        clcnn_layer_config c;
        if (clcnn_model_layer_config(m, i, &c) != CLCNN_OK)
            continue;
        char name[48], tag[64];
        snprintf(name, sizeof name, "%s_%zu", c.name, (size_t)c.kind < 16 ? ++counts[c.kind] : i + 1);
        pb_buf summary = {0};
        for (int which = 0; which < 2; which++) {
            size_t n;
            float *v = read_param(m, i, which, &n);
            if (!v) {
                summary.failed |= n != 0;
                continue;
            }
            snprintf(tag, sizeof tag, "%s/%s", name, which ? "bias" : "weights");
            tb_summary_histogram(&summary, tag, v, n);
            free(v);
        }
        if (c.kind == CLCNN_LAYER_CONV && !image_done) {
            add_filter_image(&summary, m, i, &c, name);
            image_done = 1;
        }
        if (summary.len || summary.failed)
            write_event(t, epoch, &summary);
        pb_free(&summary);
    }
}

void tb_log_epoch(tb_log *t, clcnn_model *m, uint32_t epoch, const tb_epoch_figures *f)
{
    if (t->failed)
        return;
    pb_buf summary = {0};
    tb_summary_scalar(&summary, "epoch/loss", (float)f->loss);
    tb_summary_scalar(&summary, "epoch/accuracy", (float)f->accuracy);
    if (f->has_valid) {
        tb_summary_scalar(&summary, "epoch/val_loss", (float)f->val_loss);
        tb_summary_scalar(&summary, "epoch/val_accuracy", (float)f->val_accuracy);
    }
    tb_summary_scalar(&summary, "epoch/seconds", (float)f->seconds);
    tb_summary_scalar(&summary, "epoch/images_per_second", (float)f->images_per_second);
    write_event(t, epoch, &summary);
    add_layers(t, m, epoch);
    if (!t->failed && tb_events_flush(t->events))
        report_failure(t);
}

int tb_log_close(tb_log *t)
{
    if (!t)
        return 0;
    int st = tb_events_close(t->events) || t->failed;
    free(t);
    return st;
}
