/*
 * Convolution on OpenCL (cl/conv.cl): direct kernels, or im2col + CLBlast
 * GEMM (col2im for the data gradient), processed in chunks of images so
 * that the im2col scratch buffer stays within the col_limit setting.  1x1
 * kernels at stride 1 skip im2col: x itself is the column matrix.
 * Dilated and grouped convolutions take the direct kernels whatever the
 * path setting (im2col knows neither); every other one, explicit pads
 * included, takes the path it took before they existed.
 */
#include "opencl/ocl_backend.h" /* first: it picks the OpenCL API version */

enum {
    K_IM2COL,
    K_COL2IM,
    K_DIRECT_FORWARD,
    K_BACKWARD,
    K_CONV_POOL_FORWARD,
    K_COUNT
};
enum { T_CONV_KB, T_CONV_PB, T_CONV_CB, T_CONV_DW_WG, T_COUNT };

static const char *const kernels[K_COUNT] = {
    [K_IM2COL] = "im2col",
    [K_COL2IM] = "col2im",
    [K_DIRECT_FORWARD] = "conv_direct_forward",
    [K_BACKWARD] = "conv_backward",
    [K_CONV_POOL_FORWARD] = "conv_pool_forward",
};

/* What each one means: cl/conv.cl.  The register blocks of a GPU (last
 * column) are the largest whose kernels keep to 64 VGPRs on gfx900, 4
 * waves per SIMD (docs/gpu-targets.md); a CPU device is fastest with the
 * larger ones (AVX registers, and fewer, longer work-items), and with
 * smaller filter-gradient work-groups (PoCL runs a group's items in turn,
 * and each of 16 takes 4 times the rows of each of 64, for a shorter
 * reduction: alexnet-mini's filter gradients 25% faster). */
static const ocl_tunable tunables[T_COUNT] = {
    [T_CONV_KB] = {"CONV_KB", 8, 1, OCL_NO_KERNEL, 0},
    [T_CONV_PB] = {"CONV_PB", 4, 0, OCL_NO_KERNEL, 1},
    [T_CONV_CB] = {"CONV_CB", 8, 0, OCL_NO_KERNEL, 2},
    [T_CONV_DW_WG] = {"CONV_DW_WG", 16, 0, K_BACKWARD, 64},
};

const ocl_family ocl_family_conv = {OCL_FAMILY_conv, "conv.cl", kernels, K_COUNT, tunables, T_COUNT};
#define F (&ocl_family_conv)

/* Convolutions with c * k up to this take the direct kernels on a GPU when
 * the path is auto (all of LeNet-5's); CLBlast wins there on large channel
 * counts.  Other devices take the direct kernels at every size: on PoCL,
 * CLBlast's forward is 7 to 14 times slower at c * k of 2048 to 32768 and
 * its backward no faster (batch 16, 3x3). */
#define DIRECT_CONV_MAX_CK 1024

/* 1x1 kernels with stride 1 (and so no padding): col is x itself. */
static int conv_is_pointwise(const conv_geom *g)
{
    return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pad_top == 0 && g->pad_left == 0 &&
           g->oh == g->h && g->ow == g->w;
}

/* How many images one im2col chunk holds. */
static size_t conv_chunk(const ocl_backend *b, const conv_geom *g)
{
    size_t per_image = g->oh * g->ow * g->kh * g->kw * g->c;
    size_t chunk = b->col_limit / sizeof(float) / (per_image ? per_image : 1);
    if (chunk > UINT32_MAX / (per_image ? per_image : 1))
        chunk = UINT32_MAX / per_image;
    if (chunk < 1)
        chunk = 1;
    return chunk < g->n ? chunk : g->n;
}

static int check_conv(ocl_backend *b, const char *op, const conv_geom *g)
{
    int st = ocl_check_u32(b, op, g->n * g->h * g->w * g->c);
    if (!st)
        st = ocl_check_u32(b, op, g->n * g->oh * g->ow * g->k);
    if (!st)
        st = ocl_check_u32(b, op, g->oh * g->ow * g->kh * g->kw * g->c);
    return st;
}

/* The geometry arguments of im2col and col2im after their three buffer and
 * offset arguments: nimg images, h .. pad_left. */
#define CHUNK_GEOMETRY(g, nimg)                                                                                      \
    OCL_U32(nimg), OCL_U32((g)->h), OCL_U32((g)->w), OCL_U32((g)->c), OCL_U32((g)->kh), OCL_U32((g)->kw),            \
        OCL_U32((g)->sh), OCL_U32((g)->sw), OCL_U32((g)->oh), OCL_U32((g)->ow), OCL_U32((g)->pad_top),               \
        OCL_U32((g)->pad_left)

