/*
 * Convolution on the CPU, a block of up to BLOCK images at a time, through a
 * transposed im2col: colT[r][m] holds input tap r = (p*kw + q)*C + c of
 * output pixel m = b*oh*ow + i*ow + j of image b of the block (zero on
 * padding).  Every inner loop then runs over m, contiguous and long, which
 * compilers vectorise well even when the channel counts are small (LeNet's
 * 1, 6 and 16):
 *   forward   zT[k][m]  = b[k] + sum_r W[r][k] * colT[r][m]
 *   filter    dW[r][k] += sum_m colT[r][m] * dzT[k][m]
 *   data      dcolT[r][m] = sum_k W[r][k] * dzT[k][m], then added back
 *             to the input cells it came from (col2im).
 * Each image passes through a planar copy (C planes of h*w) on the way in
 * and out, so that the taps are contiguous runs of a plane (plain copies at
 * stride 1) rather than gathers across channels.  The forward pass at
 * stride 1 needs no colT at all (forward_wide).
 * Dilation spaces the taps (p*dh, q*dw); groups split colT's rows, the
 * filters and the weights' columns into g independent convolutions of C/g
 * channels and K/g filters, each written where its filters go, so that one
 * group is exactly the plain convolution.
 * Blocks are shared out between the backend's threads as they come free
 * (a thread the OS holds back does not hold the others up); each thread has
 * its own scratch, and each block its own filter-gradient partial sums,
 * added up in block order so that results do not depend on scheduling.
 */
#include <stdint.h>
#include <string.h>

#include "cpu.h"

/* Images per block: long enough rows for small feature maps (LeNet's 10x10
 * becomes 400), short enough to stay in cache. */
#define BLOCK 4

/* The input row/column that output index o and kernel offset p read, or -1
 * when it falls on padding. */
static long tap(size_t o, size_t s, size_t p, size_t pad, size_t size)
{
    long r = (long)(o * s + p) - (long)pad;
    return (r >= 0 && (size_t)r < size) ? r : -1;
}

/* The outputs j whose tap j*s + q - pad falls inside [0, size): [*lo, *hi). */
static void valid_range(size_t n_out, size_t s, size_t q, size_t pad, size_t size, size_t *lo, size_t *hi)
{
    size_t a = q < pad ? (pad - q + s - 1) / s : 0;   /* first j with j*s + q >= pad */
    size_t b = size + pad > q ? (size + pad - q + s - 1) / s : 0; /* first j with j*s + q >= size + pad */
    *lo = a < n_out ? a : n_out;
    *hi = b < n_out ? b : n_out;
    if (*hi < *lo)
        *hi = *lo;
}

/* Values of n pixels (C each, the layer's layout) as C planes of n values,
 * plane by plane: long contiguous stores rather than C at a time. */
static void to_planes(const float *restrict x, size_t n, size_t C, float *restrict planes, size_t plane)
{
    for (size_t c = 0; c < C; c++)
        for (size_t s = 0; s < n; s++)
            planes[c * plane + s] = x[s * C + c];
}

/* Output pixels (rows of cols pixels, K values each, the layer's layout)
 * from K planes of rows x ld values (plane stride plane, of which each row's
 * first cols are kept).  Each output row is one flat loop over its cols*K
 * values, each read through idx (scratch of cols*K entries): value t*K + k
 * comes from plane k at column t.  An indexed copy is what compilers turn
 * into vector gathers; a loop over k inside one over t runs K values at a
 * time, and K is often small (6). */
static void planes_to_pixels(const float *restrict z, size_t K, size_t plane, size_t rows, size_t cols, size_t ld,
                             uint32_t *restrict idx, float *restrict out)
{
    const size_t n = cols * K;
    for (size_t t = 0; t < cols; t++)
        for (size_t k = 0; k < K; k++)
            idx[t * K + k] = (uint32_t)(k * plane + t);
    for (size_t i = 0; i < rows; i++) {
        const float *restrict row = z + i * ld;
        float *restrict o = out + i * n;
        for (size_t e = 0; e < n; e++)
            o[e] = row[idx[e]];
    }
}

