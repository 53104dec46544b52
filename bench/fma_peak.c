/* The machine's FP32 peak: independent chains of vector FMAs (enough of
 * them to cover the FMA latency), one thread per online CPU, at the widest
 * vector width the processor has (AVX-512, AVX2+FMA, or scalar fmaf),
 * timed by each thread's CPU time.
 * Prints one JSON object for bench/compare.py. */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define CHAINS 12
/* The chains must live in registers at any optimisation level. */
#if defined(__GNUC__) && !defined(__clang__)
#define UNROLL _Pragma("GCC unroll 16")
#else
#define UNROLL
#endif
#define ITERS 20000000L

typedef double (*loop_fn)(long iters, float seed);

/* The thread's own CPU time: on a shared machine the wall clock would
 * count the time slices other processes took. */
static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
__attribute__((target("avx512f"))) static double loop_avx512(long iters, float seed)
{
    __m512 acc[CHAINS];
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int c = 0; c < CHAINS; c++)
        acc[c] = _mm512_set1_ps(seed + (float)c);
    for (long i = 0; i < iters; i++)
        UNROLL
        for (int c = 0; c < CHAINS; c++)
            acc[c] = _mm512_fmadd_ps(acc[c], a, b);
    float s = 0.0f;
    for (int c = 0; c < CHAINS; c++)
        s += _mm512_reduce_add_ps(acc[c]);
    return s;
}

__attribute__((target("avx2,fma"))) static double loop_avx2(long iters, float seed)
{
    __m256 acc[CHAINS];
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (int c = 0; c < CHAINS; c++)
        acc[c] = _mm256_set1_ps(seed + (float)c);
    for (long i = 0; i < iters; i++)
        UNROLL
        for (int c = 0; c < CHAINS; c++)
            acc[c] = _mm256_fmadd_ps(acc[c], a, b);
    float out[8], s = 0.0f;
    for (int c = 0; c < CHAINS; c++) {
        _mm256_storeu_ps(out, acc[c]);
        for (int j = 0; j < 8; j++)
            s += out[j];
    }
    return s;
}
#endif

static double loop_scalar(long iters, float seed)
{
    float acc[CHAINS];
    for (int c = 0; c < CHAINS; c++)
        acc[c] = seed + (float)c;
    for (long i = 0; i < iters; i++)
        UNROLL
        for (int c = 0; c < CHAINS; c++)
            acc[c] = fmaf(acc[c], 0.999999f, 1e-7f);
    float s = 0.0f;
    for (int c = 0; c < CHAINS; c++)
        s += acc[c];
    return s;
}

typedef struct job {
    loop_fn fn;
    long iters;
    double seconds, sink;
} job;

static void *run_job(void *p)
{
    job *j = p;
    const double t0 = now();
    j->sink = j->fn(j->iters, 1.0f);
    j->seconds = now() - t0;
    return NULL;
}

/* GFLOP per CPU-second summed over `threads` threads each running the
 * loop, best of 3. */
static double measure(loop_fn fn, int width, int threads)
{
    double best = 0.0;
    for (int rep = 0; rep < 3; rep++) {
        job jobs[64];
        pthread_t tid[64];
        int started = 0;
        for (int t = 0; t < threads; t++) {
            jobs[t] = (job){fn, ITERS / width * 4, 0.0, 0.0};
            if (pthread_create(&tid[t], NULL, run_job, &jobs[t]) == 0)
                started++;
            else
                break;
        }
        double rate = 0.0;
        for (int t = 0; t < started; t++) {
            pthread_join(tid[t], NULL);
            if (jobs[t].seconds > 0.0)
                rate += 2.0 * CHAINS * width * (double)jobs[t].iters / jobs[t].seconds / 1e9;
        }
        if (rate > best)
            best = rate;
    }
    return best;
}

int main(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1)
        cores = 1;
    if (cores > 64)
        cores = 64;
    loop_fn fn = loop_scalar;
    int width = 1;
    const char *isa = "scalar fmaf";
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        fn = loop_avx512, width = 16, isa = "AVX-512 FMA";
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        fn = loop_avx2, width = 8, isa = "AVX2 FMA";
    }
#endif
    const double one = measure(fn, width, 1);
    const double all = measure(fn, width, (int)cores);
    printf("{\"isa\": \"%s\", \"cores\": %ld, \"per_core\": %.2f, \"all\": %.2f}\n", isa, cores, one, all);
    return 0;
}
