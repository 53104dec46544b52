/* Fully connected layers: y = act(x @ W + b), W of shape (in, out).  Work
 * is split by rows of x (forward, input gradient) and by rows of W (weight
 * gradient, each summed over the batch in order), so results do not depend
 * on the number of threads. */
#include "cpu.h"

/* Rows of x per forward task, of W per weight-gradient task, and of dx per
 * input-gradient task. */
#define X_ROWS_PER_TASK 8
#define ROWS_PER_TASK 16
#define DX_ROWS_PER_TASK 4

typedef struct dense_job {
    size_t m, in, out;
    const float *x, *w, *b, *dz;
    float *y, *dx, *dw;
    clcnn_activation act;
} dense_job;

/* Rows [t*X_ROWS_PER_TASK, ...) of x against all of W, W's rows streamed
 * once for the whole block (each row of W feeds every row of the block). */
static void forward_rows(void *arg, size_t t, int thread)
{
    (void)thread;
    const dense_job *j = arg;
    size_t r0 = t * X_ROWS_PER_TASK, rows = j->m - r0 < X_ROWS_PER_TASK ? j->m - r0 : X_ROWS_PER_TASK;
    cpu_combination yc = {.rows = {.base = j->w, .n = j->in, .ld = j->out}, .coef = j->x + r0 * j->in, .coef_r = 1,
                          .coef_o = j->in, .bias_cols = j->b};
    float *y = j->y + r0 * j->out;
    cpu_combine_rows(&yc, rows, j->out, y, j->out);
    cpu_activate(j->act, rows, j->out, y);
}

int cpu_dense_forward(void *bctx, size_t m, size_t in, size_t out, const clcnn_buf *xb, const clcnn_buf *wb,
                      const clcnn_buf *bb, clcnn_activation act, clcnn_buf *yb)
{
    dense_job j = {.m = m, .in = in, .out = out, .x = CF32(xb), .w = CF32(wb), .b = CF32(bb), .y = F32(yb),
                   .act = act};
    cpu_parallel_work(bctx, (m + X_ROWS_PER_TASK - 1) / X_ROWS_PER_TASK, m * in * out, forward_rows, &j);
    return CLCNN_OK;
}

/* dW rows [t*ROWS_PER_TASK, ...) = sum over the batch of x[r][i] * dz[r]. */
static void weight_grad_rows(void *arg, size_t t, int thread)
{
    (void)thread;
    const dense_job *j = arg;
    size_t i0 = t * ROWS_PER_TASK, i1 = i0 + ROWS_PER_TASK < j->in ? i0 + ROWS_PER_TASK : j->in;
    cpu_combination dwc = {.rows = {.base = j->dz, .n = j->m, .ld = j->out}, .coef = j->x + i0, .coef_r = j->in,
                           .coef_o = 1};
    cpu_combine_rows(&dwc, i1 - i0, j->out, j->dw + i0 * j->out, j->out);
}

/* dx rows [t*DX_ROWS_PER_TASK, ...) = their dz rows times W transposed. */
static void input_grad_rows(void *arg, size_t t, int thread)
{
    (void)thread;
    const dense_job *j = arg;
    size_t r0 = t * DX_ROWS_PER_TASK, rows = j->m - r0 < DX_ROWS_PER_TASK ? j->m - r0 : DX_ROWS_PER_TASK;
    cpu_rows dz = {.base = j->dz + r0 * j->out, .n = rows, .ld = j->out};
    cpu_dots(j->dx + r0 * j->in, j->in, &dz, j->w, j->out, j->in, j->out, 1, 0, 0);
}

int cpu_dense_backward(void *bctx, size_t m, size_t in, size_t out, const clcnn_buf *dzb, const clcnn_buf *xb,
                       const clcnn_buf *wb, clcnn_buf *dxb, clcnn_buf *dwb, clcnn_buf *dbb)
{
    dense_job j = {.m = m, .in = in, .out = out, .x = CF32(xb), .w = CF32(wb), .dz = CF32(dzb), .dx = F32(dxb),
                   .dw = F32(dwb)};
    cpu_column_sums(j.dz, m, out, F32(dbb));
    cpu_parallel_work(bctx, (in + ROWS_PER_TASK - 1) / ROWS_PER_TASK, m * in * out, weight_grad_rows, &j);
    if (j.dx)
        cpu_parallel_work(bctx, (m + DX_ROWS_PER_TASK - 1) / DX_ROWS_PER_TASK, m * in * out, input_grad_rows,
                          &j);
    return CLCNN_OK;
}
