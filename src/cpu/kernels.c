/*
 * The inner kernels of the convolution and dense layers: both keep
 * their partial sums in registers (fixed-size blocks the compiler unrolls and
 * vectorises) and add in a fixed order, so results do not depend on threads.
 */
#include "vec.h"

/* cpu_combine_rows works on blocks of OUTS outputs by up to NV vectors of
 * VEC columns: for every row it loads the block's vectors once and
 * broadcasts one coefficient per output, so each load feeds OUTS fused
 * multiply-adds (8 outputs x 3 vectors on AVX-512: 24 accumulators, which
 * keep both FMA pipes busy; GCC 12 holds the 8 coefficients in registers
 * too and spills one sum, and the block still ran a little faster than
 * 4 x 3, bench/README.md).  A row's last columns are a
 * block that overlaps the one before it rather than a narrower one: every
 * column is computed alone, in the same order, so the overlap rewrites the
 * same values, and no variable-width loop (which compilers vectorise badly)
 * is left but for rows shorter than a vector. */
#if defined(__AVX512F__)
#define OUTS 8 /* 8 x NV sums: 24 of the 32 registers */
#else
#define OUTS 4 /* 12 of 16 */
#endif
#define NV 3

/* Floats of vector v of a block of B columns: VEC, but for a block
 * narrower than a vector. */
static ALWAYS_INLINE size_t vec_width(size_t B, size_t v)
{
    return B - v * VEC < VEC ? B - v * VEC : VEC;
}

/* acc[a][v] += c[a * coef_o] * row[v] for the block's O outputs and B
 * columns in V vectors. */
static ALWAYS_INLINE void add_row(cpu_vec acc[OUTS][NV], const float *restrict c, size_t coef_o, size_t O,
                                  const float *restrict row, size_t V, size_t B)
{
    for (size_t v = 0; v < V; v++) {
        cpu_vec x;
        vec_load(&x, row + v * VEC, vec_width(B, v));
        for (size_t a = 0; a < O; a++)
            vec_madd(&acc[a][v], c[a * coef_o], &x);
    }
}

/* Columns [m0, m0 + B) of outputs [o0, o0 + O) into out (row stride ldo):
 * V = B / VEC vectors, or one for B < VEC.  O, V and B are constants where
 * it is inlined, V <= NV, O <= OUTS. */
static ALWAYS_INLINE void combine_block(const cpu_combination *cb, size_t o0, size_t O, size_t m0, size_t V,
                                        size_t B, float *restrict out, size_t ldo)
{
    const float *restrict coef = cb->coef + o0 * cb->coef_o;
    cpu_vec acc[OUTS][NV];
    for (size_t a = 0; a < O; a++)
        for (size_t v = 0; v < V; v++) {
            if (cb->bias_cols)
                vec_load(&acc[a][v], cb->bias_cols + m0 + v * VEC, vec_width(B, v));
            else
                vec_fill(&acc[a][v], cb->bias ? cb->bias[o0 + a] : 0.0f);
        }
    const cpu_rows *g = &cb->rows;
    const size_t n1 = g->n1 ? g->n1 : 1, n2 = g->n2 ? g->n2 : 1;
    if (O == 1 && n1 == 1 && n2 == 1) {
        /* One output of a flat list of rows (a batch-1 dense layer): its
         * FMAs are the loop's only work, so the loop is kept to one level
         * (three levels of counters cost more than the FMAs they feed). */
        const float *restrict row = g->base + m0;
        for (size_t r = 0; r < g->n; r++, row += g->ld)
            add_row(acc, coef + r * cb->coef_r, cb->coef_o, O, row, V, B);
    } else {
        for (size_t r0 = 0, r = 0; r0 < g->n; r0++)
            for (size_t r1 = 0; r1 < n1; r1++)
                for (size_t r2 = 0; r2 < n2; r2++, r++)
                    add_row(acc, coef + r * cb->coef_r, cb->coef_o, O,
                            g->base + r0 * g->ld + r1 * g->ld1 + r2 * g->ld2 + m0, V, B);
    }
    for (size_t a = 0; a < O; a++)
        for (size_t v = 0; v < V; v++)
            memcpy(out + (o0 + a) * ldo + m0 + v * VEC, &acc[a][v], vec_width(B, v) * sizeof(float));
}

