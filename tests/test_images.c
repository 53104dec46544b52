/* Image folders and PNG/JPEG images: fixtures written here with libpng
 * and libjpeg, loaded through clcnn_data_load and clcnn_dataset_load_image;
 * every malformed case gets one message naming its file.  Run as
 * `test_images --make-folder DIR` it writes the 28x28 grey folder that
 * tests/test_image_cli.sh trains on. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "testutil.h"

#if defined(CLCNN_HAVE_LIBPNG) && defined(CLCNN_HAVE_LIBJPEG)
#include <jpeglib.h>
#include <png.h>

static char root[256];

static void tmp_setup(void)
{
    snprintf(root, sizeof root, "%s/clcnn-images-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(root));
}

/* Removes dir and everything under it. */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[1024];
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
            remove_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static void tmp_teardown(void)
{
    remove_tree(root);
}

/* root/rel in a rotating static buffer, its parent folders made. */
static const char *path_of(const char *rel)
{
    static char bufs[16][1024];
    static int next;
    char *p = bufs[next++ % 16];
    snprintf(p, 1024, "%s/%s", root, rel);
    for (char *s = p + strlen(root) + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        mkdir(p, 0755);
        *s = '/';
    }
    return p;
}

/* Pixel value k of image `seed`: a pattern that differs per image. */
static uint8_t pattern(unsigned seed, size_t k)
{
    return (uint8_t)((k * 37u + seed * 101u + 11u) & 0xffu);
}

/* A PNG of w x h with c channels (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA). */
static void write_png(const char *rel, size_t w, size_t h, size_t c, unsigned seed)
{
    static const png_uint_32 formats[5] = {0, PNG_FORMAT_GRAY, PNG_FORMAT_GA, PNG_FORMAT_RGB, PNG_FORMAT_RGBA};
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w;
    img.height = (png_uint_32)h;
    img.format = formats[c];
    uint8_t *px = malloc(w * h * c);
    ck_assert_ptr_nonnull(px);
    for (size_t k = 0; k < w * h * c; k++)
        px[k] = pattern(seed, k);
    ck_assert_msg(png_image_write_to_file(&img, path_of(rel), 0, px, 0, NULL), "writing %s: %s", rel, img.message);
    free(px);
}

/* A JPEG (quality 100) of w x h: grey (c 1), RGB (3) or CMYK (4), flat
 * colour value v per channel so that its decoded pixels are near v. */
