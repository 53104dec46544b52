/* SGD with momentum on OpenCL (cl/sgd.cl). */
#include "opencl/ocl_backend.h" /* first: it picks the OpenCL API version */

enum { K_SGD, K_COUNT };

static const char *const kernels[K_COUNT] = {[K_SGD] = "sgd_update"};

const ocl_family ocl_family_sgd = {OCL_FAMILY_sgd, "sgd.cl", kernels, K_COUNT, NULL, 0};
#define F (&ocl_family_sgd)

int ocl_sgd_update(void *bctx, size_t count, clcnn_buf *w, const clcnn_buf *g, clcnn_buf *v, float lr, float momentum,
                   float wd, int nesterov)
{
    ocl_backend *b = bctx;
    int st = ocl_check_u32(b, "sgd_update", count);
    return st ? st
              : OCL_LAUNCH(b, F, K_SGD, count, 0, OCL_MEM(w->mem), OCL_MEM(g->mem), OCL_MEM(v->mem), OCL_U32(count),
                           OCL_F32(lr), OCL_F32(momentum), OCL_F32(wd), OCL_U32(nesterov));
}