/* All columns of outputs [o0, o0 + O). */
static ALWAYS_INLINE void combine_outputs(const cpu_combination *cb, size_t o0, size_t O, size_t M, float *out,
                                          size_t ldo)
{
    if (M < VEC) {
        combine_block(cb, o0, O, 0, 1, M, out, ldo);
        return;
    }
    size_t m = 0;
    for (; m + NV * VEC <= M; m += NV * VEC)
        combine_block(cb, o0, O, m, NV, NV * VEC, out, ldo);
    if (m + 2 * VEC <= M) {
        combine_block(cb, o0, O, m, 2, 2 * VEC, out, ldo);
        m += 2 * VEC;
    }
    if (m + VEC <= M) {
        combine_block(cb, o0, O, m, 1, VEC, out, ldo);
        m += VEC;
    }
    if (m < M)
        combine_block(cb, o0, O, M - VEC, 1, VEC, out, ldo);
}

/* One output of a flat list of rows (a batch-1 dense layer) over all its
 * columns in one pass of the rows: FLAT vectors of columns at a time, each
 * row read once into FLAT independent sums, where blocks of NV vectors
 * would read the rows once per block and chain each sum's FMAs on the one
 * before.  Vectors past the end start at the last whole one instead: the
 * same sums, written twice. */
#define FLAT 8

/* Whether a single output of cb over M columns takes combine_flat: flat
 * rows, and enough columns for most of its vectors to be distinct. */
static int flat_fits(const cpu_combination *cb, size_t M)
{
    const size_t n1 = cb->rows.n1 ? cb->rows.n1 : 1, n2 = cb->rows.n2 ? cb->rows.n2 : 1;
    return n1 == 1 && n2 == 1 && M >= FLAT * VEC / 2;
}

static void combine_flat(const cpu_combination *cb, size_t o0, size_t M, float *out)
{
    const float *coef = cb->coef + o0 * cb->coef_o;
    for (size_t m0 = 0; m0 < M; m0 += FLAT * VEC) {
        size_t off[FLAT];
        cpu_vec acc[FLAT];
        for (size_t v = 0; v < FLAT; v++) {
            off[v] = m0 + v * VEC + VEC <= M ? m0 + v * VEC : M - VEC;
            if (cb->bias_cols)
                vec_load(&acc[v], cb->bias_cols + off[v], VEC);
            else
                vec_fill(&acc[v], cb->bias ? cb->bias[o0] : 0.0f);
        }
        const float *row = cb->rows.base;
        for (size_t r = 0; r < cb->rows.n; r++, row += cb->rows.ld) {
            const float c = coef[r * cb->coef_r];
            for (size_t v = 0; v < FLAT; v++) {
                cpu_vec x;
                vec_load(&x, row + off[v], VEC);
                vec_madd(&acc[v], c, &x);
            }
        }
        for (size_t v = 0; v < FLAT; v++)
            memcpy(out + off[v], &acc[v], sizeof acc[v]);
    }
}

void cpu_combine_rows(const cpu_combination *cb, size_t nout, size_t M, float *out, size_t ldo)
{
    size_t o = 0;
    for (; o + OUTS <= nout; o += OUTS)
        combine_outputs(cb, o, OUTS, M, out, ldo);
#if OUTS > 6 /* blocks of at most OUTS outputs: the sums are sized for them */
    if (o + 6 <= nout) {
        combine_outputs(cb, o, 6, M, out, ldo);
        o += 6;
    }
    if (o + 4 <= nout) {
        combine_outputs(cb, o, 4, M, out, ldo);
        o += 4;
    }
#endif
    if (o + 2 <= nout) {
        combine_outputs(cb, o, 2, M, out, ldo);
        o += 2;
    }
    if (o < nout && flat_fits(cb, M))
        combine_flat(cb, o, M, out + o * ldo);
    else if (o < nout)
        combine_outputs(cb, o, 1, M, out, ldo);
}

/* Rows of A and of B per tile of cpu_dots (the tile's sixteen sums are
 * written out one by one below: named pointers and a flat array are what
 * lets compilers keep them in vector registers), and the lanes of each
 * (CPU_DOTS_LANES). */
#define TA 4
#define TB 4
#define LANES CPU_DOTS_LANES

