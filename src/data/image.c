/* PNG (libpng's simplified API) and JPEG (libjpeg-turbo) decoding into
 * 8-bit grey or RGB pixels, each image's size checked from its header
 * before its pixels are allocated. */
#include "data/image.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "io.h"

#ifdef CLCNN_HAVE_LIBPNG
#include <png.h>
#endif
#ifdef CLCNN_HAVE_LIBJPEG
#include <jpeglib.h>
#endif

/* A progressive JPEG may hold any number of scans; real ones have a dozen. */
#define JPEG_MAX_SCANS 256

int clcnn_image_kind(const unsigned char *b, size_t len)
{
    static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (len >= 8 && memcmp(b, png_sig, 8) == 0)
        return 'p';
    if (len >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
        return 'j';
    return 0;
}

void clcnn_image_free(clcnn_ctx *ctx, image_data *im)
{
    if (!im)
        return;
    clcnn_mem_free(clcnn_ctx_allocator(ctx), im->px, im->size);
    im->px = NULL;
    im->size = 0;
}

/* Sets out's geometry and allocates its pixels (zeroed: PNG alpha is
 * composited onto what the buffer holds), after the size checks. */
static int image_alloc(clcnn_ctx *ctx, const char *name, size_t w, size_t h, size_t c, image_data *out)
{
    if (w == 0 || h == 0)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: the image is %zux%zu (empty)", name, w, h);
    if (w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE || w * h > IMAGE_MAX_PIXELS)
        return clcnn_error(ctx, CLCNN_ERR_FORMAT,
                           "%s: the image is %zux%zu, larger than clcnn reads (%d "
                           "a side, %zu pixels)",
                           name, w, h, IMAGE_MAX_SIDE, IMAGE_MAX_PIXELS);
    out->px = clcnn_mem_calloc(clcnn_ctx_allocator(ctx), h * w * c, 1);
    if (!out->px)
        return clcnn_error(ctx, CLCNN_ERR_NOMEM, "%s: out of memory for a %zux%zu image", name, w, h);
    out->h = h;
    out->w = w;
    out->c = c;
    out->size = h * w * c;
    return CLCNN_OK;
}

#ifdef CLCNN_HAVE_LIBPNG
static int decode_png(clcnn_ctx *ctx, const char *name, const unsigned char *bytes, size_t len, image_data *out)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, bytes, len)) {
        int st = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: not a readable PNG (libpng: %s)", name, img.message);
        png_image_free(&img);
        return st;
    }
    size_t c = img.format & PNG_FORMAT_FLAG_COLOR ? 3 : 1;
    img.format = c == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    int st = image_alloc(ctx, name, img.width, img.height, c, out);
    if (st) {
        png_image_free(&img);
        return st;
    }
    if (!png_image_finish_read(&img, NULL, out->px, 0, NULL)) {
        st = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: not a readable PNG (libpng: %s)", name, img.message);
        png_image_free(&img);
        clcnn_image_free(ctx, out);
        return st;
    }
    png_image_free(&img); /* (a no-op after a finished read) */
    return CLCNN_OK;
}
#endif

#ifdef CLCNN_HAVE_LIBJPEG
/* libjpeg reports errors through error_exit, which must not return: it
 * jumps back to decode_jpeg with the message kept. */
typedef struct jpeg_error {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
} jpeg_error;

static void jpeg_fail(j_common_ptr cinfo)
{
    jpeg_error *e = (jpeg_error *)(void *)cinfo->err;
    e->mgr.format_message(cinfo, e->message);
    longjmp(e->jump, 1);
}

/* Warnings (a corrupt but decodable stream) stay quiet, as libpng's do. */
static void jpeg_quiet(j_common_ptr cinfo, int level)
{
    (void)cinfo;
    (void)level;
}

