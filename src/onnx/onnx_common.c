/* protobuf-c on a context's allocator; ONNX's pooling arithmetic. */
#include "onnx_common.h"

static void *pb_alloc(void *data, size_t size)
{
    onnx_budget *b = data;
    if (size > b->limit - b->used) {
        b->exceeded = 1;
        return NULL;
    }
    b->used += size;
    return clcnn_mem_alloc_tracked(b->a, size ? size : 1, CLCNN_MEM_ALIGN);
}

static void pb_free(void *data, void *p)
{
    onnx_budget *b = data;
    clcnn_mem_free_tracked(b->a, p);
}

ProtobufCAllocator onnx_allocator(onnx_budget *b)
{
    return (ProtobufCAllocator){.alloc = pb_alloc, .free = pb_free, .allocator_data = b};
}

int64_t onnx_pool_out(int64_t in, int64_t kernel, int64_t stride, int64_t pads, int ceil_mode)
{
    int64_t span = in + pads - kernel;
    return (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
}