/* Input channels per group, and the rows of colT (taps) one group has. */
static size_t group_c(const conv_geom *g)
{
    return g->c / g->groups;
}

static size_t group_rows(const conv_geom *g)
{
    return g->kh * g->kw * group_c(g);
}

/* One image's taps, read from its planes, into columns [0, oh*ow) of colT's
 * rows (row stride ld): group gr's rows (p*kw + q)*Cg + c follow the rows of
 * the groups before it.  At stride 1 every piece is a contiguous copy. */
static void im2col_t(const conv_geom *g, const float *restrict planes, float *restrict colT, size_t ld)
{
    const size_t C = group_c(g), sw = g->sw, hw = g->h * g->w;
    for (size_t gr = 0; gr < g->groups; gr++)
        for (size_t p = 0; p < g->kh; p++)
            for (size_t q = 0; q < g->kw; q++) {
                size_t j0, j1;
                valid_range(g->ow, sw, q * g->dw, g->pad_left, g->w, &j0, &j1);
                for (size_t c = 0; c < C; c++) {
                    float *restrict row = colT + (gr * group_rows(g) + (p * g->kw + q) * C + c) * ld;
                    for (size_t i = 0; i < g->oh; i++) {
                        long r = tap(i, g->sh, p * g->dh, g->pad_top, g->h);
                        float *restrict out = row + i * g->ow;
                        if (r < 0) {
                            memset(out, 0, g->ow * sizeof *out);
                            continue;
                        }
                        for (size_t j = 0; j < j0; j++)
                            out[j] = 0.0f;
                        const float *restrict in =
                            planes + (gr * C + c) * hw + (size_t)r * g->w + j0 * sw + q * g->dw - g->pad_left;
                        if (sw == 1) /* a plain copy, which vectorises */
                            for (size_t j = j0; j < j1; j++)
                                out[j] = in[j - j0];
                        else
                            for (size_t j = j0; j < j1; j++)
                                out[j] = in[(j - j0) * sw];
                        for (size_t j = j1; j < g->ow; j++)
                            out[j] = 0.0f;
                    }
                }
            }
}

/* Adds columns [0, oh*ow) of dcolT's rows (row stride ld) into an image's
 * input-gradient planes (zeroed by the caller). */
static void col2im_t_add(const conv_geom *g, const float *restrict dcolT, size_t ld, float *restrict planes)
{
    const size_t C = group_c(g), sw = g->sw, hw = g->h * g->w;
    for (size_t gr = 0; gr < g->groups; gr++)
        for (size_t p = 0; p < g->kh; p++)
            for (size_t q = 0; q < g->kw; q++) {
                size_t j0, j1;
                valid_range(g->ow, sw, q * g->dw, g->pad_left, g->w, &j0, &j1);
                for (size_t c = 0; c < C; c++) {
                    const float *restrict row = dcolT + (gr * group_rows(g) + (p * g->kw + q) * C + c) * ld;
                    for (size_t i = 0; i < g->oh; i++) {
                        long r = tap(i, g->sh, p * g->dh, g->pad_top, g->h);
                        if (r < 0 || j0 == j1)
                            continue;
                        float *restrict d =
                            planes + (gr * C + c) * hw + (size_t)r * g->w + j0 * sw + q * g->dw - g->pad_left;
                        const float *restrict src = row + i * g->ow + j0;
                        if (sw == 1)
                            for (size_t j = 0; j < j1 - j0; j++)
                                d[j] += src[j];
                        else
                            for (size_t j = 0; j < j1 - j0; j++)
                                d[j * sw] += src[j];
                    }
                }
            }
}

/* One image's taps into colT, through its planes (a one-channel image is
 * its own plane). */