static void jpeg_scan_limit(j_common_ptr cinfo)
{
    if (cinfo->is_decompressor && ((j_decompress_ptr)cinfo)->input_scan_number > JPEG_MAX_SCANS) {
        jpeg_error *e = (jpeg_error *)(void *)cinfo->err;
        snprintf(e->message, sizeof e->message, "more than %d scans", JPEG_MAX_SCANS);
        longjmp(e->jump, 1);
    }
}

static int decode_jpeg(clcnn_ctx *ctx, const char *name, const unsigned char *bytes, size_t len, image_data *out)
{
    struct jpeg_decompress_struct cinfo;
    jpeg_error err;
    struct jpeg_progress_mgr progress = {.progress_monitor = jpeg_scan_limit};
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&err.mgr);
    err.mgr.error_exit = jpeg_fail;
    err.mgr.emit_message = jpeg_quiet;
    err.message[0] = '\0';
    /* volatile: read after a longjmp */
    volatile int status = CLCNN_OK;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        if (status != CLCNN_OK) /* a failure of ours, message set */
            return status;
        clcnn_image_free(ctx, out);
        return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: not a readable JPEG (libjpeg: %s)", name, err.message);
    }
    jpeg_create_decompress(&cinfo);
    cinfo.progress = &progress;
    jpeg_mem_src(&cinfo, bytes, (unsigned long)len);
    jpeg_read_header(&cinfo, TRUE);
    size_t c;
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: c = 1; break;
    case JCS_RGB:
    case JCS_YCbCr: c = 3; break;
    default:
        status = clcnn_error(ctx, CLCNN_ERR_FORMAT,
                             "%s: a JPEG in a colour space clcnn does not read (CMYK or YCCK); "
                             "grey and colour (RGB/YCbCr) images are read",
                             name);
        longjmp(err.jump, 1);
    }
    cinfo.out_color_space = c == 1 ? JCS_GRAYSCALE : JCS_RGB;
    if ((status = image_alloc(ctx, name, cinfo.image_width, cinfo.image_height, c, out)) != CLCNN_OK)
        longjmp(err.jump, 1);
    jpeg_start_decompress(&cinfo);
    if (cinfo.output_width != out->w || cinfo.output_height != out->h || (size_t)cinfo.output_components != c) {
        clcnn_image_free(ctx, out);
        status = clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: the JPEG decoder's output is not the header's shape", name);
        longjmp(err.jump, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = out->px + (size_t)cinfo.output_scanline * out->w * c;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return CLCNN_OK;
}
#endif

int clcnn_image_decode(clcnn_ctx *ctx, const char *name, const unsigned char *bytes, size_t len, image_data *out)
{
    memset(out, 0, sizeof *out);
    switch (clcnn_image_kind(bytes, len)) {
    case 'p':
#ifdef CLCNN_HAVE_LIBPNG
        return decode_png(ctx, name, bytes, len, out);
#else
        return clcnn_error(ctx, CLCNN_ERR_FORMAT,
                           "%s: a PNG, and this build of clcnn has no libpng (install libpng-dev "
                           "and rebuild)",
                           name);
#endif
    case 'j':
#ifdef CLCNN_HAVE_LIBJPEG
        return decode_jpeg(ctx, name, bytes, len, out);
#else
        return clcnn_error(ctx, CLCNN_ERR_FORMAT,
                           "%s: a JPEG, and this build of clcnn has no libjpeg (install "
                           "libjpeg62-turbo-dev and rebuild)",
                           name);
#endif
    default: return clcnn_error(ctx, CLCNN_ERR_FORMAT, "%s: neither a PNG nor a JPEG (by its first bytes)", name);
    }
}

int clcnn_image_read(clcnn_ctx *ctx, const char *path, image_data *out)
{
    memset(out, 0, sizeof *out);
    unsigned char *bytes = NULL;
    size_t len = 0;
    int st = clcnn_read_file(ctx, path, IMAGE_MAX_FILE_BYTES, &bytes, &len);
    if (st)
        return st;
    st = clcnn_image_decode(ctx, path, bytes, len, out);
    clcnn_mem_free(clcnn_ctx_allocator(ctx), bytes, len);
    return st;
}
