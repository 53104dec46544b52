/* Softmax cross-entropy on OpenCL (cl/loss.cl): one work-group walks the
 * batch, adds loss and hits to stats, and writes the logits' gradient. */
#include "opencl/ocl_backend.h" /* first: it picks the OpenCL API version */

enum { K_SOFTMAX_XENT, K_COUNT };
enum { T_XENT_WG, T_COUNT };

static const char *const kernels[K_COUNT] = {[K_SOFTMAX_XENT] = "softmax_xent"};

static const ocl_tunable tunables[T_COUNT] = {
    [T_XENT_WG] = {"XENT_WG", 64, 0, K_SOFTMAX_XENT, 0},
};

const ocl_family ocl_family_loss = {OCL_FAMILY_loss, "loss.cl", kernels, K_COUNT, tunables, T_COUNT};
#define F (&ocl_family_loss)

int ocl_softmax_xent(void *bctx, size_t m, size_t k, const clcnn_buf *logits, const clcnn_buf *labels,
                     float grad_scale, clcnn_buf *dlogits, clcnn_buf *stats)
{
    ocl_backend *b = bctx;
    int st = ocl_check_u32(b, "softmax_xent", m * k);
    if (st)
        return st;
    /* An unused output still needs a valid buffer; want_grad keeps the
     * kernel from writing it. */
    cl_mem gm = dlogits ? dlogits->mem : logits->mem;
    return OCL_LAUNCH(b, F, K_SOFTMAX_XENT, ocl_local(b, F, K_SOFTMAX_XENT), 0, OCL_MEM(logits->mem),
                      OCL_MEM(labels->mem), OCL_MEM(gm), OCL_MEM(stats->mem), OCL_U32(m), OCL_U32(k),
                      OCL_F32(grad_scale), OCL_I32(dlogits != NULL));
}
