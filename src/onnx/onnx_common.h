/* What the ONNX reader and writer share: the opsets, the limits, the
 * layout conversions between ONNX's NCHW and clcnn's NHWC, protobuf-c's
 * allocator on a context. */
#ifndef CLCNN_ONNX_COMMON_H
#define CLCNN_ONNX_COMMON_H

#include <protobuf-c/protobuf-c.h>

#include "internal.h"
#include "onnx/onnx.pb-c.h"

/* The opsets of the default domain the reader takes: 7 (ONNX 1.2, the
 * oldest PyTorch 1.x exports) to 17 (what libonnx-dev 1.12 and PyTorch 1.13
 * know); and the one the writer declares (every operator it emits has its
 * current form there, and every ONNX Runtime since 1.6 runs it). */
#define ONNX_OPSET_MIN 7
#define ONNX_OPSET_MAX 17
#define ONNX_OPSET_EXPORT 13

/* Files larger than this are refused before they are read (protobuf's own
 * limit is 2 GiB); a tensor may hold at most ONNX_MAX_ELEMENTS values and
 * a graph ONNX_MAX_NODES nodes. */
#define ONNX_MAX_FILE ((size_t)1 << 30)
#define ONNX_MAX_ELEMENTS ((size_t)1 << 28)
#define ONNX_MAX_NODES 4096
/* The reader's parsed model may take twice the file's size and this much. */
#define ONNX_MEMORY_SLACK ((size_t)16 << 20)

/* The metadata key of the class names (one per line: a name holds no
 * control characters). */
#define ONNX_CLASS_NAMES_KEY "class_names"

/* protobuf-c's allocations through ctx's allocator, at most limit bytes in
 * all (a message of many small parts takes far more memory than its bytes:
 * an empty node is 2 bytes of file, over 100 of memory), after which they
 * fail and the unpacking with them. */
typedef struct onnx_budget {
    const clcnn_allocator *a;
    size_t used, limit;
    int exceeded;
} onnx_budget;

ProtobufCAllocator onnx_allocator(onnx_budget *b);

/* Conv weights: ONNX's (o, i, kh, kw) to clcnn's (kh, kw, i, o), and back. */
void onnx_conv_from_oihw(const float *src, float *dst, size_t o, size_t i, size_t kh, size_t kw);
void onnx_conv_to_oihw(const float *src, float *dst, size_t o, size_t i, size_t kh, size_t kw);

/* The weights (k, n) of a dense layer after a flatten of an (h, w, c)
 * tensor: ONNX numbers the k = h*w*c inputs in CHW order, clcnn in HWC
 * order; rows move, columns stay. */
void onnx_dense_from_chw(const float *src, float *dst, size_t h, size_t w, size_t c, size_t n);
void onnx_dense_to_chw(const float *src, float *dst, size_t h, size_t w, size_t c, size_t n);

/* ONNX's pooling output size (the spec's formula, floor or ceil). */
int64_t onnx_pool_out(int64_t in, int64_t kernel, int64_t stride, int64_t pads, int ceil_mode);

#endif