static void image_to_cols(const conv_geom *g, const float *x, float *planes, float *colT, size_t ld)
{
    if (g->c > 1) {
        to_planes(x, g->h * g->w, g->c, planes, g->h * g->w);
        x = planes;
    }
    im2col_t(g, x, colT, ld);
}

/* Stride 1 needs no im2col: over a "wide" grid of oh rows of
 * wp = ow + (kw - 1)*dw columns, tap (p, q, c) of output i*wp + j is the
 * zero-padded plane c at (i + p*dh)*wp + q*dw + j, so the tap rows are the
 * padded planes themselves, read from offsets c*plane + p*dh*wp + q*dw (a
 * grid of rows for cpu_combine_rows; a group's from its first plane).  The
 * wp - ow extra columns of each output row are computed and dropped.
 * The backward passes go the same way: the filter gradient is the dot
 * products of those tap rows with dz laid out on the wide grid (zero in the
 * dropped columns), and the input gradient is itself a stride-1
 * convolution, of dz with the filters flipped (transposed()), run through
 * the same wide pass. */
static int wide_ok(const conv_geom *g)
{
    return g->sh == 1 && g->sw == 1;
}

static size_t wide_w(const conv_geom *g)
{
    return g->ow + (g->kw - 1) * g->dw;
}

/* Rows of a padded plane. */
static size_t wide_h(const conv_geom *g)
{
    return g->oh + (g->kh - 1) * g->dh;
}

/* The padded planes, plus the (kw - 1)*dw floats the last tap row reads past
 * them (into the dropped columns), and the CPU_DOTS_LANES the filter
 * gradient's dots read past the wide grid (dz_plane). */
static size_t padded_floats(const conv_geom *g)
{
    return g->c * wide_h(g) * wide_w(g) + (g->kw - 1) * g->dw + CPU_DOTS_LANES;
}

/* Floats of one plane of dz on the wide grid: oh*wp, rounded up to whole
 * steps of cpu_dots (the rest zero). */
static size_t dz_plane(const conv_geom *g)
{
    size_t Mw = g->oh * wide_w(g);
    return (Mw + CPU_DOTS_LANES - 1) / CPU_DOTS_LANES * CPU_DOTS_LANES;
}

/* Scratch floats wide_conv needs: the padded planes, the wide outputs, and
 * planes_to_pixels's indices for an output row. */
static size_t wide_floats(const conv_geom *g)
{
    return padded_floats(g) + g->k * g->oh * wide_w(g) + g->ow * g->k;
}

/* The input-gradient pass of stride-1 convolution g as a convolution t
 * over dz (n, oh, ow, k) with flip_filters' filters: output (y, x) of t
 * sums dz at (y + pad_top - p*dh, x + pad_left - q*dw), which is tap
 * (kh - 1 - p, kw - 1 - q) of dz padded by (kh - 1)*dh - pad_top rows on
 * top (and alike on the left).  That needs every pad of g at most
 * (kh - 1)*dh (or (kw - 1)*dw), which valid and same padding always are;
 * 0 when g is not such a convolution. */
static int transposed(const conv_geom *g, conv_geom *t)
{
    const size_t ph = (g->kh - 1) * g->dh, pw = (g->kw - 1) * g->dw;
    /* oh <= h + pad_top: the bottom pad is at most ph (right alike). */
    if (!wide_ok(g) || g->pad_top > ph || g->pad_left > pw || g->oh > g->h + g->pad_top ||
        g->ow > g->w + g->pad_left)
        return 0;
    *t = *g;
    t->h = g->oh;
    t->w = g->ow;
    t->c = g->k;
    t->k = g->c;
    t->oh = g->h;
    t->ow = g->w;
    t->pad_top = ph - g->pad_top;
    t->pad_left = pw - g->pad_left;
    return 1;
}

/* transposed(g)'s filters (kh, kw, k/groups, c) from g's w (kh, kw,
 * c/groups, k): its tap (p, q) is g's tap (kh - 1 - p, kw - 1 - q), and its
 * filter gr*Cg + cc reads, at channel kk of its group, what g's filter
 * gr*Kg + kk reads at channel cc. */
