/* PNG encoding through libpng, for the filter images of --logdir. */
#ifndef CLCNN_CLI_TB_PNG_H
#define CLCNN_CLI_TB_PNG_H

#include <stddef.h>

/* 1 when the program was built with libpng; without it tb_png_grey fails. */
int tb_png_available(void);

/* Encodes an 8-bit greyscale image (height rows of width bytes) as PNG
 * into *png (malloc'd, the caller frees) of *len bytes.  Returns non-zero
 * on failure (out of memory, no libpng). */
int tb_png_grey(const unsigned char *pixels, int height, int width, unsigned char **png, size_t *len);

#endif
