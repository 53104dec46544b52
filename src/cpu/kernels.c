/*
 * The two inner kernels every layer's matrix work goes through.  Both keep
 * their partial sums in registers (fixed-size blocks the compiler unrolls and
 * vectorises) and add in a fixed order, so results do not depend on threads.
 */
#include "cpu.h"

/* Outputs one weighted_rows pass keeps in registers. */
#define WIDE 64
#define NARROW 16

static inline __attribute__((always_inline)) void rows_block(float *restrict out, size_t B, const float *restrict rows,
                                                             size_t ld, size_t nrows, const float *restrict coef,
                                                             size_t coef_stride, const float *restrict init,
                                                             size_t init_stride)
{
    float acc[WIDE];
    for (size_t i = 0; i < B; i++)
        acc[i] = init ? init[i * init_stride] : 0.0f;
    for (size_t r = 0; r < nrows; r++) {
        const float c = coef[r * coef_stride];
        const float *restrict row = rows + r * ld;
        for (size_t i = 0; i < B; i++)
            acc[i] += c * row[i];
    }
    for (size_t i = 0; i < B; i++)
        out[i] = acc[i];
}

void cpu_weighted_rows(float *restrict out, size_t M, const float *restrict rows, size_t ld, size_t nrows,
                       const float *restrict coef, size_t coef_stride, const float *restrict init, size_t init_stride)
{
    size_t m = 0;
    for (; m + WIDE <= M; m += WIDE)
        rows_block(out + m, WIDE, rows + m, ld, nrows, coef, coef_stride, init ? init + m * init_stride : NULL,
                   init_stride);
    for (; m + NARROW <= M; m += NARROW)
        rows_block(out + m, NARROW, rows + m, ld, nrows, coef, coef_stride, init ? init + m * init_stride : NULL,
                   init_stride);
    if (m < M)
        rows_block(out + m, M - m, rows + m, ld, nrows, coef, coef_stride, init ? init + m * init_stride : NULL,
                   init_stride);
}

/* Rows of A and of B per tile of cpu_dots (the tile's eight sums are
 * written out one by one below: named pointers and a flat array are what
 * lets compilers keep them in vector registers), and the lanes of each. */
#define TA 4
#define TB 2
#define LANES 8

void cpu_dots(float *restrict c, size_t ldc, const float *A, size_t lda, size_t na, const float *B, size_t ldb,
              size_t nb, size_t len)
{
    for (size_t a0 = 0; a0 < na; a0 += TA)
        for (size_t b0 = 0; b0 < nb; b0 += TB) {
            /* At the edges the last row stands in for the missing ones; their
             * sums are computed and dropped. */
            const float *ar[TA], *br[TB];
            for (size_t i = 0; i < TA; i++)
                ar[i] = A + (a0 + i < na ? a0 + i : na - 1) * lda;
            for (size_t j = 0; j < TB; j++)
                br[j] = B + (b0 + j < nb ? b0 + j : nb - 1) * ldb;
            const float *restrict a_0 = ar[0], *restrict a_1 = ar[1], *restrict a_2 = ar[2], *restrict a_3 = ar[3];
            const float *restrict b_0 = br[0], *restrict b_1 = br[1];
            float acc[TA * TB * LANES] = {0.0f};
            size_t t = 0;
            for (; t + LANES <= len; t += LANES)
                for (size_t l = 0; l < LANES; l++) {
                    acc[0 * LANES + l] += a_0[t + l] * b_0[t + l];
                    acc[1 * LANES + l] += a_0[t + l] * b_1[t + l];
                    acc[2 * LANES + l] += a_1[t + l] * b_0[t + l];
                    acc[3 * LANES + l] += a_1[t + l] * b_1[t + l];
                    acc[4 * LANES + l] += a_2[t + l] * b_0[t + l];
                    acc[5 * LANES + l] += a_2[t + l] * b_1[t + l];
                    acc[6 * LANES + l] += a_3[t + l] * b_0[t + l];
                    acc[7 * LANES + l] += a_3[t + l] * b_1[t + l];
                }
            for (size_t i = 0; i < TA && a0 + i < na; i++)
                for (size_t j = 0; j < TB && b0 + j < nb; j++) {
                    float s = 0.0f;
                    for (size_t l = 0; l < LANES; l++)
                        s += acc[(i * TB + j) * LANES + l];
                    for (size_t u = t; u < len; u++)
                        s += ar[i][u] * br[j][u];
                    c[(a0 + i) * ldc + b0 + j] = s;
                }
        }
}