static void flip_filters(const conv_geom *g, const float *restrict w, float *restrict wt)
{
    const size_t C = g->c, K = g->k, Cg = group_c(g), Kg = K / g->groups;
    for (size_t p = 0; p < g->kh; p++)
        for (size_t q = 0; q < g->kw; q++) {
            const float *restrict src = w + ((g->kh - 1 - p) * g->kw + (g->kw - 1 - q)) * Cg * K;
            float *restrict dst = wt + (p * g->kw + q) * Kg * C;
            for (size_t gr = 0; gr < g->groups; gr++)
                for (size_t kk = 0; kk < Kg; kk++)
                    for (size_t cc = 0; cc < Cg; cc++)
                        dst[kk * C + gr * Cg + cc] = src[cc * K + gr * Kg + kk];
        }
}

/* One image x (h, w, c) as the zero-padded planes pp of the wide grid, row
 * by row and plane by plane (a plain copy when c is 1). */
static void pad_planes(const conv_geom *g, const float *restrict x, float *restrict pp)
{
    const size_t C = g->c, wp = wide_w(g), plane = wide_h(g) * wp;
    memset(pp, 0, padded_floats(g) * sizeof *pp);
    for (size_t r = 0; r < g->h; r++)
        for (size_t c = 0; c < C; c++) {
            const float *restrict src = x + r * g->w * C + c;
            float *restrict dst = pp + c * plane + (r + g->pad_top) * wp + g->pad_left;
            for (size_t s = 0; s < g->w; s++)
                dst[s] = src[s * C];
        }
}

/* The tap rows of group gr over padded planes pp, in the order of the
 * filters' rows: (p*kw + q)*Cg + c. */
static cpu_rows wide_taps(const conv_geom *g, const float *pp, size_t gr)
{
    const size_t wp = wide_w(g), plane = wide_h(g) * wp, Cg = group_c(g);
    return (cpu_rows){.base = pp + gr * Cg * plane, .n = g->kh, .ld = g->dh * wp, .n1 = g->kw, .ld1 = g->dw,
                      .n2 = Cg, .ld2 = plane};
}

/* conv + b of one image x (h, w, c) through stride-1 convolution g, b
 * NULL for none, as k planes of the wide grid (oh rows of wide_w(g)) in
 * scratch after the padded planes; returns them.  scratch: wide_floats(g). */
static float *wide_sums(const conv_geom *g, const float *x, const float *w, const float *b, float *scratch)
{
    const size_t K = g->k, Mw = g->oh * wide_w(g), Kg = K / g->groups;
    float *pp = scratch, *zW = pp + padded_floats(g);
    pad_planes(g, x, pp);
    for (size_t gr = 0; gr < g->groups; gr++) {
        cpu_combination zc = {.rows = wide_taps(g, pp, gr), .coef = w + gr * Kg, .coef_r = K, .coef_o = 1,
                              .bias = b ? b + gr * Kg : NULL};
        cpu_combine_rows(&zc, Kg, Mw, zW + gr * Kg * Mw, Mw);
    }
    return zW;
}

/* One image x (h, w, c) through stride-1 convolution g into y (oh, ow, k):
 * act(conv + b), b NULL for none.  scratch: wide_floats(g). */
static void wide_conv(const conv_geom *g, const float *x, const float *w, const float *b, clcnn_activation act,
                      float *y, float *scratch)
{
    const size_t K = g->k, wp = wide_w(g), Mw = g->oh * wp;
    float *zW = wide_sums(g, x, w, b, scratch);
    planes_to_pixels(zW, K, Mw, g->oh, g->ow, wp, (uint32_t *)(void *)(zW + K * Mw), y);
    cpu_activate(act, g->oh * g->ow, K, y);
}

/* Whether an image of g is convolved on the wide grid: stride 1, and
 * fewer filters a group than the direct path takes. */
static int wide_path(const conv_geom *g)
{
    return wide_ok(g) && !cpu_conv_direct_fits(g);
}

