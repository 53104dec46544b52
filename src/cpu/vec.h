/* Vectors of VEC floats for the CPU kernels' sums: GCC and Clang's vector
 * types, which they keep in registers (a float array indexed by a run-time
 * offset, or one only partly used, is not always kept there); elsewhere a
 * struct of floats.  Each lane is its own sum, so the width changes no
 * result.  Vectors are never passed or returned by value, whose ABI depends
 * on the build's instruction set. */
#ifndef CLCNN_CPU_VEC_H
#define CLCNN_CPU_VEC_H

#include <string.h>

#include "cpu.h"

#define VEC CPU_VEC

#if defined(__GNUC__)
typedef float cpu_vec __attribute__((vector_size(VEC * sizeof(float))));
#define VEC_LANE(v, i) ((*(v))[i])
/* *acc += c * x */
static ALWAYS_INLINE void vec_madd(cpu_vec *acc, float c, const cpu_vec *x)
{
    *acc += c * *x;
}
/* *acc += *x */
static ALWAYS_INLINE void vec_add(cpu_vec *acc, const cpu_vec *x)
{
    *acc += *x;
}
#else
typedef struct {
    float f[VEC];
} cpu_vec;
#define VEC_LANE(v, i) ((v)->f[i])
static ALWAYS_INLINE void vec_add(cpu_vec *acc, const cpu_vec *x)
{
    for (size_t i = 0; i < VEC; i++)
        acc->f[i] += x->f[i];
}
static ALWAYS_INLINE void vec_madd(cpu_vec *acc, float c, const cpu_vec *x)
{
    for (size_t i = 0; i < VEC; i++)
        acc->f[i] += c * x->f[i];
}
#endif

/* Every lane of v = s. */
static ALWAYS_INLINE void vec_fill(cpu_vec *v, float s)
{
#if defined(__GNUC__)
    *v = s - (cpu_vec){0.0f}; /* s itself, -0 included (0 + s would be +0) */
#else
    for (size_t i = 0; i < VEC; i++)
        v->f[i] = s;
#endif
}

/* v = the n <= VEC floats at p (an unaligned load), the rest 0. */
static ALWAYS_INLINE void vec_load(cpu_vec *v, const float *p, size_t n)
{
    if (n < VEC)
        vec_fill(v, 0.0f);
    memcpy(v, p, n * sizeof(float));
}

#endif
