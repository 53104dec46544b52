/* The image of --logdir as PNG: libpng writing into memory. */
#include "tb_png.h"

#include <stdlib.h>
#include <string.h>

#ifdef CLCNN_HAVE_LIBPNG
#include <png.h>

/* Where libpng's output goes: not an automatic variable of the function
 * that calls setjmp, so a longjmp leaves it well defined. */
typedef struct png_out {
    unsigned char *data;
    size_t len, cap;
} png_out;

static void write_bytes(png_structp png, png_bytep data, png_size_t len)
{
    png_out *o = png_get_io_ptr(png);
    if (len > o->cap - o->len) {
        size_t cap = o->cap ? o->cap : 1024;
        while (cap - o->len < len)
            cap *= 2;
        unsigned char *p = realloc(o->data, cap);
        if (!p)
            png_error(png, "out of memory");
        o->data = p;
        o->cap = cap;
    }
    memcpy(o->data + o->len, data, len);
    o->len += len;
}

static void flush_nothing(png_structp png)
{
    (void)png;
}

/* libpng reports through the error callback and longjmp; the message is
 * not needed (the caller says what failed), nor its warnings. */
static void quiet(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static void fail_jump(png_structp png, png_const_charp msg)
{
    (void)msg;
    png_longjmp(png, 1);
}

static int encode(const unsigned char *pixels, int height, int width, png_out *o)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, fail_jump, quiet);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    png_set_write_fn(png, o, write_bytes, flush_nothing);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < height; y++)
        png_write_row(png, pixels + (size_t)y * (size_t)width);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

int tb_png_available(void)
{
    return 1;
}

int tb_png_grey(const unsigned char *pixels, int height, int width, unsigned char **png, size_t *len)
{
    png_out *o = calloc(1, sizeof *o);
    if (!o)
        return -1;
    int st = height > 0 && width > 0 ? encode(pixels, height, width, o) : -1;
    if (st == 0) {
        *png = o->data;
        *len = o->len;
    } else {
        free(o->data);
    }
    free(o);
    return st;
}

#else /* built without libpng (meson.build) */

int tb_png_available(void)
{
    return 0;
}

int tb_png_grey(const unsigned char *pixels, int height, int width, unsigned char **png, size_t *len)
{
    (void)pixels;
    (void)height;
    (void)width;
    *png = NULL;
    *len = 0;
    return -1;
}

#endif
