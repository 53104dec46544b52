/* A small pool of worker threads for the CPU backend's parallel loops.
 * Between jobs a worker polls briefly (yielding the CPU now and then), then
 * sleeps on a condition variable, so a busy machine or an embedding
 * application's own threads are not starved the way OpenMP's long spinning
 * starves them; one pool per backend context, no process-wide state. */
#ifndef CLCNN_CPU_POOL_THREADS_H
#define CLCNN_CPU_POOL_THREADS_H

#include <stddef.h>

typedef struct cpu_pool cpu_pool;

/* Runs for one index; thread is in [0, threads) and names the caller's
 * scratch. */
typedef void (*cpu_task_fn)(void *arg, size_t index, int thread);

/* A pool of threads - 1 workers (the caller is thread 0); threads >= 1.
 * Its memory comes from alloc (clcnn_allocator; NULL: malloc), which must
 * outlive the pool.  Returns 0, or -1 when the memory cannot be had. */
struct clcnn_allocator;
int cpu_pool_create(cpu_pool **out, int threads, const struct clcnn_allocator *alloc);
void cpu_pool_free(cpu_pool *p);

/* Calls fn(arg, i, thread) once for every i < count, spread over the
 * threads (which index runs on which thread varies), and returns when all
 * are done.  With count 1 or one thread it runs on the caller alone. */
void cpu_pool_run(cpu_pool *p, size_t count, cpu_task_fn fn, void *arg);

#endif