void cpu_dots(float *restrict c, size_t ldc, const cpu_rows *A, const float *B, size_t ldb, size_t nb, size_t len,
              size_t segs, size_t seg_a, size_t seg_b)
{
    const size_t na = cpu_rows_count(A), whole = len / LANES * LANES;
    for (size_t a0 = 0; a0 < na; a0 += TA)
        for (size_t b0 = 0; b0 < nb; b0 += TB) {
            /* At the edges the last row stands in for the missing ones; their
             * sums are computed and dropped. */
            const float *ar[TA], *br[TB];
            for (size_t i = 0; i < TA; i++)
                ar[i] = cpu_row(A, a0 + i < na ? a0 + i : na - 1);
            for (size_t j = 0; j < TB; j++)
                br[j] = B + (b0 + j < nb ? b0 + j : nb - 1) * ldb;
            float acc[TA * TB * LANES] = {0.0f};
            for (size_t sg = 0; sg < segs; sg++) {
                const float *restrict a_0 = ar[0] + sg * seg_a, *restrict a_1 = ar[1] + sg * seg_a,
                                      *restrict a_2 = ar[2] + sg * seg_a, *restrict a_3 = ar[3] + sg * seg_a;
                const float *restrict b_0 = br[0] + sg * seg_b, *restrict b_1 = br[1] + sg * seg_b,
                                      *restrict b_2 = br[2] + sg * seg_b, *restrict b_3 = br[3] + sg * seg_b;
                for (size_t t = 0; t < whole; t += LANES)
                    for (size_t l = 0; l < LANES; l++) {
                        acc[0 * LANES + l] += a_0[t + l] * b_0[t + l];
                        acc[1 * LANES + l] += a_0[t + l] * b_1[t + l];
                        acc[2 * LANES + l] += a_0[t + l] * b_2[t + l];
                        acc[3 * LANES + l] += a_0[t + l] * b_3[t + l];
                        acc[4 * LANES + l] += a_1[t + l] * b_0[t + l];
                        acc[5 * LANES + l] += a_1[t + l] * b_1[t + l];
                        acc[6 * LANES + l] += a_1[t + l] * b_2[t + l];
                        acc[7 * LANES + l] += a_1[t + l] * b_3[t + l];
                        acc[8 * LANES + l] += a_2[t + l] * b_0[t + l];
                        acc[9 * LANES + l] += a_2[t + l] * b_1[t + l];
                        acc[10 * LANES + l] += a_2[t + l] * b_2[t + l];
                        acc[11 * LANES + l] += a_2[t + l] * b_3[t + l];
                        acc[12 * LANES + l] += a_3[t + l] * b_0[t + l];
                        acc[13 * LANES + l] += a_3[t + l] * b_1[t + l];
                        acc[14 * LANES + l] += a_3[t + l] * b_2[t + l];
                        acc[15 * LANES + l] += a_3[t + l] * b_3[t + l];
                    }
            }
            /* The lanes, then every segment's last len % LANES products:
             * each sum in that order, the tile's 16 side by side (one
             * after another, each would wait on its own chain of adds). */
            float s[TA * TB] = {0.0f};
            for (size_t l = 0; l < LANES; l++)
                for (size_t ij = 0; ij < TA * TB; ij++)
                    s[ij] += acc[ij * LANES + l];
            for (size_t sg = 0; sg < segs; sg++)
                for (size_t u = whole; u < len; u++)
                    for (size_t i = 0; i < TA; i++)
                        for (size_t j = 0; j < TB; j++)
                            s[i * TB + j] += ar[i][sg * seg_a + u] * br[j][sg * seg_b + u];
            for (size_t i = 0; i < TA && a0 + i < na; i++)
                for (size_t j = 0; j < TB && b0 + j < nb; j++)
                    c[(a0 + i) * ldc + b0 + j] = s[i * TB + j];
        }
}

void cpu_column_sums(const float *restrict x, size_t rows, size_t cols, float *restrict sums)
{
    const size_t total = rows * cols, width = cols < VEC ? cols : VEC;
    for (size_t c0 = 0; c0 < cols; c0 += VEC) {
        /* The vector's first column: the last vector ends at the last
         * column; with fewer columns than a vector, its other lanes add
         * the next row's values and are dropped. */
        const size_t at = c0 + VEC <= cols || cols < VEC ? c0 : cols - VEC;
        cpu_vec s;
        vec_fill(&s, 0.0f);
        size_t r = 0;
        for (; r < rows && r * cols + at + VEC <= total; r++) {
            cpu_vec v;
            vec_load(&v, x + r * cols + at, VEC);
            vec_add(&s, &v);
        }
        float lanes[VEC];
        memcpy(lanes, &s, sizeof lanes);
        for (; r < rows; r++) /* the last rows, whose vector would read past x */
            for (size_t u = 0; u < width; u++)
                lanes[u] += x[r * cols + at + u];
        memcpy(sums + at, lanes, width * sizeof *sums);
    }
}