/* Whether an image goes through conv_image: direct, or on the wide grid. */
static int image_path(const conv_geom *g)
{
    return cpu_conv_direct_fits(g) || wide_ok(g);
}

/* Scratch floats conv_image needs. */
static size_t image_floats(const conv_geom *g)
{
    return wide_path(g) ? wide_floats(g) : cpu_conv_direct_floats(g);
}

/* One image x (h, w, c) through convolution g (image_path) into y
 * (oh, ow, k): act(conv + b), b NULL for none.  scratch: image_floats(g). */
static void conv_image(const conv_geom *g, const float *x, const float *w, const float *b, clcnn_activation act,
                       float *y, float *scratch)
{
    if (wide_path(g)) {
        wide_conv(g, x, w, b, act, y, scratch);
        return;
    }
    cpu_conv_direct(g, x, w, b, y, scratch);
    cpu_activate(act, g->oh * g->ow, g->k, y);
}

/* wide_conv's output pooled by p (cpu_pool_planes_fits) into y_pool
 * (p->oh, p->ow, k), the convolution's own output not kept: activated and
 * pooled while still planes, so that only the pooled pixels are
 * rearranged.  act is element-wise (not softmax).  scratch: wide_floats(g),
 * then pooled_floats(p). */
static void wide_conv_pooled(const conv_geom *g, const pool_geom *p, const float *x, const float *w, const float *b,
                             clcnn_activation act, float *y_pool, float *scratch)
{
    const size_t K = g->k, Mw = g->oh * wide_w(g), op = p->oh * p->ow;
    float *zW = wide_sums(g, x, w, b, scratch), *pooled = scratch + wide_floats(g);
    cpu_activate(act, K, Mw, zW);
    cpu_pool_planes(p, zW, Mw, wide_w(g), pooled);
    planes_to_pixels(pooled, K, op, p->oh, p->ow, p->ow, (uint32_t *)(void *)(pooled + K * op), y_pool);
}

/* Floats wide_conv_pooled needs after wide_floats(g): the pooled planes
 * and planes_to_pixels's indices. */
static size_t pooled_floats(const pool_geom *p)
{
    return p->c * p->oh * p->ow + p->ow * p->c;
}

/* One image's dz (oh, ow, k) as k planes of dz_plane(g) floats: the wide
 * grid, zero in each row's dropped columns and after the last row. */
static void wide_dz(const conv_geom *g, const float *restrict dz, float *restrict dzW)
{
    const size_t K = g->k, wp = wide_w(g), Mw = g->oh * wp, Z = dz_plane(g);
    for (size_t i = 0; i < g->oh; i++) {
        to_planes(dz + i * g->ow * K, g->ow, K, dzW + i * wp, Z);
        for (size_t k = 0; k < K; k++)
            memset(dzW + k * Z + i * wp + g->ow, 0, (wp - g->ow) * sizeof *dzW);
    }
    for (size_t k = 0; k < K; k++)
        memset(dzW + k * Z + Mw, 0, (Z - Mw) * sizeof *dzW);
}

/* planes_to_pixels's indices for a row of the output (forward) or of the
 * input gradient (backward), whichever is longer. */
static size_t index_count(const conv_geom *g)
{
    size_t out_row = g->ow * g->k, in_row = g->w * g->c;
    return out_row > in_row ? out_row : in_row;
}

/* Scratch floats one thread needs: for im2col, colT, zT or dzT, dcolT, one
 * image's planes and planes_to_pixels's indices (the largest index, below
 * K * L, is far below 2^32: the backend could not allocate the floats it
 * indexes otherwise); or, if more, what the wide passes need: forward,
 * wide_floats(g); backward, a block's padded planes and dz on the wide
 * grid, and wide_floats of the input-gradient convolution. */
