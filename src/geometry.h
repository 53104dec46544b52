/* Output shapes and padding of convolution and pooling, with their errors;
 * one place for the rules of DESIGN.md §1, used by the ops and the layers. */
#ifndef CLCNN_GEOMETRY_H
#define CLCNN_GEOMETRY_H

#include "internal.h"

/* Fills g for input (n,h,w,c) and kernel (kh,kw,c,k); who names the caller
 * in messages.  Errors: stride < 1, unknown padding, a kernel larger than
 * the (padded) input. */
int clcnn_conv_geometry(clcnn_ctx *ctx, const char *who, size_t n, size_t h, size_t w, size_t c, size_t kh,
                        size_t kw, size_t k, int sh, int sw, clcnn_padding padding, conv_geom *g);

int clcnn_pool_geometry(clcnn_ctx *ctx, const char *who, size_t n, size_t h, size_t w, size_t c, int kh, int kw,
                        int sh, int sw, clcnn_pool_mode mode, pool_geom *g);

#endif
