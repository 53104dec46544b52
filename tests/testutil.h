/* Helpers shared by the Check test programs. */
#ifndef CLCNN_TESTUTIL_H
#define CLCNN_TESTUTIL_H

#include <check.h>
#include <pthread.h>
#include <stddef.h>

#include "clcnn.h"

/* The device the tests run on: CLCNN_DEVICE, default "cpu". */
const char *tu_device(void);

/* A context on the backend named by CLCNN_DEVICE (default "cpu").  When the
 * OpenCL backend is asked for and no OpenCL device exists, the test program
 * exits 77 (meson's "skipped").  Any other failure fails the test. */
clcnn_ctx *tu_ctx(void);

/* Calls clcnn_ctx_create for tu_ctx's device, exiting 77 on NO_DEVICE.  For
 * use once in main() so that a whole suite is skipped cleanly. */
void tu_skip_if_no_device(void);

/* A tensor of the given shape (unused trailing dims ignored) filled from
 * data (or zeros when data is NULL); fails the test on error. */
clcnn_tensor *tu_tensor(clcnn_ctx *ctx, int rank, const size_t *shape, const float *data);

/* Loads $CLCNN_GOLDEN_DIR/<name>.npy into a tensor; fails the test if absent. */
clcnn_tensor *tu_golden(clcnn_ctx *ctx, const char *name);

/* Reads a whole tensor to a malloc'd host array (caller frees). */
float *tu_read(const clcnn_tensor *t);

/* n random floats in [lo, hi) from seed, malloc'd (caller frees). */
float *tu_random_array(size_t n, unsigned seed, float lo, float hi);

/* sum(R * t) in float64 over t's elements (R holds as many). */
double tu_dot_with(const clcnn_tensor *t, const float *R);

/* Asserts |got - want| <= atol + rtol * |want| element-wise, naming what and
 * the first offending index. */
void tu_assert_close(const float *got, const float *want, size_t n, double rtol, double atol, const char *what);

/* Asserts that two tensors have the same shape and close contents. */
void tu_assert_tensor_close(const clcnn_tensor *got, const clcnn_tensor *want, double rtol, double atol,
                            const char *what);

/* Deterministic pseudo-random floats in [lo, hi). */
void tu_fill_random(float *x, size_t n, unsigned seed, float lo, float hi);

/* Runs this test program again (self, with the argument flag) in a child
 * that sees no OpenCL platform (OCL_ICD_VENDORS pointing at an empty
 * directory, set before the loader first reads it); returns the child's
 * wait status. */
int tu_rerun_without_opencl(const char *self, const char *flag);

/*
 * A counting allocator hook (tu_counter.hook, a clcnn_allocator) that
 * records every block it gives out and takes back.  Its blocks are aligned
 * to exactly the alignment asked for (never to twice that), filled with
 * garbage, and poisoned when they come back, so that code which assumes
 * more alignment, zeroed memory or a longer life shows.  With fail_after
 * >= 0, every allocation after the first fail_after fails.
 */
typedef struct tu_block {
    unsigned char *p, *base;
    size_t size, align;
} tu_block;

typedef struct tu_counter {
    clcnn_allocator hook;
    pthread_t thread;      /* the only thread the hook may be called on */
    long fail_after;
    tu_block *live;
    size_t nlive, cap;
    size_t given, refused; /* blocks given out, requests refused */
    size_t live_bytes, peak_bytes;
    size_t first_size;     /* the size of the first block given out */
    size_t max_align;
    int bad_request;       /* size 0, or an alignment that is not a power of two */
    int bad_free;          /* a pointer the hook did not give, or a wrong size */
    int foreign_thread;    /* calls on another thread than the one of tu_counter_init */
} tu_counter;

void tu_counter_init(tu_counter *c, long fail_after);
/* 1 when p points into a live block. */
int tu_counter_owns(const tu_counter *c, const void *p);
/* Asserts that every block came back and nothing else was freed, every
 * request was well-formed and made on the initialising thread (when says
 * at what point); then releases the counter's own memory. */
void tu_counter_check_clean(tu_counter *c, const char *when);

/* A test case of s tagged "learning": tests that train for hundreds of
 * steps to see a loss fall.  The valgrind and sanitizer setups leave that
 * tag out (CK_EXCLUDE_TAGS in meson.build): under them they take minutes
 * each (ASan+UBSan: 100x the plain build's time in the vectorised inner
 * kernels), and the code they run is checked there by the shorter tests. */
TCase *tu_learning_tcase(Suite *s, int timeout);

/* Runs a suite the usual way and returns the process exit status. */
int tu_run(Suite *s);

#endif