static size_t scratch_floats(const conv_geom *g)
{
    size_t L = BLOCK * g->oh * g->ow, R = g->kh * g->kw * g->c;
    size_t need = R * L + g->k * L + R * L + g->h * g->w * g->c + index_count(g);
    conv_geom t;
    if (image_path(g) && image_floats(g) > need)
        need = image_floats(g);
    if (transposed(g, &t)) {
        size_t backward = BLOCK * (padded_floats(g) + g->k * dz_plane(g)) + image_floats(&t);
        need = backward > need ? backward : need;
    }
    return need;
}

/* planes_to_pixels's indices on the im2col path, after what it uses. */
static uint32_t *pixel_indices(const conv_geom *g, float *scratch)
{
    return (uint32_t *)(void *)(scratch + scratch_floats(g) - index_count(g));
}

typedef struct conv_job {
    void *bctx;
    const conv_geom *g;
    const float *x, *w, *b, *dz;
    float *y, *dx, *dw_parts;
    clcnn_activation act;
    /* The backward's input-gradient convolution and its filters, on the
     * wide path (t NULL: the im2col path). */
    const conv_geom *t;
    const float *wt;
    /* The forward's pooling of its output into y_pool (NULL: none), and
     * whether that output is kept in y (else it may be left unwritten). */
    const pool_geom *pool;
    float *y_pool;
    int keep_conv;
} conv_job;

/* Images [*first, *first + count) of block blk. */
static size_t block_images(const conv_geom *g, size_t blk, size_t *first)
{
    *first = blk * BLOCK;
    return g->n - *first < BLOCK ? g->n - *first : BLOCK;
}

static size_t block_count(const conv_geom *g)
{
    return (g->n + BLOCK - 1) / BLOCK;
}

/* Where a thread's scratch holds the pooling's own. */
static size_t pool_scratch_at(const conv_geom *g)
{
    return scratch_floats(g);
}

/* Pools count images of the forward's output from out, image first on,
 * when it has a pooling to do. */
static void pool_images(const conv_job *j, const float *out, size_t first, size_t count, int thread)
{
    const pool_geom *p = j->pool;
    if (p)
        cpu_pool_forward_images(j->bctx, p, out, j->y_pool + first * p->oh * p->ow * p->c, count, thread,
                                pool_scratch_at(j->g));
}

/* Whether the forward pools its output as planes (wide_conv_pooled). */
static int pools_planes(const conv_job *j)
{
    return j->pool && !j->keep_conv && wide_path(j->g) && cpu_pool_planes_fits(j->pool) &&
           j->act != CLCNN_ACT_SOFTMAX;
}

static void forward_block(void *arg, size_t blk, int thread)
{
    const conv_job *j = arg;
    const conv_geom *g = j->g;
    const size_t M = g->oh * g->ow, R = g->kh * g->kw * g->c, K = g->k, in_size = g->h * g->w * g->c;
    const size_t Rg = group_rows(g), Kg = K / g->groups;
    size_t first, nb = block_images(g, blk, &first), L = nb * M;
    float *colT = cpu_scratch_of(j->bctx, thread), *zT = colT + R * L, *planes = zT + K * L + R * L;
    if (pools_planes(j)) {
        const size_t pooled = j->pool->oh * j->pool->ow * K;
        for (size_t b = first; b < first + nb; b++)
            wide_conv_pooled(g, j->pool, j->x + b * in_size, j->w, j->b, j->act, j->y_pool + b * pooled, colT);
        return;
    }
    if (image_path(g)) {
        for (size_t b = first; b < first + nb; b++) {
            float *out = j->y + b * M * K;
            conv_image(g, j->x + b * in_size, j->w, j->b, j->act, out, colT);
            pool_images(j, out, b, 1, thread);
        }
        return;
    }
    for (size_t b = 0; b < nb; b++)
        image_to_cols(g, j->x + (first + b) * in_size, planes, colT + b * M, L);
    for (size_t gr = 0; gr < g->groups; gr++) {
        cpu_combination zc = {.rows = {.base = colT + gr * Rg * L, .n = Rg, .ld = L}, .coef = j->w + gr * Kg,
                              .coef_r = K, .coef_o = 1, .bias = j->b + gr * Kg};
        cpu_combine_rows(&zc, Kg, L, zT + gr * Kg * L, L);
    }
    float *out = j->y + first * M * K;
    planes_to_pixels(zT, K, L, nb * g->oh, g->ow, g->ow, pixel_indices(g, colT), out);
    cpu_activate(j->act, L, K, out);
    pool_images(j, out, first, nb, thread);
}

