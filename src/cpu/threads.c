#include "threads.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "alloc.h"

/* How long a waiting thread polls before it sleeps: the next job usually
 * comes within microseconds during a training step, and a futex wake-up
 * costs more than that; the poll yields the CPU now and then, so a busy
 * machine loses little. */
#define SPIN_POLLS 4096
#define POLLS_PER_YIELD 256

typedef struct worker_start {
    cpu_pool *pool;
    int thread;
} worker_start;

/* The job's claim counter: the job's number in the high 32 bits, the next
 * index to take in the low 32.  A thread takes an index by a compare-and-
 * swap on the whole word, so it can only take one of the job it read the
 * count of; NO_INDEX marks a job being set up (nothing to take). */
#define INDEX_BITS 32
#define INDEX_MASK 0xffffffffull
#define NO_INDEX INDEX_MASK

struct cpu_pool {
    const clcnn_allocator *alloc;
    int threads;            /* started: the caller and threads - 1 workers */
    int capacity;           /* workers and starts have capacity entries */
    pthread_t *workers;
    worker_start *starts;   /* what each worker is started with */
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    atomic_ulong generation; /* bumped for every job: wakes the workers */
    atomic_int quit;
    unsigned long long job;  /* the current job's number (the caller's) */
    /* the current job */
    cpu_task_fn fn;
    void *arg;
    atomic_size_t count;
    atomic_ullong next;      /* the claim counter */
    atomic_size_t finished;  /* indices of the job done */
};

/* Takes indices of the current job until none are left.  The caller waits
 * for the indices to finish, not for every worker to call in: a worker the
 * OS holds back (a busy machine) holds no job up unless it took an index. */
static void work(cpu_pool *p, int thread)
{
    for (;;) {
        unsigned long long v = atomic_load(&p->next);
        size_t i = (size_t)(v & INDEX_MASK);
        if (i >= atomic_load(&p->count))
            return;
        if (!atomic_compare_exchange_weak(&p->next, &v, v + 1))
            continue;
        p->fn(p->arg, i, thread);
        if (atomic_fetch_add(&p->finished, 1) + 1 == atomic_load(&p->count)) {
            pthread_mutex_lock(&p->lock);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->lock);
        }
    }
}

/* Polls until cond(p) holds or the spin budget is spent; 1 if it holds. */
static int spin_until(cpu_pool *p, int (*cond)(cpu_pool *, unsigned long), unsigned long arg)
{
    for (int i = 0; i < SPIN_POLLS; i++) {
        if (cond(p, arg))
            return 1;
        if (i % POLLS_PER_YIELD == POLLS_PER_YIELD - 1)
            sched_yield();
    }
    return cond(p, arg);
}

static int new_job_or_quit(cpu_pool *p, unsigned long seen)
{
    return atomic_load(&p->generation) != seen || atomic_load(&p->quit);
}

static int all_done(cpu_pool *p, unsigned long unused)
{
    (void)unused;
    return atomic_load(&p->finished) == atomic_load(&p->count);
}

static void *worker_main(void *v)
{
    const worker_start *ws = v;
    cpu_pool *p = ws->pool;
    int thread = ws->thread;
    unsigned long seen = 0;
    for (;;) {
        if (!spin_until(p, new_job_or_quit, seen)) {
            pthread_mutex_lock(&p->lock);
            while (!new_job_or_quit(p, seen))
                pthread_cond_wait(&p->wake, &p->lock);
            pthread_mutex_unlock(&p->lock);
        }
        if (atomic_load(&p->quit))
            return NULL;
        seen = atomic_load(&p->generation);
        work(p, thread);
    }
}

int cpu_pool_create(cpu_pool **out, int threads, const clcnn_allocator *alloc)
{
    *out = NULL;
    cpu_pool *p = clcnn_mem_calloc(alloc, 1, sizeof *p);
    if (!p)
        return -1;
    p->alloc = alloc;
    p->threads = 1;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    /* Everything a worker needs is allocated here, on the caller's thread:
     * the allocator hook is never called from a worker. */
    p->capacity = threads > 1 ? threads - 1 : 1;
    p->workers = clcnn_mem_calloc(alloc, (size_t)p->capacity, sizeof *p->workers);
    p->starts = clcnn_mem_calloc(alloc, (size_t)p->capacity, sizeof *p->starts);
    if (!p->workers || !p->starts) {
        cpu_pool_free(p);
        return -1;
    }
    /* A worker that cannot be started leaves a smaller pool, not a failure. */
    for (int t = 1; t < threads; t++) {
        worker_start *ws = &p->starts[t - 1];
        ws->pool = p;
        ws->thread = t;
        if (pthread_create(&p->workers[t - 1], NULL, worker_main, ws) != 0)
            break;
        p->threads++;
    }
    *out = p;
    return 0;
}

void cpu_pool_free(cpu_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    atomic_store(&p->quit, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int t = 1; t < p->threads; t++)
        pthread_join(p->workers[t - 1], NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    clcnn_mem_free(p->alloc, p->workers, (size_t)p->capacity * sizeof *p->workers);
    clcnn_mem_free(p->alloc, p->starts, (size_t)p->capacity * sizeof *p->starts);
    clcnn_mem_free(p->alloc, p, sizeof *p);
}

void cpu_pool_run(cpu_pool *p, size_t count, cpu_task_fn fn, void *arg)
{
    if (p->threads == 1 || count <= 1 || count >= NO_INDEX) {
        for (size_t i = 0; i < count; i++)
            fn(arg, i, 0);
        return;
    }
    /* Nothing can be taken while the job is set up; then its indices from
     * 0, under its own number, after fn and arg (release: a thread that
     * takes an index sees them). */
    p->job = (p->job + 1) & INDEX_MASK;
    atomic_store(&p->next, p->job << INDEX_BITS | NO_INDEX);
    p->fn = fn;
    p->arg = arg;
    atomic_store(&p->finished, 0);
    atomic_store(&p->count, count);
    atomic_store(&p->next, p->job << INDEX_BITS);
    atomic_fetch_add(&p->generation, 1);
    pthread_mutex_lock(&p->lock);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    work(p, 0);
    if (!spin_until(p, all_done, 0)) {
        pthread_mutex_lock(&p->lock);
        while (!all_done(p, 0))
            pthread_cond_wait(&p->done, &p->lock);
        pthread_mutex_unlock(&p->lock);
    }
}
