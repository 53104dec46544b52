/*
 * The inner kernels of the convolution and dense layers: both keep
 * their partial sums in registers (fixed-size blocks the compiler unrolls and
 * vectorises) and add in a fixed order, so results do not depend on threads.
 */
#include "cpu.h"

/* Each block size gets its own unrolled, vectorised copy of the block code. */
#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

/* Columns one pass of cpu_combine_rows keeps in registers for each of its
 * two outputs, then the narrower passes that finish a row. */
#define WIDE 48
#define NARROW 16

/* Columns [m0, m0 + B) of outputs o0 and o1 (which may be the same), to
 * out0[0, B) and out1[0, B). */
static ALWAYS_INLINE void combine_block(const cpu_combination *cb, size_t o0, size_t o1, size_t m0, size_t B,
                                        float *restrict out0, float *restrict out1)
{
    const float *restrict coef = cb->coef;
    const float b0 = cb->bias ? cb->bias[o0] : 0.0f, b1 = cb->bias ? cb->bias[o1] : 0.0f;
    float acc[2 * WIDE];
    for (size_t i = 0; i < B; i++) {
        acc[i] = b0;
        acc[WIDE + i] = b1;
    }
    const size_t n1 = cb->n1 ? cb->n1 : 1, n2 = cb->n2 ? cb->n2 : 1;
    const float *restrict c0s = coef + o0 * cb->coef_o, *restrict c1s = coef + o1 * cb->coef_o;
    for (size_t r0 = 0, r = 0; r0 < cb->nrows; r0++)
        for (size_t r1 = 0; r1 < n1; r1++)
            for (size_t r2 = 0; r2 < n2; r2++, r++) {
                const float c0 = c0s[r * cb->coef_r], c1 = c1s[r * cb->coef_r];
                const float *restrict row = cb->rows + r0 * cb->ld + r1 * cb->ld1 + r2 * cb->ld2 + m0;
                for (size_t i = 0; i < B; i++) {
                    acc[i] += c0 * row[i];
                    acc[WIDE + i] += c1 * row[i];
                }
            }
    for (size_t i = 0; i < B; i++) {
        out0[i] = acc[i];
        out1[i] = acc[WIDE + i];
    }
}

void cpu_combine_rows(const cpu_combination *cb, size_t nout, size_t M, float *out, size_t ldo)
{
    float spare[WIDE];
    for (size_t o0 = 0; o0 < nout; o0 += 2) {
        /* An odd last output is computed twice; the copy goes to spare. */
        const int pair = o0 + 1 < nout;
        size_t o1 = pair ? o0 + 1 : o0;
        float *out0 = out + o0 * ldo, *out1 = out + o1 * ldo;
        size_t m = 0;
        for (; m + WIDE <= M; m += WIDE)
            combine_block(cb, o0, o1, m, WIDE, out0 + m, pair ? out1 + m : spare);
        for (; m + NARROW <= M; m += NARROW)
            combine_block(cb, o0, o1, m, NARROW, out0 + m, pair ? out1 + m : spare);
        if (m < M)
            combine_block(cb, o0, o1, m, M - m, out0 + m, pair ? out1 + m : spare);
    }
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
