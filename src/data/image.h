/* PNG and JPEG images (libpng, libjpeg-turbo) as 8-bit pixels, and
 * directories of them in the ImageFolder layout (image.c, imagefolder.c). */
#ifndef CLCNN_IMAGE_H
#define CLCNN_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"

/* Largest side and pixel count of one image, checked from its header
 * before its pixels are allocated. */
#define IMAGE_MAX_SIDE 16384
#define IMAGE_MAX_PIXELS ((size_t)1 << 24)
/* Largest image file read. */
#define IMAGE_MAX_FILE_BYTES ((size_t)64 << 20)

/* One decoded image: h*w*c bytes, HWC, c 1 (grey) or 3 (RGB), from ctx's
 * allocator (size bytes). */
typedef struct image_data {
    size_t h, w, c;
    uint8_t *px;
    size_t size;
} image_data;

/* Which decoder bytes call for from their signature: 'p' (PNG), 'j'
 * (JPEG) or 0 (neither). */
int clcnn_image_kind(const unsigned char *bytes, size_t len);

/* Decodes a PNG or JPEG held in memory (name: the file, for messages).
 * Grey stays one channel; colour becomes RGB; alpha is composited onto
 * black; 16-bit samples become 8.  Errors: CLCNN_ERR_FORMAT "<name>: ..."
 * (not an image, undecodable, too large, a colour space other than grey,
 * RGB or YCbCr, or support not built in), CLCNN_ERR_NOMEM. */
int clcnn_image_decode(clcnn_ctx *ctx, const char *name, const unsigned char *bytes, size_t len, image_data *out);

/* Reads path and decodes it as clcnn_image_decode. */
int clcnn_image_read(clcnn_ctx *ctx, const char *path, image_data *out);

void clcnn_image_free(clcnn_ctx *ctx, image_data *im);

/* The image-folder loader behind clcnn_data_load (imagefolder.c): dir
 * holds train/ (and optionally test/), each with one folder per class. */
int clcnn_image_folder_load(clcnn_ctx *ctx, const char *dir, clcnn_dataset **train, clcnn_dataset **test);

/* Whether dir is in that layout (it has a train/ directory). */
int clcnn_image_folder_is(const char *dir);

#endif
