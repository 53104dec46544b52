/*
 * Dense layers on OpenCL (cl/dense.cl): direct kernels, or a CLBlast GEMM
 * followed by bias + activation (bias_act, bias_softmax) and, backward, the
 * bias gradient as column sums; convolution's GEMM path shares those two.
 */
#include "opencl/ocl_backend.h" /* first: it picks the OpenCL API version */

enum { K_BIAS_ACT, K_BIAS_SOFTMAX, K_COLUMN_SUMS, K_DENSE_FORWARD, K_DENSE_BACKWARD, K_COUNT };
enum { T_DENSE_RB, T_DENSE_OB, T_COLSUM_WG, T_COUNT };

static const char *const kernels[K_COUNT] = {
    [K_BIAS_ACT] = "bias_act",
    [K_BIAS_SOFTMAX] = "bias_softmax",
    [K_COLUMN_SUMS] = "column_sums",
    [K_DENSE_FORWARD] = "dense_forward",
    [K_DENSE_BACKWARD] = "dense_backward",
};

/* A GPU's DENSE_RB (last column): 2 would keep the three dense kernels to
 * 64 VGPRs on gfx900 too, but dense_backward's weight part then spills on Intel's PVC
 * (SIMD32, 128 registers); 1 does not (docs/gpu-targets.md). */
static const ocl_tunable tunables[T_COUNT] = {
    [T_DENSE_RB] = {"DENSE_RB", 4, 0, OCL_NO_KERNEL, 1}, /* rows per work-item */
    [T_DENSE_OB] = {"DENSE_OB", 8, 1, OCL_NO_KERNEL, 0}, /* output units per work-item: a float8 */
    [T_COLSUM_WG] = {"COLSUM_WG", 64, 0, K_COLUMN_SUMS, 0},
};

const ocl_family ocl_family_dense = {OCL_FAMILY_dense, "dense.cl", kernels, K_COUNT, tunables, T_COUNT};
#define F (&ocl_family_dense)

/* Layers up to this many multiply-adds (m * in * out) take the direct
 * kernels when the path is auto (all of LeNet-5's). */
#define DIRECT_DENSE_MAX_MACS ((size_t)1 << 24)

int ocl_bias_act(ocl_backend *b, cl_mem y, const clcnn_buf *bias, size_t rows, size_t cols, clcnn_activation act)
{
    if (act == CLCNN_ACT_SOFTMAX)
        return OCL_LAUNCH(b, F, K_BIAS_SOFTMAX, rows, 0, OCL_MEM(y), OCL_MEM(bias->mem), OCL_U32(rows),
                          OCL_U32(cols));
    return OCL_LAUNCH(b, F, K_BIAS_ACT, rows * cols, 0, OCL_MEM(y), OCL_MEM(bias->mem), OCL_U32(rows), OCL_U32(cols),
                      OCL_I32(act));
}

int ocl_column_sums(ocl_backend *b, cl_mem a, size_t rows, size_t cols, cl_mem out)
{
    /* One work-group per column. */
    return OCL_LAUNCH(b, F, K_COLUMN_SUMS, cols * ocl_local(b, F, K_COLUMN_SUMS), 0, OCL_MEM(a), OCL_MEM(out),
                      OCL_U32(rows), OCL_U32(cols));
}

