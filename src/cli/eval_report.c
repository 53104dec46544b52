#include "eval_report.h"

#include <stdlib.h>
#include <string.h>

#include "common.h"

/* A class's figures from the matrix.  Precision is undefined for a class
 * never predicted, recall for one without examples, F1 (2tp / (2tp + fp +
 * fn), which is 2PR / (P + R) where both exist) for a class with neither. */
typedef struct class_figures {
    size_t support, predicted;
    double value[3]; /* precision, recall, F1 */
    int defined[3];
} class_figures;

enum { PRECISION, RECALL, F1, NFIGURES };

static class_figures figures_of(const eval_report *r, size_t k)
{
    class_figures f = {0};
    for (size_t j = 0; j < r->classes; j++) {
        f.support += r->matrix[k * r->classes + j];
        f.predicted += r->matrix[j * r->classes + k];
    }
    double tp = (double)r->matrix[k * r->classes + k];
    if ((f.defined[PRECISION] = f.predicted > 0))
        f.value[PRECISION] = tp / (double)f.predicted;
    if ((f.defined[RECALL] = f.support > 0))
        f.value[RECALL] = tp / (double)f.support;
    if ((f.defined[F1] = f.support + f.predicted > 0))
        f.value[F1] = 2.0 * tp / (double)(f.support + f.predicted);
    return f;
}

/* Macro averages: the mean over the classes where the figure is defined
 * (an undefined figure is left out, not counted as 0). */
static class_figures macro_average(const eval_report *r)
{
    class_figures avg = {.support = r->count, .predicted = r->count};
    size_t n[NFIGURES] = {0};
    for (size_t k = 0; k < r->classes; k++) {
        class_figures f = figures_of(r, k);
        for (int i = 0; i < NFIGURES; i++)
            if (f.defined[i])
                avg.value[i] += f.value[i], n[i]++;
    }
    for (int i = 0; i < NFIGURES; i++)
        if ((avg.defined[i] = n[i] > 0))
            avg.value[i] /= (double)n[i];
    return avg;
}