/* conv_forward, and with p (else NULL) pool_forward of its output, which
 * without keep_conv may be left unwritten (pools_planes). */
static int conv_forward(void *bctx, const conv_geom *g, const pool_geom *p, const clcnn_buf *xb,
                        const clcnn_buf *wb, const clcnn_buf *bb, clcnn_activation act, clcnn_buf *yb,
                        int keep_conv, clcnn_buf *y_pool)
{
    conv_job j = {.bctx = bctx, .g = g, .x = CF32(xb), .w = CF32(wb), .b = CF32(bb), .y = F32(yb), .act = act,
                  .pool = p, .y_pool = p ? F32(y_pool) : NULL, .keep_conv = keep_conv};
    size_t need = scratch_floats(g);
    if (pools_planes(&j))
        need = wide_floats(g) + pooled_floats(p);
    else if (p)
        need = pool_scratch_at(g) + cpu_pool_forward_floats(p);
    int st = cpu_scratch_reserve(bctx, need);
    if (st)
        return st;
    cpu_parallel(bctx, block_count(g), forward_block, &j);
    return CLCNN_OK;
}

int cpu_conv_forward(void *bctx, const conv_geom *g, const clcnn_buf *xb, const clcnn_buf *wb, const clcnn_buf *bb,
                     clcnn_activation act, clcnn_buf *yb)
{
    return conv_forward(bctx, g, NULL, xb, wb, bb, act, yb, 1, NULL);
}

int cpu_conv_pool_forward(void *bctx, const conv_geom *g, const pool_geom *p, const clcnn_buf *x, const clcnn_buf *w,
                          const clcnn_buf *b, clcnn_activation act, clcnn_buf *y_conv, int keep_conv,
                          clcnn_buf *y_pool)
{
    return conv_forward(bctx, g, p, x, w, b, act, y_conv, keep_conv, y_pool);
}

/* The wide path's backward of images [first, first + nb) of block blk:
 * the block's filter-gradient part, the dots of its images' tap rows with
 * their dz, one image after another; each image's input gradient as
 * convolution j->t. */
static void backward_wide(const conv_job *j, size_t blk, size_t first, size_t nb, float *scratch)
{
    const conv_geom *g = j->g;
    const size_t M = g->oh * g->ow, K = g->k, Kg = K / g->groups, in_size = g->h * g->w * g->c;
    const size_t P = padded_floats(g), Z = dz_plane(g);
    float *pp = scratch, *dzW = pp + BLOCK * P, *rest = dzW + BLOCK * K * Z;
    if (j->dw_parts) {
        for (size_t b = 0; b < nb; b++) {
            pad_planes(g, j->x + (first + b) * in_size, pp + b * P);
            wide_dz(g, j->dz + (first + b) * M * K, dzW + b * K * Z);
        }
        for (size_t gr = 0; gr < g->groups; gr++) {
            cpu_rows taps = wide_taps(g, pp, gr);
            cpu_dots(j->dw_parts + blk * group_rows(g) * K + gr * Kg, K, &taps, dzW + gr * Kg * Z, Z, Kg, Z, nb, P,
                     K * Z);
        }
    }
    if (j->dx)
        for (size_t b = first; b < first + nb; b++)
            conv_image(j->t, j->dz + b * M * K, j->wt, NULL, CLCNN_ACT_IDENTITY, j->dx + b * in_size, rest);
}