/* The geometry arguments of the direct kernels after their buffers: n .. groups. */
#define DIRECT_GEOMETRY(g)                                                                                           \
    OCL_U32((g)->n), OCL_U32((g)->h), OCL_U32((g)->w), OCL_U32((g)->c), OCL_U32((g)->kh), OCL_U32((g)->kw),          \
        OCL_U32((g)->k), OCL_U32((g)->sh), OCL_U32((g)->sw), OCL_U32((g)->oh), OCL_U32((g)->ow),                     \
        OCL_U32((g)->pad_top), OCL_U32((g)->pad_left), OCL_U32((g)->dh), OCL_U32((g)->dw), OCL_U32((g)->groups)

/* How many blocks of per channels the direct kernels take over n channels
 * split into groups (no block straddles two groups: cl/conv.cl). */
static size_t group_blocks(const conv_geom *g, size_t n, size_t per)
{
    return g->groups * ocl_blocks(n / g->groups, per);
}

/* col (nimg*oh*ow, kh*kw*c) from images [n0, n0+nimg) of x. */
static int im2col(ocl_backend *b, const conv_geom *g, cl_mem x, size_t n0, size_t nimg, cl_mem col)
{
    return OCL_LAUNCH(b, F, K_IM2COL, nimg * g->oh * g->ow * g->kh * g->kw * g->c, 0, OCL_MEM(x),
                      OCL_U32(n0 * g->h * g->w * g->c), OCL_MEM(col), CHUNK_GEOMETRY(g, nimg));
}

/* Images [n0, n0+nimg) of dx from dcol (nimg*oh*ow, kh*kw*c). */
static int col2im(ocl_backend *b, const conv_geom *g, cl_mem dcol, cl_mem dx, size_t n0, size_t nimg)
{
    return OCL_LAUNCH(b, F, K_COL2IM, nimg * g->h * g->w * g->c, 0, OCL_MEM(dcol), OCL_MEM(dx),
                      OCL_U32(n0 * g->h * g->w * g->c), CHUNK_GEOMETRY(g, nimg));
}

/* Direct convolution with bias and activation (softmax as a row pass). */
static int direct_forward(ocl_backend *b, const conv_geom *g, const clcnn_buf *x, const clcnn_buf *w,
                          const clcnn_buf *bias, clcnn_activation act, clcnn_buf *y)
{
    const size_t pb = ocl_tunable_value(b, F, T_CONV_PB), kb = ocl_tunable_value(b, F, T_CONV_KB);
    int st = OCL_LAUNCH(b, F, K_DIRECT_FORWARD, g->n * g->oh * ocl_blocks(g->ow, pb), group_blocks(g, g->k, kb),
                        OCL_MEM(x->mem), OCL_MEM(w->mem), OCL_MEM(bias->mem), OCL_MEM(y->mem), DIRECT_GEOMETRY(g),
                        OCL_I32(act));
    if (st || act != CLCNN_ACT_SOFTMAX)
        return st;
    return ocl_softmax_rows(b, y->mem, y->mem, g->n * g->oh * g->ow, g->k);
}

/* Direct backward in one launch (cl/conv.cl conv_backward): one work-group
 * per (p,q,u) row of dw plus one for db, then dx's input cells.  An output
 * not wanted still needs a valid buffer; the flags and an empty part keep
 * the kernel off it. */
static int direct_backward(ocl_backend *b, const conv_geom *g, const clcnn_buf *dz, const clcnn_buf *x,
                           const clcnn_buf *w, clcnn_activation x_act, clcnn_buf *dx, clcnn_buf *dw, clcnn_buf *db)
{
    const size_t kb = ocl_tunable_value(b, F, T_CONV_KB), cb = ocl_tunable_value(b, F, T_CONV_CB);
    const size_t wg = ocl_local(b, F, K_BACKWARD);
    const size_t taps = dw || db ? g->kh * g->kw * (g->c / g->groups) + 1 : 0;
    const size_t kb_groups = dw || db ? group_blocks(g, g->k, kb) : 0, cb_items = dx ? group_blocks(g, g->c, cb) : 0;
    const size_t cells = dx ? g->n * g->h * g->w : 0, rows = kb_groups > cb_items ? kb_groups : cb_items;
    if (taps + cells == 0)
        return CLCNN_OK;
    cl_mem dwm = dw ? dw->mem : dz->mem, dbm = db ? db->mem : dz->mem, dxm = dx ? dx->mem : dz->mem;
    return OCL_LAUNCH(b, F, K_BACKWARD, (taps + ocl_blocks(cells, wg)) * wg, rows,
                      OCL_MEM(x->mem), OCL_MEM(dz->mem), OCL_MEM(w->mem), OCL_MEM(dwm), OCL_MEM(dbm), OCL_MEM(dxm),
                      DIRECT_GEOMETRY(g), OCL_I32(dw != NULL), OCL_I32(db != NULL), OCL_I32(x_act), OCL_U32(taps),
                      OCL_U32(kb_groups), OCL_U32(cb_items));
}

