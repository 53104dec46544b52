/* Netpbm greyscale images (P2 plain, P5 raw; 8 or 16 bits). */
#ifndef CLCNN_PGM_H
#define CLCNN_PGM_H

#include <stddef.h>

/* Reads path into *pixels (malloc'd, width*height floats scaled by maxval
 * to [0, 1]).  On failure returns non-zero with a one-line reason in err. */
int pgm_read(const char *path, float **pixels, size_t *width, size_t *height, char *err, size_t errlen);

/* Whether the file starts like a PGM ("P2" or "P5"). */
int pgm_sniff(const char *path);

#endif
