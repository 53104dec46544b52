/* Host memory through the context's allocator hook, or malloc (see alloc.h).
 * The only file of the library that calls the C library's allocator. */
#include "alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static int hooked(const clcnn_allocator *a)
{
    return a && a->alloc;
}

void *clcnn_mem_alloc_aligned(const clcnn_allocator *a, size_t size, size_t align)
{
    if (size == 0)
        size = 1;
    if (align < CLCNN_MEM_ALIGN)
        align = CLCNN_MEM_ALIGN;
    if (hooked(a))
        return a->alloc(a->user, size, align);
    if (align == CLCNN_MEM_ALIGN)
        return malloc(size);
    /* C11 wants a size that is a multiple of the alignment. */
    if (size > SIZE_MAX - (align - 1))
        return NULL;
    return aligned_alloc(align, (size + align - 1) / align * align);
}

void *clcnn_mem_alloc(const clcnn_allocator *a, size_t size)
{
    return clcnn_mem_alloc_aligned(a, size, CLCNN_MEM_ALIGN);
}

void *clcnn_mem_array(const clcnn_allocator *a, size_t count, size_t elem)
{
    if (elem != 0 && count > SIZE_MAX / elem)
        return NULL;
    return clcnn_mem_alloc(a, count * elem);
}

void *clcnn_mem_calloc(const clcnn_allocator *a, size_t count, size_t elem)
{
    void *p = clcnn_mem_array(a, count, elem);
    if (p)
        memset(p, 0, count * elem);
    return p;
}

void clcnn_mem_free(const clcnn_allocator *a, void *p, size_t size)
{
    if (!p)
        return;
    if (hooked(a))
        a->free(a->user, p, size ? size : 1);
    else
        free(p);
}

void *clcnn_mem_realloc(const clcnn_allocator *a, void *p, size_t old_size, size_t new_size)
{
    if (!hooked(a))
        return realloc(p, new_size ? new_size : 1);
    void *q = clcnn_mem_alloc(a, new_size);
    if (!q)
        return NULL;
    if (p) {
        memcpy(q, p, old_size < new_size ? old_size : new_size);
        clcnn_mem_free(a, p, old_size);
    }
    return q;
}

/* A tracked block with a hook: header bytes (a multiple of the alignment),
 * whose last two size_t are the header's length and the whole block's size,
 * then the caller's bytes. */
void *clcnn_mem_alloc_tracked(const clcnn_allocator *a, size_t size, size_t align)
{
    if (!hooked(a))
        return clcnn_mem_alloc_aligned(a, size, align);
    size_t head = align < CLCNN_MEM_ALIGN ? CLCNN_MEM_ALIGN : align;
    if (head < 2 * sizeof(size_t))
        head = 2 * sizeof(size_t);
    if (size > SIZE_MAX - head)
        return NULL;
    unsigned char *base = clcnn_mem_alloc_aligned(a, head + size, head);
    if (!base)
        return NULL;
    size_t *h = (size_t *)(void *)(base + head) - 2;
    h[0] = head;
    h[1] = head + size;
    return base + head;
}

void clcnn_mem_free_tracked(const clcnn_allocator *a, void *p)
{
    if (!p)
        return;
    if (!hooked(a)) {
        free(p);
        return;
    }
    const size_t *h = (const size_t *)p - 2;
    clcnn_mem_free(a, (unsigned char *)p - h[0], h[1]);
}

static voidpf zlib_alloc(voidpf opaque, uInt items, uInt size)
{
    if (size != 0 && items > SIZE_MAX / size)
        return Z_NULL;
    return clcnn_mem_alloc_tracked(opaque, (size_t)items * size, CLCNN_MEM_ALIGN);
}

static void zlib_free(voidpf opaque, voidpf p)
{
    clcnn_mem_free_tracked(opaque, p);
}

void clcnn_mem_for_zlib(struct z_stream_s *zs, const clcnn_allocator *a)
{
    zs->zalloc = zlib_alloc;
    zs->zfree = zlib_free;
    zs->opaque = (voidpf)(uintptr_t)a; /* zlib's opaque is not const; it is only passed back to us */
}
