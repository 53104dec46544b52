/*
 * Host memory: every block the library allocates comes from here, and from
 * here goes to the allocator hook of a context (clcnn_allocator) or, with no
 * hook (a NULL allocator, or one whose functions are NULL), to malloc/free.
 *
 * Sizes: the caller gives a block back with the size it asked for (the hook's
 * free wants it); a size of 0 is taken as 1 both ways.  Where the side that
 * frees cannot know the size (zlib's zfree, the CPU backend's buffers, memory
 * handed to the application), the *_tracked functions keep it in a header in
 * front of the block (only with a hook: without one a tracked block is a
 * plain malloc'd one, so that free() still frees it).
 */
#ifndef CLCNN_ALLOC_H
#define CLCNN_ALLOC_H

#include <stddef.h>

#include "clcnn.h"

/* The alignment of blocks asked for without one: malloc's. */
#define CLCNN_MEM_ALIGN _Alignof(max_align_t)

/* size bytes aligned to CLCNN_MEM_ALIGN, or to align (a power of two); NULL
 * when the memory cannot be had. */
void *clcnn_mem_alloc(const clcnn_allocator *a, size_t size);
void *clcnn_mem_alloc_aligned(const clcnn_allocator *a, size_t size, size_t align);
/* count * elem bytes (NULL as well when the product overflows); calloc's
 * are zero-filled. */
void *clcnn_mem_array(const clcnn_allocator *a, size_t count, size_t elem);
void *clcnn_mem_calloc(const clcnn_allocator *a, size_t count, size_t elem);
/* p (old_size bytes; NULL with old_size 0 for a new block) resized to
 * new_size, contents kept up to the smaller size; NULL on failure, p then
 * untouched. */
void *clcnn_mem_realloc(const clcnn_allocator *a, void *p, size_t old_size, size_t new_size);
/* Gives back p, allocated with size bytes (p NULL: nothing). */
void clcnn_mem_free(const clcnn_allocator *a, void *p, size_t size);

/* A block that remembers its own size; freed with clcnn_mem_free_tracked. */
void *clcnn_mem_alloc_tracked(const clcnn_allocator *a, size_t size, size_t align);
void clcnn_mem_free_tracked(const clcnn_allocator *a, void *p);

/* Makes zlib stream zs (a z_stream) allocate through a, which must outlive
 * the stream. */
struct z_stream_s;
void clcnn_mem_for_zlib(struct z_stream_s *zs, const clcnn_allocator *a);

#endif
