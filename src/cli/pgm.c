#include "pgm.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pgm_sniff(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    char m[2];
    int ok = fread(m, 1, 2, f) == 2 && m[0] == 'P' && (m[1] == '2' || m[1] == '5');
    fclose(f);
    return ok;
}

/* The next header number, skipping white space and # comments. */
static int header_number(FILE *f, unsigned long *out)
{
    int c;
    for (;;) {
        c = fgetc(f);
        if (c == '#')
            while (c != '\n' && c != EOF)
                c = fgetc(f);
        else if (!isspace(c))
            break;
    }
    if (!isdigit(c))
        return -1;
    unsigned long v = 0;
    while (isdigit(c)) {
        v = v * 10 + (unsigned long)(c - '0');
        if (v > 1000000)
            return -1;
        c = fgetc(f);
    }
    *out = v;
    return c == EOF || isspace(c) ? 0 : -1; /* one white space ends the header */
}

int pgm_read(const char *path, float **pixels, size_t *width, size_t *height, char *err, size_t errlen)
{
    *pixels = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char magic[2];
    unsigned long w, h, maxval;
    float *px = NULL;
    if (fread(magic, 1, 2, f) != 2 || magic[0] != 'P' || (magic[1] != '2' && magic[1] != '5')) {
        snprintf(err, errlen, "%s: not a PGM image (expected P2 or P5)", path);
        goto fail;
    }
    if (header_number(f, &w) || header_number(f, &h) || header_number(f, &maxval) || w == 0 || h == 0 ||
        maxval == 0 || maxval > 65535) {
        snprintf(err, errlen, "%s: malformed PGM header", path);
        goto fail;
    }
    px = malloc(w * h * sizeof *px);
    if (!px) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    for (size_t i = 0; i < w * h; i++) {
        unsigned long v;
        if (magic[1] == '2') {
            if (header_number(f, &v)) {
                snprintf(err, errlen, "%s: truncated or malformed pixel data", path);
                goto fail;
            }
        } else {
            int hi = maxval > 255 ? fgetc(f) : 0, lo = fgetc(f);
            if (hi == EOF || lo == EOF) {
                snprintf(err, errlen, "%s: truncated pixel data (%zu of %lu pixels)", path, i, w * h);
                goto fail;
            }
            v = (unsigned long)hi << 8 | (unsigned long)lo;
        }
        if (v > maxval) {
            snprintf(err, errlen, "%s: pixel %zu is %lu, above the maximum %lu", path, i, v, maxval);
            goto fail;
        }
        px[i] = (float)v / (float)maxval;
    }
    fclose(f);
    *pixels = px;
    *width = w;
    *height = h;
    return 0;
fail:
    free(px);
    fclose(f);
    return -1;
}