/* Dilation or groups, which only the direct kernels know, or the path
 * setting (DIRECT_CONV_MAX_CK) send a convolution to the direct kernels;
 * else im2col (or x itself) and GEMM. */
static int use_gemm(const ocl_backend *b, const conv_geom *g)
{
    if (g->dh != 1 || g->dw != 1 || g->groups != 1)
        return 0;
    return ocl_route_gemm(b->conv_path, g->c * g->k, b->dev.is_gpu ? DIRECT_CONV_MAX_CK : SIZE_MAX);
}

int ocl_conv_forward(void *bctx, const conv_geom *g, const clcnn_buf *x, const clcnn_buf *w, const clcnn_buf *bias,
                     clcnn_activation act, clcnn_buf *y)
{
    ocl_backend *b = bctx;
    int st = check_conv(b, "conv_forward", g);
    if (st)
        return st;
    if (!use_gemm(b, g))
        return direct_forward(b, g, x, w, bias, act, y);
    const size_t kcols = g->kh * g->kw * g->c, pix = g->oh * g->ow;
    if (conv_is_pointwise(g)) {
        st = ocl_gemm(b, "conv_forward", 0, 0, g->n * pix, g->k, kcols, x->mem, 0, kcols, w->mem, 0, g->k, 0.0f,
                      y->mem, 0, g->k);
    } else {
        const size_t chunk = conv_chunk(b, g);
        st = ocl_ensure_scratch(b, OCL_SCRATCH_COL, chunk * pix * kcols * sizeof(float));
        for (size_t n0 = 0; !st && n0 < g->n; n0 += chunk) {
            const size_t cn = g->n - n0 < chunk ? g->n - n0 : chunk;
            cl_mem col = b->scratch[OCL_SCRATCH_COL];
            st = im2col(b, g, x->mem, n0, cn, col);
            if (!st)
                st = ocl_gemm(b, "conv_forward", 0, 0, cn * pix, g->k, kcols, col, 0, kcols, w->mem, 0, g->k, 0.0f,
                              y->mem, n0 * pix * g->k, g->k);
        }
    }
    return st ? st : ocl_bias_act(b, y->mem, bias, g->n * pix, g->k, act);
}

/* Whether conv_pool_forward (cl/conv.cl) takes convolution g with act and
 * pooling p of its output: the convolution would take the direct kernel,
 * with an element-wise act, and the windows (stride = window, no pads)
 * tile its output exactly, each conv output in one window.  Any other
 * geometry is two launches (backend.h). */
static int conv_pool_fuses(const ocl_backend *b, const conv_geom *g, const pool_geom *p, clcnn_activation act)
{
    return !use_gemm(b, g) && act != CLCNN_ACT_SOFTMAX && !p->padded && p->kh == p->sh && p->kw == p->sw &&
           p->n == g->n && p->h == g->oh && p->w == g->ow && p->c == g->k && p->oh * p->kh == g->oh &&
           p->ow * p->kw == g->ow;
}

int ocl_conv_pool_forward(void *bctx, const conv_geom *g, const pool_geom *p, const clcnn_buf *x, const clcnn_buf *w,
                          const clcnn_buf *bias, clcnn_activation act, clcnn_buf *y_conv, int keep_conv,
                          clcnn_buf *y_pool)
{
    ocl_backend *b = bctx;
    (void)keep_conv; /* the kernel writes y_conv either way: the stores cost little beside the sums */
    if (!conv_pool_fuses(b, g, p, act))
        return CLCNN_ERR_UNSUPPORTED;
    int st = check_conv(b, "conv_pool_forward", g);
    if (st)
        return st;
    const size_t pb = ocl_tunable_value(b, F, T_CONV_PB), kb = ocl_tunable_value(b, F, T_CONV_KB);
    return OCL_LAUNCH(b, F, K_CONV_POOL_FORWARD, g->n * p->oh * ocl_blocks(p->ow, pb), group_blocks(g, g->k, kb),
                      OCL_MEM(x->mem), OCL_MEM(w->mem), OCL_MEM(bias->mem), OCL_MEM(y_conv->mem),
                      OCL_MEM(y_pool->mem), DIRECT_GEOMETRY(g), OCL_I32(act), OCL_U32(p->kh), OCL_U32(p->kw),
                      OCL_I32(p->mode));
}

