/*
 * Direct convolution over output channels, for layers with at least a
 * vector of filters per group: VEC output channels of a pixel are one
 * vector of sums, and each tap (p, q, c) broadcasts one input value against
 * a vector of filter weights (w is (kh, kw, c/groups, k), contiguous in k).
 * The output is written as pixels (oh, ow, k) with nothing rearranged, and
 * no column is computed only to be dropped (the wide path computes
 * (kw - 1)*dw extra columns per output row, im2col copies every tap).
 * Each sum starts at the bias and adds the taps in the filters' row order,
 * (p*kw + q)*Cg + c, the other paths' order: the values are theirs, bit for
 * bit.
 */
#include "vec.h"

/* Pixels of an output row per block at most: as many sums, one vector
 * each, in registers beside the filters' vector.  Each broadcast input
 * value feeds one multiply-add, so the loads bound a block. */
#define PIX 12

int cpu_conv_direct_fits(const conv_geom *g)
{
    return g->k / g->groups >= VEC;
}

/* Rows and columns of the padded input that the taps read. */
static size_t reach_h(const conv_geom *g)
{
    return (g->oh - 1) * g->sh + (g->kh - 1) * g->dh + 1;
}

static size_t reach_w(const conv_geom *g)
{
    return (g->ow - 1) * g->sw + (g->kw - 1) * g->dw + 1;
}

/* Whether the taps read padding: then the image is copied, zero-padded. */
static int reads_pads(const conv_geom *g)
{
    return g->pad_top || g->pad_left || reach_h(g) > g->h || reach_w(g) > g->w;
}

size_t cpu_conv_direct_floats(const conv_geom *g)
{
    return reads_pads(g) ? reach_h(g) * reach_w(g) * g->c : 0;
}

/* Image x (h, w, c) as the input the taps read: x itself, or x zero-padded
 * into padded; *pitch: its floats per row. */
static const float *tap_input(const conv_geom *g, const float *x, float *padded, size_t *pitch)
{
    const size_t C = g->c, Hp = reach_h(g), Wp = reach_w(g);
    if (!reads_pads(g)) {
        *pitch = g->w * C;
        return x;
    }
    memset(padded, 0, Hp * Wp * C * sizeof *padded);
    const size_t rows = g->pad_top < Hp ? Hp - g->pad_top : 0, cols = g->pad_left < Wp ? Wp - g->pad_left : 0;
    for (size_t r = 0; r < g->h && r < rows; r++)
        memcpy(padded + ((r + g->pad_top) * Wp + g->pad_left) * C, x + r * g->w * C,
               (g->w < cols ? g->w : cols) * C * sizeof *padded);
    *pitch = Wp * C;
    return padded;
}

/* The sums of P pixels of output row i from column j0, channels
 * [k0, k0 + VEC) (of group gr), into y (oh, ow, k); xp: the tap input,
 * pitch floats per row.  P is a constant where it is inlined. */
static ALWAYS_INLINE void pixel_block(const conv_geom *g, const float *restrict xp, size_t pitch,
                                      const float *restrict w, const float *restrict b, size_t i, size_t j0,
                                      size_t P, size_t gr, size_t k0, float *restrict y)
{
    const size_t C = g->c, K = g->k, Cg = C / g->groups, step = g->sw * C;
    cpu_vec acc[PIX];
    for (size_t n = 0; n < P; n++) {
        if (b)
            vec_load(&acc[n], b + k0, VEC);
        else
            vec_fill(&acc[n], 0.0f);
    }
    for (size_t p = 0; p < g->kh; p++)
        for (size_t q = 0; q < g->kw; q++) {
            const float *restrict xr = xp + (i * g->sh + p * g->dh) * pitch + (j0 * g->sw + q * g->dw) * C + gr * Cg;
            const float *restrict wr = w + (p * g->kw + q) * Cg * K + k0;
            for (size_t c = 0; c < Cg; c++) {
                cpu_vec wv;
                vec_load(&wv, wr + c * K, VEC);
                for (size_t n = 0; n < P; n++)
                    vec_madd(&acc[n], xr[n * step + c], &wv);
            }
        }
    for (size_t n = 0; n < P; n++)
        memcpy(y + (i * g->ow + j0 + n) * K + k0, &acc[n], sizeof acc[n]);
}

/* Output row i of channels [k0, k0 + VEC): ceil(ow / PIX) blocks of equal
 * width, the last one ending at the row's end (overlapping the one before
 * it where ow is not a multiple of the width: the same sums, written
 * twice). */
static void pixel_row(const conv_geom *g, const float *xp, size_t pitch, const float *w, const float *b, size_t i,
                      size_t gr, size_t k0, float *y)
{
    const size_t blocks = (g->ow + PIX - 1) / PIX, P = (g->ow + blocks - 1) / blocks;
    for (size_t bl = 0; bl < blocks; bl++) {
        const size_t j0 = (bl + 1) * P <= g->ow ? bl * P : g->ow - P;
        switch (P) {
#define PIXEL_BLOCK(n)                                                                                            \
    case n:                                                                                                       \
        pixel_block(g, xp, pitch, w, b, i, j0, n, gr, k0, y);                                                     \
        break;
            PIXEL_BLOCK(1)
            PIXEL_BLOCK(2)
            PIXEL_BLOCK(3)
            PIXEL_BLOCK(4)
            PIXEL_BLOCK(5)
            PIXEL_BLOCK(6)
            PIXEL_BLOCK(7)
            PIXEL_BLOCK(8)
            PIXEL_BLOCK(9)
            PIXEL_BLOCK(10)
            PIXEL_BLOCK(11)
            PIXEL_BLOCK(12)
#undef PIXEL_BLOCK
        }
    }
}

void cpu_conv_direct(const conv_geom *g, const float *x, const float *w, const float *b, float *y, float *scratch)
{
    const size_t Kg = g->k / g->groups;
    size_t pitch;
    const float *xp = tap_input(g, x, scratch, &pitch);
    for (size_t gr = 0; gr < g->groups; gr++)
        for (size_t v = 0; v * VEC < Kg; v++) {
            /* the group's last vector ends at its last channel */
            const size_t k0 = gr * Kg + ((v + 1) * VEC <= Kg ? v * VEC : Kg - VEC);
            for (size_t i = 0; i < g->oh; i++)
                pixel_row(g, xp, pitch, w, b, i, gr, k0, y);
        }
}