int ocl_dense_forward(void *bctx, size_t m, size_t in, size_t out, const clcnn_buf *x, const clcnn_buf *w,
                      const clcnn_buf *bias, clcnn_activation act, clcnn_buf *y)
{
    ocl_backend *b = bctx;
    int st = ocl_check_u32(b, "dense_forward", m * out);
    if (!st)
        st = ocl_check_u32(b, "dense_forward", m * in);
    if (st)
        return st;
    if (ocl_route_gemm(b->dense_path, m * in * out, DIRECT_DENSE_MAX_MACS)) {
        st = ocl_gemm(b, "dense_forward", 0, 0, m, out, in, x->mem, 0, in, w->mem, 0, out, 0.0f, y->mem, 0, out);
        return st ? st : ocl_bias_act(b, y->mem, bias, m, out, act);
    }
    const size_t rb = ocl_tunable_value(b, F, T_DENSE_RB), ob = ocl_tunable_value(b, F, T_DENSE_OB);
    st = OCL_LAUNCH(b, F, K_DENSE_FORWARD, ocl_blocks(out, ob), ocl_blocks(m, rb), OCL_MEM(x->mem), OCL_MEM(w->mem),
                    OCL_MEM(bias->mem), OCL_MEM(y->mem), OCL_U32(m), OCL_U32(in), OCL_U32(out), OCL_I32(act));
    if (st || act != CLCNN_ACT_SOFTMAX)
        return st;
    return ocl_softmax_rows(b, y->mem, y->mem, m, out);
}

int ocl_dense_backward(void *bctx, size_t m, size_t in, size_t out, const clcnn_buf *dz, const clcnn_buf *x,
                       const clcnn_buf *w, clcnn_activation x_act, clcnn_buf *dx, clcnn_buf *dw, clcnn_buf *db)
{
    ocl_backend *b = bctx;
    int st = ocl_check_u32(b, "dense_backward", m * out);
    if (!st)
        st = ocl_check_u32(b, "dense_backward", (m + 1) * in);
    if (st)
        return st;
    if (ocl_route_gemm(b->dense_path, m * in * out, DIRECT_DENSE_MAX_MACS)) {
        if (db)
            st = ocl_column_sums(b, dz->mem, m, out, db->mem);
        if (!st && dw) /* dw (in,out) = x^T (in,m) @ dz (m,out) */
            st = ocl_gemm(b, "dense_backward", 1, 0, in, out, m, x->mem, 0, in, dz->mem, 0, out, 0.0f, dw->mem, 0,
                          out);
        if (!st && dx) /* dx (m,in) = dz (m,out) @ w^T (out,in) */
            st = ocl_gemm(b, "dense_backward", 0, 1, m, in, out, dz->mem, 0, out, w->mem, 0, out, 0.0f, dx->mem, 0,
                          in);
        if (!st && dx)
            st = ocl_times_derivative(b, x_act, m * in, x->mem, dx->mem);
        return st;
    }
    /* One launch, two grids side by side (cl/dense.cl dense_backward):
     * units [0, in] of dw in blocks (unit in is db), then dx's in units.
     * An output not wanted still needs a valid buffer; the flags and an
     * empty grid keep the kernel off it. */
    const size_t rb = ocl_tunable_value(b, F, T_DENSE_RB), ob = ocl_tunable_value(b, F, T_DENSE_OB);
    const size_t w_items = dw || db ? ocl_blocks(out, ob) : 0, w_rows = dw || db ? ocl_blocks(in + 1, rb) : 0;
    const size_t d_items = dx ? in : 0, d_rows = dx ? ocl_blocks(m, rb) : 0;
    if (w_items + d_items == 0)
        return CLCNN_OK;
    cl_mem dwm = dw ? dw->mem : dz->mem, dbm = db ? db->mem : dz->mem, dxm = dx ? dx->mem : dz->mem;
    return OCL_LAUNCH(b, F, K_DENSE_BACKWARD, w_items + d_items, w_rows > d_rows ? w_rows : d_rows, OCL_MEM(x->mem),
                      OCL_MEM(dz->mem), OCL_MEM(w->mem), OCL_MEM(dwm), OCL_MEM(dbm), OCL_MEM(dxm), OCL_U32(m),
                      OCL_U32(in), OCL_U32(out), OCL_I32(dw != NULL), OCL_I32(db != NULL), OCL_I32(x_act),
                      OCL_U32(w_items), OCL_U32(w_rows), OCL_U32(d_items), OCL_U32(d_rows));
}