/* The GEMM path: dx, then x_act's derivative in its own launch. */
static int gemm_backward(ocl_backend *b, const conv_geom *g, const clcnn_buf *dz, const clcnn_buf *x,
                         const clcnn_buf *w, clcnn_buf *dx, clcnn_buf *dw, clcnn_buf *db);

int ocl_conv_backward(void *bctx, const conv_geom *g, const clcnn_buf *dz, const clcnn_buf *x, const clcnn_buf *w,
                      clcnn_activation x_act, clcnn_buf *dx, clcnn_buf *dw, clcnn_buf *db)
{
    ocl_backend *b = bctx;
    int st = check_conv(b, "conv_backward", g);
    if (st)
        return st;
    if (!use_gemm(b, g))
        return direct_backward(b, g, dz, x, w, x_act, dx, dw, db);
    st = gemm_backward(b, g, dz, x, w, dx, dw, db);
    if (st || !dx)
        return st;
    return ocl_times_derivative(b, x_act, g->n * g->h * g->w * g->c, x->mem, dx->mem);
}

static int gemm_backward(ocl_backend *b, const conv_geom *g, const clcnn_buf *dz, const clcnn_buf *x,
                         const clcnn_buf *w, clcnn_buf *dx, clcnn_buf *dw, clcnn_buf *db)
{
    int st = CLCNN_OK;
    const size_t kcols = g->kh * g->kw * g->c, pix = g->oh * g->ow;
    if (db)
        st = ocl_column_sums(b, dz->mem, g->n * pix, g->k, db->mem);
    if (st || (!dw && !dx))
        return st;
    if (conv_is_pointwise(g)) {
        const size_t rows = g->n * pix;
        if (dw) /* dw (c,k) = x^T @ dz */
            st = ocl_gemm(b, "conv_backward", 1, 0, kcols, g->k, rows, x->mem, 0, kcols, dz->mem, 0, g->k, 0.0f,
                          dw->mem, 0, g->k);
        if (!st && dx) /* dx (rows,c) = dz @ w^T */
            st = ocl_gemm(b, "conv_backward", 0, 1, rows, kcols, g->k, dz->mem, 0, g->k, w->mem, 0, g->k, 0.0f,
                          dx->mem, 0, kcols);
        return st;
    }
    const size_t chunk = conv_chunk(b, g);
    const size_t col_bytes = chunk * pix * kcols * sizeof(float);
    if (dw)
        st = ocl_ensure_scratch(b, OCL_SCRATCH_COL, col_bytes);
    if (!st && dx)
        st = ocl_ensure_scratch(b, OCL_SCRATCH_DCOL, col_bytes);
    for (size_t n0 = 0; !st && n0 < g->n; n0 += chunk) {
        const size_t cn = g->n - n0 < chunk ? g->n - n0 : chunk;
        const size_t dz_off = n0 * pix * g->k;
        if (dw) {
            /* dw (kcols,k) (+)= col^T @ dz over the chunk's pixels. */
            cl_mem col = b->scratch[OCL_SCRATCH_COL];
            st = im2col(b, g, x->mem, n0, cn, col);
            if (!st)
                st = ocl_gemm(b, "conv_backward", 1, 0, kcols, g->k, cn * pix, col, 0, kcols, dz->mem, dz_off, g->k,
                              n0 == 0 ? 0.0f : 1.0f, dw->mem, 0, g->k);
        }
        if (!st && dx) {
            /* dcol = dz @ w^T, then the gather back onto the input cells. */
            cl_mem dcol = b->scratch[OCL_SCRATCH_DCOL];
            st = ocl_gemm(b, "conv_backward", 0, 1, cn * pix, kcols, g->k, dz->mem, dz_off, g->k, w->mem, 0, g->k,
                          0.0f, dcol, 0, kcols);
            if (!st)
                st = col2im(b, g, dcol, dx->mem, n0, cn);
        }
    }
    return st;
}