static void write_jpeg(const char *rel, size_t w, size_t h, size_t c, uint8_t v)
{
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr err;
    ci.err = jpeg_std_error(&err);
    jpeg_create_compress(&ci);
    FILE *f = fopen(path_of(rel), "wb");
    ck_assert_ptr_nonnull(f);
    jpeg_stdio_dest(&ci, f);
    ci.image_width = (JDIMENSION)w;
    ci.image_height = (JDIMENSION)h;
    ci.input_components = (int)c;
    ci.in_color_space = c == 1 ? JCS_GRAYSCALE : c == 3 ? JCS_RGB : JCS_CMYK;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, 100, TRUE);
    jpeg_start_compress(&ci, TRUE);
    uint8_t *row = malloc(w * c);
    ck_assert_ptr_nonnull(row);
    for (size_t k = 0; k < w * c; k++)
        row[k] = (uint8_t)(v + 40 * (k % c));
    while (ci.next_scanline < ci.image_height) {
        JSAMPROW r = row;
        jpeg_write_scanlines(&ci, &r, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    fclose(f);
    free(row);
}

static void write_bytes(const char *rel, const void *b, size_t n)
{
    FILE *f = fopen(path_of(rel), "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* The first n bytes of file rel, rewritten to rel2. */
static void truncate_copy(const char *rel, const char *rel2, size_t n)
{
    unsigned char buf[4096];
    FILE *f = fopen(path_of(rel), "rb");
    ck_assert_ptr_nonnull(f);
    size_t got = fread(buf, 1, sizeof buf, f);
    fclose(f);
    ck_assert_uint_gt(got, n);
    write_bytes(rel2, buf, n);
}

/* Loads root (or root/sub) through clcnn_data_load, expecting failure with
 * a message holding want and naming file (both substrings). */
static void expect_error(const char *want, const char *file)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_dataset *train = NULL, *test = NULL;
    int st = clcnn_data_load(ctx, root, &train, NULL, &test);
    ck_assert_msg(st == CLCNN_ERR_FORMAT, "status %s (%s), wanted a format error '%s'", clcnn_status_str(st),
                  clcnn_errmsg(ctx), want);
    ck_assert_ptr_null(train);
    ck_assert_ptr_null(test);
    const char *msg = clcnn_errmsg(ctx);
    ck_assert_msg(strstr(msg, want) != NULL, "message '%s' lacks '%s'", msg, want);
    ck_assert_msg(strstr(msg, path_of(file)) != NULL, "message '%s' does not name %s", msg, path_of(file));
    ck_assert_msg(!strchr(msg, '\n'), "message '%s' is not one line", msg);
    clcnn_ctx_free(ctx);
}

START_TEST(folder_png_grey)
{
    /* Made out of order: classes and files come back sorted by name. */
    write_png("train/cat/b.png", 5, 4, 1, 2);
    write_png("train/cat/a.png", 5, 4, 1, 1);
    write_png("train/ant/x.PNG", 5, 4, 1, 3);
    write_png("train/dog/z.png", 5, 4, 1, 4);
    write_bytes("train/dog/notes.txt", "not an image", 12); /* other files are left out */
    write_bytes("train/README", "x", 1);
    write_png("test/dog/t.png", 5, 4, 1, 5);
    write_png("train/.hidden/h.png", 5, 4, 1, 6);
    clcnn_ctx *ctx = tu_ctx();
    clcnn_dataset *train = NULL, *valid = NULL, *test = NULL;
    int st = clcnn_data_load(ctx, root, &train, &valid, &test);
    ck_assert_msg(st == CLCNN_OK, "%s", clcnn_errmsg(ctx));
    ck_assert_ptr_null(valid);
    ck_assert_uint_eq(clcnn_dataset_count(train), 4);
    size_t shape[3];
    clcnn_dataset_image_shape(train, shape);
    ck_assert_uint_eq(shape[0], 4);
    ck_assert_uint_eq(shape[1], 5);
    ck_assert_uint_eq(shape[2], 1);
    ck_assert_int_eq(clcnn_dataset_classes(train), 3);
    ck_assert_uint_eq(clcnn_dataset_class_name_count(train), 3);
    ck_assert_str_eq(clcnn_dataset_class_name(train, 0), "ant");
    ck_assert_str_eq(clcnn_dataset_class_name(train, 1), "cat");
    ck_assert_str_eq(clcnn_dataset_class_name(train, 2), "dog");
    float px[4 * 20];
    int32_t labels[4];
    ck_assert_int_eq(clcnn_dataset_get(ctx, train, 0, 4, px, labels), CLCNN_OK);
    static const unsigned seeds[4] = {3, 1, 2, 4}; /* ant/x, cat/a, cat/b, dog/z */
    static const int32_t want_labels[4] = {0, 1, 1, 2};
    for (size_t i = 0; i < 4; i++) {
        ck_assert_int_eq(labels[i], want_labels[i]);
        for (size_t k = 0; k < 20; k++)
            ck_assert_float_eq(px[i * 20 + k], pattern(seeds[i], k) / 255.0f);
    }
    /* test/ takes train/'s labels and names. */
    ck_assert_uint_eq(clcnn_dataset_count(test), 1);
    ck_assert_int_eq(clcnn_dataset_get(ctx, test, 0, 1, px, labels), CLCNN_OK);
    ck_assert_int_eq(labels[0], 2);
    ck_assert_uint_eq(clcnn_dataset_class_name_count(test), 3);
    ck_assert_str_eq(clcnn_dataset_class_name(test, 2), "dog");
    clcnn_dataset_free(train);
    clcnn_dataset_free(test);
    clcnn_ctx_free(ctx);
}
END_TEST

START_TEST(folder_jpeg_colour_and_mixed)
{
    write_jpeg("train/red/1.jpg", 8, 6, 3, 120);
    write_jpeg("train/red/2.jpeg", 8, 6, 3, 100);
    write_png("train/sky/3.png", 8, 6, 3, 7);
    write_png("train/sky/4.png", 8, 6, 4, 8); /* RGBA: alpha dropped */
    clcnn_ctx *ctx = tu_ctx();
    clcnn_dataset *train = NULL, *test = NULL;
    int st = clcnn_data_load(ctx, root, &train, NULL, &test);
    ck_assert_msg(st == CLCNN_OK, "%s", clcnn_errmsg(ctx));
    ck_assert_ptr_null(test); /* no test/ */
    size_t shape[3];
    clcnn_dataset_image_shape(train, shape);
    ck_assert_uint_eq(shape[0], 6);
    ck_assert_uint_eq(shape[1], 8);
    ck_assert_uint_eq(shape[2], 3);
    float px[4 * 144];
    ck_assert_int_eq(clcnn_dataset_get(ctx, train, 0, 4, px, NULL), CLCNN_OK);
    for (size_t k = 0; k < 144; k++) { /* JPEG is lossy: near the flat colours */
        const float want = (float)(120 + 40 * (k % 3)) / 255.0f;
        ck_assert_msg(px[k] > want - 4.0f / 255 && px[k] < want + 4.0f / 255, "pixel %zu: %g, not near %g", k,
                      (double)px[k], (double)want);
    }
    for (size_t k = 0; k < 144; k++)
        ck_assert_float_eq(px[2 * 144 + k], pattern(7, k) / 255.0f);
    clcnn_dataset_free(train);
    clcnn_ctx_free(ctx);
}
END_TEST

START_TEST(load_image_one)
{
    clcnn_ctx *ctx = tu_ctx();
    write_png("ga.png", 3, 2, 2, 9);
    write_jpeg("g.jpg", 9, 7, 1, 90);
    clcnn_dataset *ds = NULL;
    ck_assert_int_eq(clcnn_dataset_load_image(ctx, &ds, path_of("ga.png")), CLCNN_OK);
    size_t shape[3];
    clcnn_dataset_image_shape(ds, shape);
    ck_assert_uint_eq(shape[0] * 100 + shape[1] * 10 + shape[2], 231);
    float px[6];
    int32_t label = -1;
    ck_assert_int_eq(clcnn_dataset_get(ctx, ds, 0, 1, px, &label), CLCNN_OK);
    ck_assert_int_eq(label, 0);
    for (size_t k = 0; k < 6; k++) { /* grey composited onto black by its alpha, in linear light */
        const float g = pattern(9, 2 * k) / 255.0f, a = pattern(9, 2 * k + 1) / 255.0f;
        ck_assert_msg(px[k] <= g + 1.0f / 255 && (a < 1.0f || px[k] >= g - 1.0f / 255), "pixel %zu: %g of %g at %g", k,
                      (double)px[k], (double)g, (double)a);
    }
    clcnn_dataset_free(ds);
    ck_assert_int_eq(clcnn_dataset_load_image(ctx, &ds, path_of("g.jpg")), CLCNN_OK);
    clcnn_dataset_image_shape(ds, shape);
    ck_assert_uint_eq(shape[0] * 100 + shape[1] * 10 + shape[2], 791);
    clcnn_dataset_free(ds);
    write_bytes("text.png", "hello, world", 12);
    ck_assert_int_eq(clcnn_dataset_load_image(ctx, &ds, path_of("text.png")), CLCNN_ERR_FORMAT);
    ck_assert_ptr_null(ds);
    ck_assert_ptr_nonnull(strstr(clcnn_errmsg(ctx), "text.png: neither a PNG nor a JPEG"));
    ck_assert_int_eq(clcnn_dataset_load_image(ctx, &ds, path_of("missing.png")), CLCNN_ERR_IO);
    ck_assert_int_eq(clcnn_dataset_load_image(ctx, NULL, path_of("g.jpg")), CLCNN_ERR_ARGUMENT);
    clcnn_ctx_free(ctx);
}
END_TEST

/* A valid PNG signature and IHDR (CRC right) claiming w x h, then an
 * empty IDAT: no pixel data. */
static void write_png_header_only(const char *rel, uint32_t w, uint32_t h)
{
    unsigned char b[45] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    for (int i = 0; i < 4; i++) {
        b[16 + i] = (unsigned char)(w >> (24 - 8 * i));
        b[20 + i] = (unsigned char)(h >> (24 - 8 * i));
    }
    b[24] = 8; /* bit depth; colour type 0 (grey), compression, filter, interlace 0 */
    uint32_t crc = (uint32_t)crc32(0, b + 12, 17);
    for (int i = 0; i < 4; i++)
        b[29 + i] = (unsigned char)(crc >> (24 - 8 * i));
    memcpy(b + 37, "IDAT", 4); /* length 0 in b[33..36] */
    crc = (uint32_t)crc32(0, b + 37, 4);
    for (int i = 0; i < 4; i++)
        b[41 + i] = (unsigned char)(crc >> (24 - 8 * i));
    write_bytes(rel, b, sizeof b);
}

/* Each malformed folder: how it is made, the message, the file named. */
typedef struct bad_case {
    const char *file, *want;
} bad_case;

static const bad_case bad_cases[] = {
    {"train/a/bad.png", "neither a PNG nor a JPEG"},
    {"train/a/cut.png", "not a readable PNG"},
    {"train/a/cut.jpg", "not a readable JPEG"},
    {"train/b/wide.png", "the image is 6x4 grey, the first ("},
    {"train/b/colour.png", "the image is 5x4 colour, the first ("},
    {"train/a/cmyk.jpg", "colour space"},
    {"train/a/huge.png", "larger than clcnn reads"},
    {"test/zebra", "class 'zebra' is not one of the training set's"},
    {"test/a/t.png", "the image is 5x5 grey, the training images are 5x4 grey"},
    {"train/c", "no .png or .jpg images in the class folder"},
    {"train", "no class folders"},
    {"train/bad\tname", "control character"},
};

START_TEST(folder_malformed)
{
    const bad_case *k = &bad_cases[_i];
    /* A good base every case but the last two starts from. */
    if (_i < 10) {
        write_png("train/a/0.png", 5, 4, 1, 1);
        write_png("train/b/0.png", 5, 4, 1, 2);
    }
    switch (_i) {
    case 0: write_bytes(k->file, "GIF89a....", 10); break;
    case 1:
        write_png("train/a/full.png", 5, 4, 1, 3);
        truncate_copy("train/a/full.png", k->file, 45);
        remove(path_of("train/a/full.png"));
        break;
    case 2:
        write_jpeg("full.jpg", 5, 4, 1, 9);
        truncate_copy("full.jpg", k->file, 20);
        break;
    case 3: write_png(k->file, 6, 4, 1, 3); break;
    case 4: write_png(k->file, 5, 4, 3, 3); break;
    case 5: write_jpeg(k->file, 5, 4, 4, 30); break;
    case 6: write_png_header_only(k->file, 16000, 16000); break;
    case 7: write_png("test/zebra/z.png", 5, 4, 1, 3); break;
    case 8: write_png(k->file, 5, 5, 1, 3); break;
    case 9: mkdir(path_of(k->file), 0755); break;
    case 10: mkdir(path_of(k->file), 0755); break;
    case 11: write_png("train/bad\tname/0.png", 5, 4, 1, 1); break;
    }
    expect_error(k->want, k->file);
}
END_TEST

static Suite *images_suite(void)
{
    Suite *s = suite_create("images");
    TCase *tc = tcase_create("images");
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_add_test(tc, folder_png_grey);
    tcase_add_test(tc, folder_jpeg_colour_and_mixed);
    tcase_add_test(tc, load_image_one);
    tcase_add_loop_test(tc, folder_malformed, 0, (int)(sizeof bad_cases / sizeof *bad_cases));
    suite_add_tcase(s, tc);
    return s;
}

/* --make-folder DIR: 28x28 grey PNGs in DIR/train/<class> (10 classes of
 * 6, each class a bright square in its own cell of a 4x4 grid, so that a
 * network can learn them) and DIR/test/<class> (2 each), and DIR/one.png
 * (a test image of class "cat"). */
static int make_folder(const char *dir)
{
    static const char *const classes[10] = {"ant", "bee", "cat", "dog", "eel", "fox", "gnu", "hen", "owl", "yak"};
    snprintf(root, sizeof root, "%s", dir);
    mkdir(root, 0755);
    uint8_t px[28 * 28];
    for (int split = 0; split < 2; split++)
        for (int k = 0; k < 10; k++)
            for (int i = 0; i < (split ? 2 : 6); i++) {
                for (int y = 0; y < 28; y++)
                    for (int x = 0; x < 28; x++) {
                        int in = y / 7 == k / 4 && x / 7 == k % 4;
                        px[y * 28 + x] = (uint8_t)(in ? 180 + i * 10 + split * 5 : (x * 7 + y * 3 + i) % 40);
                    }
                char rel[256];
                snprintf(rel, sizeof rel, "%s/%s/%02d.png", split ? "test" : "train", classes[k], i);
                png_image img;
                memset(&img, 0, sizeof img);
                img.version = PNG_IMAGE_VERSION;
                img.width = img.height = 28;
                img.format = PNG_FORMAT_GRAY;
                if (!png_image_write_to_file(&img, path_of(rel), 0, px, 0, NULL))
                    return 1;
                if (split && k == 2 && i == 0 && !png_image_write_to_file(&img, path_of("one.png"), 0, px, 0, NULL))
                    return 1;
            }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--make-folder"))
        return make_folder(argv[2]);
    return tu_run(images_suite());
}

#else
int main(void)
{
    puts("skipping: clcnn was built without libpng or libjpeg (install "
         "libpng-dev and libjpeg62-turbo-dev)");
    return 77;
}
#endif
