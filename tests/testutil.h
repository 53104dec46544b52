/* Helpers shared by the Check test programs. */
#ifndef CLCNN_TESTUTIL_H
#define CLCNN_TESTUTIL_H

#include <check.h>
#include <stddef.h>

#include "clcnn.h"

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

/* Runs a suite the usual way and returns the process exit status. */
int tu_run(Suite *s);

#endif
