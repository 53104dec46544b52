/*
 * clcnn bench's child processes.  Each backend runs in its own child
 * (fork), so that its peak resident memory (ru_maxrss from wait4) is its
 * own and a crash or a missing device stays contained; the child sends its
 * figures back through a pipe.  Start-up is measured in further fresh
 * children, one context creation each.  The parent itself never touches a
 * device, so forking stays safe.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w, n -= (size_t)w;
    }
    return 0;
}

static size_t read_all(int fd, void *p, size_t n)
{
    char *c = p;
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, c + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    return got;
}

typedef void (*child_fn)(void *arg, void *out, size_t len);

/* Runs fn in a child process; out receives what it wrote (len bytes).
 * Returns 0 when the child delivered everything and exited normally. */
static int in_child(child_fn fn, void *arg, void *out, size_t len, struct rusage *ru, char *why, size_t why_len)
{
    int fds[2];
    if (pipe(fds) != 0) {
        snprintf(why, why_len, "pipe: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, why_len, "fork: %s", strerror(errno));
        close(fds[0]), close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        fn(arg, out, len);
        int rc = write_all(fds[1], out, len) ? 1 : 0;
        fflush(NULL);
        _exit(rc);
    }
    close(fds[1]);
    size_t got = read_all(fds[0], out, len);
    close(fds[0]);
    int status = 0;
    struct rusage local;
    while (wait4(pid, &status, 0, ru ? ru : &local) < 0) {
        if (errno != EINTR) {
            snprintf(why, why_len, "wait4: %s", strerror(errno));
            return -1;
        }
    }
    if (WIFSIGNALED(status)) {
        snprintf(why, why_len, "the benchmark process died of signal %d", WTERMSIG(status));
        return -1;
    }
    if (got != len || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(why, why_len, "the benchmark process ended early (exit status %d)",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return -1;
    }
    return 0;
}

typedef struct backend_job {
    const char *device;
    const bench_config *cfg;
} backend_job;

static void backend_child(void *arg, void *out, size_t len)
{
    const backend_job *j = arg;
    (void)len;
    bench_run_backend(j->device, j->cfg, out);
}

int bench_backend_in_child(const char *device, const bench_config *cfg, bench_result *r, struct rusage *ru,
                           char *why, size_t why_len)
{
    backend_job job = {device, cfg};
    return in_child(backend_child, &job, r, sizeof *r, ru, why, why_len);
}

typedef struct startup_job {
    const char *device, *cache_dir;
} startup_job;

typedef struct startup_result {
    double seconds; /* negative: failed, with the reason in error */
    char error[256];
} startup_result;

/* One context creation with the kernel cache in cache_dir.  PoCL keeps a
 * binary cache of its own; it goes in the same directory, so that "cold"
 * means cold for the whole stack. */
static void startup_child(void *arg, void *out, size_t len)
{
    const startup_job *j = arg;
    startup_result *r = out;
    (void)len;
    char pocl[4200];
    snprintf(pocl, sizeof pocl, "%.4000s/pocl", j->cache_dir);
    setenv("CLCNN_CACHE_DIR", j->cache_dir, 1);
    setenv("POCL_CACHE_DIR", pocl, 1);
    r->seconds = bench_time_ctx_create(j->device, r->error, sizeof r->error);
}

/* rm -r of a temporary directory we made (no symbolic links followed). */
static void remove_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                    continue;
                char sub[4096];
                if ((size_t)snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) < sizeof sub)
                    remove_tree(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

int bench_startup(const char *device, const bench_config *cfg, bench_result *r, char *why, size_t why_len)
{
    size_t n = cfg->repeats;
    double *cold = calloc(n, sizeof *cold), *warm = calloc(n, sizeof *warm);
    int rc = 0;
    if (!cold || !warm) {
        snprintf(why, why_len, "out of memory");
        rc = -1;
    }
    const char *tmp = getenv("TMPDIR");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/clcnn-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) {
            snprintf(why, why_len, "cannot make a temporary directory: %s", strerror(errno));
            rc = -1;
            break;
        }
        startup_job j = {device, dir};
        startup_result sr[2];
        memset(sr, 0, sizeof sr);
        for (int k = 0; rc == 0 && k < 2; k++) {
            if (in_child(startup_child, &j, &sr[k], sizeof sr[k], NULL, why, why_len))
                rc = -1;
            else if (sr[k].seconds < 0) {
                snprintf(why, why_len, "%s", sr[k].error);
                rc = -1;
            }
        }
        remove_tree(dir);
        if (rc == 0)
            cold[i] = 1e3 * sr[0].seconds, warm[i] = 1e3 * sr[1].seconds;
    }
    if (rc == 0) {
        r->startup_cold_ms = bench_median(cold, n);
        r->startup_warm_ms = bench_median(warm, n);
    }
    free(cold);
    free(warm);
    return rc;
}
