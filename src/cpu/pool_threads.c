#include "pool_threads.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

struct cpu_pool {
    int threads;
    pthread_t *workers;
    pthread_mutex_t lock;
    pthread_cond_t wake, done;
    unsigned long generation; /* bumped for every job */
    int busy;                 /* workers still on the current job */
    int quit;
    /* the current job */
    cpu_task_fn fn;
    void *arg;
    size_t count;
    atomic_size_t next;
};

/* Takes indices of the current job until none are left. */
static void work(cpu_pool *p, int thread)
{
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->count)
            return;
        p->fn(p->arg, i, thread);
    }
}

typedef struct worker_start {
    cpu_pool *pool;
    int thread;
} worker_start;

static void *worker_main(void *v)
{
    worker_start *ws = v;
    cpu_pool *p = ws->pool;
    int thread = ws->thread;
    free(ws);
    unsigned long seen = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->quit && p->generation == seen)
            pthread_cond_wait(&p->wake, &p->lock);
        if (p->quit)
            break;
        seen = p->generation;
        pthread_mutex_unlock(&p->lock);
        work(p, thread);
        pthread_mutex_lock(&p->lock);
        if (--p->busy == 0)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int cpu_pool_create(cpu_pool **out, int threads)
{
    *out = NULL;
    cpu_pool *p = calloc(1, sizeof *p);
    if (!p)
        return -1;
    p->threads = 1;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    p->workers = calloc((size_t)(threads > 1 ? threads - 1 : 1), sizeof *p->workers);
    if (!p->workers) {
        cpu_pool_free(p);
        return -1;
    }
    /* A worker that cannot be started leaves a smaller pool, not a failure. */
    for (int t = 1; t < threads; t++) {
        worker_start *ws = malloc(sizeof *ws);
        if (!ws)
            break;
        ws->pool = p;
        ws->thread = t;
        if (pthread_create(&p->workers[t - 1], NULL, worker_main, ws) != 0) {
            free(ws);
            break;
        }
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
    p->quit = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    for (int t = 1; t < p->threads; t++)
        pthread_join(p->workers[t - 1], NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p->workers);
    free(p);
}

void cpu_pool_run(cpu_pool *p, size_t count, cpu_task_fn fn, void *arg)
{
    if (p->threads == 1 || count <= 1) {
        for (size_t i = 0; i < count; i++)
            fn(arg, i, 0);
        return;
    }
    pthread_mutex_lock(&p->lock);
    p->fn = fn;
    p->arg = arg;
    p->count = count;
    atomic_store(&p->next, 0);
    p->busy = p->threads - 1;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    work(p, 0);
    pthread_mutex_lock(&p->lock);
    while (p->busy > 0)
        pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
}