static void backward_block(void *arg, size_t blk, int thread)
{
    const conv_job *j = arg;
    const conv_geom *g = j->g;
    const size_t M = g->oh * g->ow, R = g->kh * g->kw * g->c, K = g->k, in_size = g->h * g->w * g->c;
    const size_t Rg = group_rows(g), Kg = K / g->groups;
    size_t first, nb = block_images(g, blk, &first), L = nb * M;
    float *colT = cpu_scratch_of(j->bctx, thread), *dzT = colT + R * L, *dcolT = dzT + K * L;
    float *planes = dcolT + R * L;
    if (j->t) {
        backward_wide(j, blk, first, nb, colT);
        return;
    }
    to_planes(j->dz + first * M * K, L, K, dzT, L);
    if (j->dw_parts) {
        for (size_t b = 0; b < nb; b++)
            image_to_cols(g, j->x + (first + b) * in_size, planes, colT + b * M, L);
        /* dw (Rg, K): each group's rows against its own filters' columns. */
        for (size_t gr = 0; gr < g->groups; gr++) {
            cpu_rows cols = {.base = colT + gr * Rg * L, .n = Rg, .ld = L};
            cpu_dots(j->dw_parts + blk * Rg * K + gr * Kg, K, &cols, dzT + gr * Kg * L, L, Kg, L, 1, 0, 0);
        }
    }
    if (j->dx) {
        for (size_t gr = 0; gr < g->groups; gr++) {
            cpu_combination dc = {.rows = {.base = dzT + gr * Kg * L, .n = Kg, .ld = L}, .coef = j->w + gr * Kg,
                                  .coef_r = 1, .coef_o = K};
            cpu_combine_rows(&dc, Rg, L, dcolT + gr * Rg * L, L);
        }
        for (size_t b = 0; b < nb; b++) {
            memset(planes, 0, in_size * sizeof *planes);
            col2im_t_add(g, dcolT + b * M, L, planes);
            planes_to_pixels(planes, g->c, g->h * g->w, g->h, g->w, g->w, pixel_indices(g, colT),
                             j->dx + (first + b) * in_size);
        }
    }
}

int cpu_conv_backward(void *bctx, const conv_geom *g, const clcnn_buf *dzb, const clcnn_buf *xb, const clcnn_buf *wb,
                      clcnn_buf *dxb, clcnn_buf *dwb, clcnn_buf *dbb)
{
    const float *dz = CF32(dzb);
    float *dx = F32(dxb), *dw = F32(dwb), *db = F32(dbb);
    /* dw is (kh*kw*c/groups, K) */
    const size_t M = g->oh * g->ow, R = group_rows(g), K = g->k, blocks = block_count(g);
    int st = cpu_scratch_reserve(bctx, scratch_floats(g));
    if (st)
        return st;
    conv_geom t;
    const int wide = transposed(g, &t);
    /* The blocks' filter-gradient parts, then (wide) the flipped filters. */
    float *shared = cpu_shared_scratch(bctx, (dw ? blocks * R * K : 0) + (wide && dx ? R * K : 0));
    if (!shared && (dw || (wide && dx)))
        return CLCNN_ERR_NOMEM;
    conv_job j = {.bctx = bctx, .g = g, .x = CF32(xb), .w = CF32(wb), .dz = dz, .dx = dx,
                  .dw_parts = dw ? shared : NULL};
    if (wide) {
        j.t = &t;
        if (dx) {
            float *wt = shared + (dw ? blocks * R * K : 0);
            flip_filters(g, j.w, wt);
            j.wt = wt;
        }
    }
    cpu_parallel(bctx, blocks, backward_block, &j);
    /* Bias and filter gradients, summed in a fixed order. */
    if (db)
        cpu_column_sums(dz, g->n * M, K, db);
    if (dw) {
        memset(dw, 0, R * K * sizeof *dw);
        for (size_t b = 0; b < blocks; b++)
            for (size_t i = 0; i < R * K; i++)
                dw[i] += j.dw_parts[b * R * K + i];
    }
    return CLCNN_OK;
}