static int by_confidence(const void *a, const void *b)
{
    const eval_mistake *x = a, *y = b;
    if (x->prob != y->prob)
        return x->prob > y->prob ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

int eval_report_collect(clcnn_ctx *ctx, clcnn_model *m, const clcnn_dataset *ds, size_t batch, eval_report *r)
{
    memset(r, 0, sizeof *r);
    size_t shape[3], k = clcnn_model_classes(m), n = clcnn_dataset_count(ds);
    clcnn_model_input_shape(m, shape);
    size_t row = shape[0] * shape[1] * shape[2];
    if (batch > n)
        batch = n;
    float *images = malloc((batch ? batch : 1) * row * sizeof *images);
    float *probs = malloc((batch ? batch : 1) * k * sizeof *probs);
    int32_t *labels = malloc((batch ? batch : 1) * sizeof *labels);
    r->classes = k;
    r->count = n;
    r->matrix = calloc(k * k, sizeof *r->matrix);
    r->mistakes = malloc((n ? n : 1) * sizeof *r->mistakes);
    int rc = 0;
    if (!images || !probs || !labels || !r->matrix || !r->mistakes)
        rc = cli_fail("out of memory");
    for (size_t done = 0; rc == 0 && done < n; done += batch) {
        size_t mb = n - done < batch ? n - done : batch;
        if (clcnn_dataset_get(ctx, ds, done, mb, images, labels) != CLCNN_OK ||
            clcnn_model_predict(m, images, mb, probs) != CLCNN_OK) {
            rc = cli_fail("%s", clcnn_errmsg(ctx));
            break;
        }
        for (size_t e = 0; e < mb; e++) {
            const float *p = probs + e * k;
            size_t best = 0; /* the first maximum, as the library's accuracy */
            for (size_t j = 1; j < k; j++)
                if (p[j] > p[best])
                    best = j;
            size_t truth = (size_t)labels[e];
            if (labels[e] < 0 || truth >= k) {
                rc = cli_fail("example %zu has label %d; the model has %zu classes", done + e, (int)labels[e], k);
                break;
            }
            r->matrix[truth * k + best]++;
            if (best != truth)
                r->mistakes[r->nmistakes++] = (eval_mistake){done + e, truth, best, p[best]};
        }
    }
    free(images);
    free(probs);
    free(labels);
    if (rc)
        eval_report_free(r);
    else
        qsort(r->mistakes, r->nmistakes, sizeof *r->mistakes, by_confidence);
    return rc;
}

void eval_report_free(eval_report *r)
{
    free(r->matrix);
    free(r->mistakes);
    memset(r, 0, sizeof *r);
}

/* The widest class label, at least `least`. */
static int label_width(const clcnn_model *m, const eval_report *r, int least)
{
    char buf[CLI_LABEL_MAX];
    int w = least;
    for (size_t k = 0; k < r->classes; k++) {
        int len = cli_text_width(cli_class_label(m, k, buf, sizeof buf));
        if (len > w)
            w = len;
    }
    return w;
}

static void print_figures(FILE *f, int width, const char *label, const class_figures *c)
{
    cli_pad(f, label, width);
    for (int i = 0; i < NFIGURES; i++)
        if (c->defined[i])
            fprintf(f, "  %9.4f", c->value[i]);
        else
            fprintf(f, "  %9s", "-");
    fprintf(f, "  %9zu\n", c->support);
}

static void print_matrix(FILE *f, const clcnn_model *m, const eval_report *r)
{
    size_t k = r->classes, largest = k - 1;
    for (size_t i = 0; i < k * k; i++)
        if (r->matrix[i] > largest)
            largest = r->matrix[i];
    int cell = snprintf(NULL, 0, "%zu", largest) + 1, width = label_width(m, r, (int)strlen("true \\ predicted"));
    char buf[CLI_LABEL_MAX];
    fprintf(f, "\nconfusion matrix (rows: true class, columns: predicted class)\n%-*s", width, "true \\ predicted");
    for (size_t j = 0; j < k; j++)
        fprintf(f, "%*zu", cell, j);
    fputc('\n', f);
    for (size_t i = 0; i < k; i++) {
        cli_pad(f, cli_class_label(m, i, buf, sizeof buf), width);
        for (size_t j = 0; j < k; j++)
            fprintf(f, "%*zu", cell, r->matrix[i * k + j]);
        fputc('\n', f);
    }
}

static void print_mistakes(FILE *f, const clcnn_model *m, const eval_report *r, size_t errors)
{
    size_t shown = errors < r->nmistakes ? errors : r->nmistakes;
    int width = label_width(m, r, (int)strlen("predicted"));
    char t[CLI_LABEL_MAX], p[CLI_LABEL_MAX];
    fprintf(f, "\nmost confident mistakes (%zu of %zu)\n", shown, r->nmistakes);
    if (shown == 0)
        return;
    fprintf(f, "%7s  %-*s  %-*s  %s\n", "index", width, "true", width, "predicted", "probability");
    for (size_t i = 0; i < shown; i++) {
        const eval_mistake *e = &r->mistakes[i];
        fprintf(f, "%7zu  ", e->index);
        cli_pad(f, cli_class_label(m, e->truth, t, sizeof t), width);
        fputs("  ", f);
        cli_pad(f, cli_class_label(m, e->pred, p, sizeof p), width);
        fprintf(f, "  %.4f\n", (double)e->prob);
    }
}

void eval_report_print(FILE *f, const clcnn_model *m, const eval_report *r, size_t errors)
{
    int width = label_width(m, r, (int)strlen("macro average"));
    char buf[CLI_LABEL_MAX];
    fprintf(f, "\n%-*s  %9s  %9s  %9s  %9s\n", width, "class", "precision", "recall", "f1", "support");
    int undefined = 0;
    for (size_t k = 0; k < r->classes; k++) {
        class_figures c = figures_of(r, k);
        undefined |= !c.defined[PRECISION] || !c.defined[RECALL];
        print_figures(f, width, cli_class_label(m, k, buf, sizeof buf), &c);
    }
    class_figures avg = macro_average(r);
    print_figures(f, width, "macro average", &avg);
    if (undefined)
        fprintf(f, "(-: undefined: the precision of a class never predicted, the recall of a class without\n"
                   "examples, the F1 of a class with neither; macro averages leave them out)\n");
    print_matrix(f, m, r);
    if (errors)
        print_mistakes(f, m, r, errors);
}

/* A CSV field, quoted when it holds a comma, a quote or a line break. */
static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_figures(FILE *f, const class_figures *c)
{
    for (int i = 0; i < NFIGURES; i++)
        if (c->defined[i])
            fprintf(f, ",%.6f", c->value[i]);
        else
            fputc(',', f);
    fprintf(f, ",%zu,%zu", c->support, c->predicted);
}

void eval_report_write_csv(FILE *f, const clcnn_model *m, const eval_report *r)
{
    size_t k = r->classes;
    char buf[CLI_LABEL_MAX];
    fputs("class,label,precision,recall,f1,support,predicted", f);
    for (size_t j = 0; j < k; j++)
        fprintf(f, ",pred_%zu", j);
    fputc('\n', f);
    for (size_t i = 0; i < k; i++) {
        class_figures c = figures_of(r, i);
        fprintf(f, "%zu,", i);
        csv_field(f, cli_class_label(m, i, buf, sizeof buf));
        csv_figures(f, &c);
        for (size_t j = 0; j < k; j++)
            fprintf(f, ",%zu", r->matrix[i * k + j]);
        fputc('\n', f);
    }
    class_figures avg = macro_average(r);
    fputs("macro,macro average", f);
    csv_figures(f, &avg);
    for (size_t j = 0; j < k; j++)
        fputc(',', f);
    fputc('\n', f);
}
