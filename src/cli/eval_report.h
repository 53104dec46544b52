/* clcnn eval's report: per-class precision, recall and F1, the confusion
 * matrix and the most confident mistakes, from the model's predictions. */
#ifndef CLCNN_CLI_EVAL_REPORT_H
#define CLCNN_CLI_EVAL_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "clcnn.h"

typedef struct eval_mistake {
    size_t index;       /* the example's index in the split */
    size_t truth, pred; /* its class and the predicted one */
    float prob;         /* the predicted class's probability */
} eval_mistake;

typedef struct eval_report {
    size_t classes, count;
    size_t *matrix;          /* classes x classes: [true * classes + predicted] */
    eval_mistake *mistakes;  /* every mistake, most confident first (ties: lower index) */
    size_t nmistakes;
} eval_report;

/* Predicts every example of ds in batches and tallies the report; prints
 * the error and returns non-zero on failure (*r then holds nothing). */
int eval_report_collect(clcnn_ctx *ctx, clcnn_model *m, const clcnn_dataset *ds, size_t batch, eval_report *r);

/* The per-class table with macro averages, the confusion matrix, and the
 * first `errors` mistakes (none when 0). */
void eval_report_print(FILE *f, const clcnn_model *m, const eval_report *r, size_t errors);

/* The CSV of README's "Evaluation report" (per-class figures and matrix). */
void eval_report_write_csv(FILE *f, const clcnn_model *m, const eval_report *r);

void eval_report_free(eval_report *r);

#endif
