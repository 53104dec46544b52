/*
 * GEMM through CLBlast, and the rule that decides which ops use it: the
 * direct kernels win where the GEMMs would be small and badly shaped (few
 * channels, small batches: all of LeNet-5), CLBlast on large ones.  In a
 * build without CLBlast (meson -Dclblast=disabled) the direct kernels serve
 * every size.
 */
#include "opencl/ocl_backend.h" /* first: it picks the OpenCL API version */

#ifdef CLCNN_HAVE_CLBLAST
#include <clblast_c.h>

int ocl_route_gemm(clcnn_path path, size_t size, size_t direct_max)
{
    if (path != CLCNN_PATH_AUTO)
        return path == CLCNN_PATH_GEMM;
    return size > direct_max;
}

static const char *clblast_status_name(CLBlastStatusCode s)
{
    switch (s) {
    case CLBlastNotImplemented: return "not implemented";
    case CLBlastInvalidDimension: return "invalid dimension";
    case CLBlastInsufficientMemoryA: return "buffer A too small";
    case CLBlastInsufficientMemoryB: return "buffer B too small";
    case CLBlastInsufficientMemoryC: return "buffer C too small";
    case CLBlastInsufficientMemoryTemp: return "temporary buffer too small";
    case CLBlastInvalidLocalMemUsage: return "not enough local memory";
    case CLBlastDatabaseError: return "no tuning database entry";
    case CLBlastUnknownError: return "unknown error";
    case CLBlastUnexpectedError: return "unexpected error";
    default: return ocl_error_name((cl_int)s);
    }
}

int ocl_gemm(ocl_backend *b, const char *op, int trans_a, int trans_b, size_t m, size_t n, size_t k, cl_mem a,
             size_t a_off, size_t lda, cl_mem bm, size_t b_off, size_t ldb, float beta, cl_mem c, size_t c_off,
             size_t ldc)
{
    const CLBlastTranspose ta = trans_a ? CLBlastTransposeYes : CLBlastTransposeNo;
    const CLBlastTranspose tb = trans_b ? CLBlastTransposeYes : CLBlastTransposeNo;
    size_t temp = 0;
    CLBlastStatusCode s = CLBlastSGemmTempBufferSize(CLBlastLayoutRowMajor, ta, tb, m, n, k, a_off, lda, b_off, ldb,
                                                     c_off, ldc, &b->queue, &temp);
    if (s == CLBlastSuccess && temp > 0) {
        int st = ocl_ensure_scratch(b, OCL_SCRATCH_GEMM, temp);
        if (st)
            return st;
        s = CLBlastSgemmWithTempBuffer(CLBlastLayoutRowMajor, ta, tb, m, n, k, 1.0f, a, a_off, lda, bm, b_off, ldb,
                                       beta, c, c_off, ldc, &b->queue, NULL, b->scratch[OCL_SCRATCH_GEMM]);
    } else if (s == CLBlastSuccess) {
        s = CLBlastSgemm(CLBlastLayoutRowMajor, ta, tb, m, n, k, 1.0f, a, a_off, lda, bm, b_off, ldb, beta, c, c_off,
                         ldc, &b->queue, NULL);
    }
    b->launches++; /* at least one kernel, maybe more inside CLBlast */
    if (s != CLBlastSuccess)
        return clcnn_error(b->ctx, s == CLBlastTempBufferAllocFailure ? CLCNN_ERR_NOMEM : CLCNN_ERR_OPENCL,
                           "OpenCL %s: CLBlast SGEMM (%zu x %zu x %zu) failed: %s (%d)", op, m, n, k,
                           clblast_status_name(s), (int)s);
    return CLCNN_OK;
}

#else /* no CLBlast */

int ocl_route_gemm(clcnn_path path, size_t size, size_t direct_max)
{
    (void)path;
    (void)size;
    (void)direct_max;
    return 0;
}

int ocl_gemm(ocl_backend *b, const char *op, int trans_a, int trans_b, size_t m, size_t n, size_t k, cl_mem a,
             size_t a_off, size_t lda, cl_mem bm, size_t b_off, size_t ldb, float beta, cl_mem c, size_t c_off,
             size_t ldc)
{
    (void)trans_a, (void)trans_b, (void)a, (void)a_off, (void)lda, (void)bm, (void)b_off, (void)ldb, (void)beta;
    (void)c, (void)c_off, (void)ldc;
    return clcnn_error(b->ctx, CLCNN_ERR_UNSUPPORTED, "OpenCL %s: GEMM (%zu x %zu x %zu) needs a build with CLBlast",
                       op, m, n, k);
}

#endif
