/* Data loading: IDX (raw and gzip), IDX directories, .npz (stored and
 * deflate), data set creation/splitting/access, and malformed inputs. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "data/dataset.h"
#include "testutil.h"

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

/* ------------------------------------------------------------ helpers */

static char tmp_root[256];

static void tmp_setup(void)
{
    snprintf(tmp_root, sizeof tmp_root, "%s/clcnn-data-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmp_root));
}

static void tmp_teardown(void)
{
    DIR *d = opendir(tmp_root);
    if (!d)
        return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%s/%s", tmp_root, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(tmp_root);
}

/* tmp_root/name, in a static rotating buffer (the last 32 stay valid). */
static const char *tmp_path(const char *name)
{
    static char bufs[32][512];
    static int next;
    char *p = bufs[next++ % 32];
    snprintf(p, 512, "%s/%s", tmp_root, name);
    return p;
}

static const char *write_raw(const char *name, const void *bytes, size_t len)
{
    const char *p = tmp_path(name);
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(bytes, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
    return p;
}

static const char *write_gz(const char *name, const void *bytes, size_t len)
{
    const char *p = tmp_path(name);
    gzFile f = gzopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(gzwrite(f, bytes, (unsigned)len), (int)len);
    ck_assert_int_eq(gzclose(f), Z_OK);
    return p;
}

static unsigned char *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* An IDX file image: magic 00 00 type rank, big-endian dims, then data. */
static size_t make_idx(unsigned char *out, int type, int rank, const uint32_t *dims, const unsigned char *data,
                       size_t data_len)
{
    out[0] = 0;
    out[1] = 0;
    out[2] = (unsigned char)type;
    out[3] = (unsigned char)rank;
    for (int i = 0; i < rank; i++) {
        out[4 + 4 * i] = (unsigned char)(dims[i] >> 24);
        out[5 + 4 * i] = (unsigned char)(dims[i] >> 16);
        out[6 + 4 * i] = (unsigned char)(dims[i] >> 8);
        out[7 + 4 * i] = (unsigned char)dims[i];
    }
    memcpy(out + 4 + 4 * rank, data, data_len);
    return 4 + 4 * (size_t)rank + data_len;
}

/* 3 images of 2x3 with pixels 0, 40, 80, ... (mod 256) and labels 1 0 4. */
#define N_IMG 3
#define IMG_H 2
#define IMG_W 3
static unsigned char img_pixels[N_IMG * IMG_H * IMG_W];
static const unsigned char img_labels[N_IMG] = {1, 0, 4};
static unsigned char idx_images[64], idx_labels[64];
static size_t idx_images_len, idx_labels_len;

static void make_good_idx(void)
{
    for (size_t i = 0; i < sizeof img_pixels; i++)
        img_pixels[i] = (unsigned char)(i * 40 % 256);
    uint32_t idims[3] = {N_IMG, IMG_H, IMG_W}, ldims[1] = {N_IMG};
    idx_images_len = make_idx(idx_images, 0x08, 3, idims, img_pixels, sizeof img_pixels);
    idx_labels_len = make_idx(idx_labels, 0x08, 1, ldims, img_labels, sizeof img_labels);
}

static void check_small_idx_set(clcnn_ctx *ctx, const clcnn_dataset *ds)
{
    ck_assert_uint_eq(clcnn_dataset_count(ds), N_IMG);
    size_t shape[3];
    clcnn_dataset_image_shape(ds, shape);
    ck_assert_uint_eq(shape[0], IMG_H);
    ck_assert_uint_eq(shape[1], IMG_W);
    ck_assert_uint_eq(shape[2], 1);
    ck_assert_int_eq(clcnn_dataset_classes(ds), 5);
    ck_assert_ptr_nonnull(ds->u8); /* uint8 sources stay uint8 */
    ck_assert_ptr_null(ds->f32);
    float x[N_IMG * IMG_H * IMG_W];
    int32_t y[N_IMG];
    ck_assert_int_eq(clcnn_dataset_get(ctx, ds, 0, N_IMG, x, y), CLCNN_OK);
    for (size_t i = 0; i < sizeof img_pixels; i++)
        ck_assert_float_eq(x[i], img_pixels[i] / 255.0f);
    for (int i = 0; i < N_IMG; i++)
        ck_assert_int_eq(y[i], img_labels[i]);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Asserts status want and a message naming file (and the other given words). */
static void assert_error(clcnn_ctx *ctx, int st, int want, const char *file, const char *word1, const char *word2)
{
    const char *msg = clcnn_errmsg(ctx);
    ck_assert_msg(st == want, "status %d (%s), want %d; message: %s", st, clcnn_status_str(st), want, msg);
    ck_assert_msg(strchr(msg, '\n') == NULL, "message is not one line: %s", msg);
    ck_assert_msg(strstr(msg, base_name(file)) != NULL, "message does not name %s: %s", base_name(file), msg);
    if (word1)
        ck_assert_msg(strstr(msg, word1) != NULL, "message lacks \"%s\": %s", word1, msg);
    if (word2)
        ck_assert_msg(strstr(msg, word2) != NULL, "message lacks \"%s\": %s", word2, msg);
}

static const char *fixture(const char *name)
{
    static char p[4096];
    const char *dir = getenv("CLCNN_FIXTURE_DIR");
    if (dir && *dir) {
        snprintf(p, sizeof p, "%s/%s", dir, name);
    } else {
        const char *golden = getenv("CLCNN_GOLDEN_DIR");
        ck_assert_msg(golden != NULL, "set CLCNN_FIXTURE_DIR (or CLCNN_GOLDEN_DIR) to find tests/fixtures");
        snprintf(p, sizeof p, "%s/../fixtures/%s", golden, name);
    }
    return p;
}

/* ---------------------------------------------------------------- IDX */

START_TEST(idx_raw_and_gzip)
{
    clcnn_ctx *ctx = tu_ctx();
    make_good_idx();
    const char *paths[2][2] = {
        {write_raw("a-images", idx_images, idx_images_len), write_raw("a-labels", idx_labels, idx_labels_len)},
        {write_gz("b-images.gz", idx_images, idx_images_len), write_gz("b-labels.gz", idx_labels, idx_labels_len)},
    };
    for (int k = 0; k < 2; k++) {
        clcnn_dataset *ds = NULL;
        int st = clcnn_dataset_load_idx(ctx, &ds, paths[k][0], paths[k][1]);
        ck_assert_msg(st == CLCNN_OK, "%s", clcnn_errmsg(ctx));
        check_small_idx_set(ctx, ds);
        clcnn_dataset_free(ds);
    }
    /* gzip is recognised by content, not by name; concatenated members are
     * one stream, as with gzip -d */
    size_t len;
    unsigned char *gz = read_whole(paths[1][0], &len);
    unsigned char *two = malloc(2 * len);
    ck_assert_ptr_nonnull(two);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    /* two members: the first half of the file, then the rest */
    size_t half = idx_images_len / 2, n = 0;
    for (int part = 0; part < 2; part++) {
        ck_assert_int_eq(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
        zs.next_in = idx_images + (part ? half : 0);
        zs.avail_in = (unsigned)(part ? idx_images_len - half : half);
        zs.next_out = two + n;
        zs.avail_out = (unsigned)(2 * len - n);
        ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
        n += zs.total_out;
        deflateEnd(&zs);
        memset(&zs, 0, sizeof zs);
    }
    const char *multi = write_raw("d-images", two, n);
    clcnn_dataset *ds = NULL;
    ck_assert_msg(clcnn_dataset_load_idx(ctx, &ds, multi, tmp_path("b-labels.gz")) == CLCNN_OK, "%s", clcnn_errmsg(ctx));
    check_small_idx_set(ctx, ds);
    clcnn_dataset_free(ds);
    free(two);
    free(gz);
    clcnn_ctx_free(ctx);
}
END_TEST

/* One malformed-IDX case: bytes written (raw or gzip'd) as the images or
 * the labels file, beside a good partner. */
typedef struct idx_case {
    const char *what;
    int as_labels, gzip;
    unsigned char bytes[64];
    size_t len;
    const char *word1, *word2;
} idx_case;

static void run_idx_case(clcnn_ctx *ctx, const idx_case *c)
{
    char name[96];
    snprintf(name, sizeof name, "bad-%s%s", c->what, c->gzip ? ".gz" : "");
    for (char *p = name; *p; p++)
        if (*p == ' ')
            *p = '_';
    const char *bad = c->gzip ? write_gz(name, c->bytes, c->len) : write_raw(name, c->bytes, c->len);
    const char *good_images = write_raw("good-images", idx_images, idx_images_len);
    const char *good_labels = write_raw("good-labels", idx_labels, idx_labels_len);
    clcnn_dataset *ds = (clcnn_dataset *)1;
    int st = c->as_labels ? clcnn_dataset_load_idx(ctx, &ds, good_images, bad)
                          : clcnn_dataset_load_idx(ctx, &ds, bad, good_labels);
    ck_assert_msg(ds == NULL, "%s: out not cleared", c->what);
    assert_error(ctx, st, CLCNN_ERR_FORMAT, bad, c->word1, c->word2);
}

START_TEST(idx_malformed)
{
    clcnn_ctx *ctx = tu_ctx();
    make_good_idx();
    static idx_case cases[24];
    int n = 0;
    uint32_t d3[3] = {N_IMG, IMG_H, IMG_W}, d1[1] = {N_IMG};
    for (int gz = 0; gz < 2; gz++) {
        idx_case *c;
        c = &cases[n++];
        *c = (idx_case){"magic", 0, gz, {0}, 0, "not an IDX", NULL};
        c->len = make_idx(c->bytes, 0x08, 3, d3, img_pixels, sizeof img_pixels);
        c->bytes[1] = 0x08;

        c = &cases[n++];
        *c = (idx_case){"dtype", 0, gz, {0}, 0, "0x0d", "unsigned byte"};
        c->len = make_idx(c->bytes, 0x0D, 3, d3, img_pixels, sizeof img_pixels);

        c = &cases[n++];
        *c = (idx_case){"images rank", 0, gz, {0}, 0, "rank 2", NULL};
        uint32_t d2[2] = {N_IMG, IMG_H * IMG_W};
        c->len = make_idx(c->bytes, 0x08, 2, d2, img_pixels, sizeof img_pixels);

        c = &cases[n++];
        *c = (idx_case){"labels as images", 0, gz, {0}, 0, "rank 1", NULL};
        c->len = make_idx(c->bytes, 0x08, 1, d1, img_labels, sizeof img_labels);

        c = &cases[n++];
        *c = (idx_case){"images as labels", 1, gz, {0}, 0, "rank 3", NULL};
        c->len = make_idx(c->bytes, 0x08, 3, d3, img_pixels, sizeof img_pixels);

        c = &cases[n++];
        *c = (idx_case){"short header", 0, gz, {0}, 0, "truncated", NULL};
        c->len = make_idx(c->bytes, 0x08, 3, d3, img_pixels, 0) - 5;

        c = &cases[n++];
        *c = (idx_case){"overflow", 0, gz, {0}, 0, "4294967295", NULL};
        uint32_t huge[3] = {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu};
        c->len = make_idx(c->bytes, 0x08, 3, huge, img_pixels, sizeof img_pixels);

        c = &cases[n++];
        *c = (idx_case){"too many images", 0, gz, {0}, 0, "header says 60000 images of 2x3",
                        "holds 18 bytes of pixels"};
        uint32_t many[3] = {60000, IMG_H, IMG_W};
        c->len = make_idx(c->bytes, 0x08, 3, many, img_pixels, sizeof img_pixels);

        c = &cases[n++];
        *c = (idx_case){"truncated pixels", 0, gz, {0}, 0, "holds 17 bytes", NULL};
        c->len = make_idx(c->bytes, 0x08, 3, d3, img_pixels, sizeof img_pixels - 1);

        c = &cases[n++];
        *c = (idx_case){"trailing garbage", 0, gz, {0}, 0, "trailing garbage", NULL};
        c->len = make_idx(c->bytes, 0x08, 3, d3, img_pixels, sizeof img_pixels) + 2;

        c = &cases[n++];
        *c = (idx_case){"truncated labels", 1, gz, {0}, 0, "header says 3 labels", "holds 2 bytes"};
        c->len = make_idx(c->bytes, 0x08, 1, d1, img_labels, 2);

        c = &cases[n++];
        *c = (idx_case){"no images", 0, gz, {0}, 0, "header says 0 images", NULL};
        uint32_t none[3] = {0, IMG_H, IMG_W};
        c->len = make_idx(c->bytes, 0x08, 3, none, img_pixels, 0);
    }
    for (int i = 0; i < n; i++)
        run_idx_case(ctx, &cases[i]);
    clcnn_ctx_free(ctx);
}
END_TEST

START_TEST(idx_bad_files)
{
    clcnn_ctx *ctx = tu_ctx();
    make_good_idx();
    const char *good_images = write_raw("good-images", idx_images, idx_images_len);
    const char *good_labels = write_raw("good-labels", idx_labels, idx_labels_len);
    clcnn_dataset *ds = NULL;

    /* a missing file */
    const char *missing = tmp_path("missing-images");
    assert_error(ctx, clcnn_dataset_load_idx(ctx, &ds, missing, good_labels), CLCNN_ERR_IO, missing,
                 "does not exist", NULL);

    /* count mismatch */
    uint32_t d1[1] = {2};
    unsigned char two_labels[16];
    size_t n = make_idx(two_labels, 0x08, 1, d1, img_labels, 2);
    const char *lab2 = write_raw("two-labels", two_labels, n);
    assert_error(ctx, clcnn_dataset_load_idx(ctx, &ds, good_images, lab2), CLCNN_ERR_FORMAT, lab2,
                 "holds 3 images", "holds 2 labels");

    /* gzip: truncated, corrupt, garbage after the stream */
    size_t gl;
    unsigned char *gz = read_whole(write_gz("x.gz", idx_images, idx_images_len), &gl);
    const char *trunc = write_raw("truncated.gz", gz, gl - 6);
    assert_error(ctx, clcnn_dataset_load_idx(ctx, &ds, trunc, good_labels), CLCNN_ERR_FORMAT, trunc, "truncated",
                 NULL);
    unsigned char *bad = malloc(gl + 8);
    ck_assert_ptr_nonnull(bad);
    memcpy(bad, gz, gl);
    bad[gl - 5] ^= 0x55; /* the length in the gzip trailer */
    const char *corrupt = write_raw("corrupt.gz", bad, gl);
    assert_error(ctx, clcnn_dataset_load_idx(ctx, &ds, corrupt, good_labels), CLCNN_ERR_FORMAT, corrupt,
                 "corrupt gzip", NULL);
    memcpy(bad, gz, gl);
    memcpy(bad + gl, "garbage!", 8);
    const char *garbage = write_raw("garbage.gz", bad, gl + 8);
    assert_error(ctx, clcnn_dataset_load_idx(ctx, &ds, garbage, good_labels), CLCNN_ERR_FORMAT, garbage,
                 "8 bytes of garbage", NULL);
    free(bad);
    free(gz);

    /* arguments */
    ck_assert_int_eq(clcnn_dataset_load_idx(ctx, NULL, good_images, good_labels), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_dataset_load_idx(ctx, &ds, NULL, good_labels), CLCNN_ERR_ARGUMENT);
    ck_assert_ptr_null(ds);
    clcnn_ctx_free(ctx);
}
END_TEST

START_TEST(idx_directory)
{
    clcnn_ctx *ctx = tu_ctx();
    make_good_idx();
    clcnn_dataset *train = NULL, *valid = (clcnn_dataset *)1, *test = (clcnn_dataset *)1;

    /* an empty directory: train is required */
    int st = clcnn_data_load(ctx, tmp_root, &train, &valid, &test);
    assert_error(ctx, st, CLCNN_ERR_IO, "train-images-idx3-ubyte", "does not exist", NULL);
    ck_assert_ptr_null(train);

    /* train only, raw images with gzip'd labels: no test, never a valid */
    write_raw("train-images-idx3-ubyte", idx_images, idx_images_len);
    write_gz("train-labels-idx1-ubyte.gz", idx_labels, idx_labels_len);
    valid = test = (clcnn_dataset *)1;
    st = clcnn_data_load(ctx, tmp_root, &train, &valid, &test);
    ck_assert_msg(st == CLCNN_OK, "%s", clcnn_errmsg(ctx));
    check_small_idx_set(ctx, train);
    ck_assert_ptr_null(valid);
    ck_assert_ptr_null(test);
    clcnn_dataset_free(train);

    /* test images without test labels */
    write_gz("t10k-images-idx3-ubyte.gz", idx_images, idx_images_len);
    st = clcnn_data_load(ctx, tmp_root, &train, NULL, &test);
    assert_error(ctx, st, CLCNN_ERR_IO, "t10k-labels-idx1-ubyte", "does not exist", NULL);
    ck_assert_ptr_null(train);
    ck_assert_ptr_null(test);

    /* both splits; valid and test pointers may be NULL */
    write_raw("t10k-labels-idx1-ubyte", idx_labels, idx_labels_len);
    st = clcnn_data_load(ctx, tmp_root, &train, NULL, &test);
    ck_assert_msg(st == CLCNN_OK, "%s", clcnn_errmsg(ctx));
    check_small_idx_set(ctx, train);
    check_small_idx_set(ctx, test);
    clcnn_dataset_free(train);
    clcnn_dataset_free(test);
    st = clcnn_data_load(ctx, tmp_root, &train, NULL, NULL);
    ck_assert_msg(st == CLCNN_OK, "%s", clcnn_errmsg(ctx));
    clcnn_dataset_free(train);

    /* a malformed member is reported by its own name */
    write_raw("t10k-labels-idx1-ubyte", idx_labels, idx_labels_len - 1);
    st = clcnn_data_load(ctx, tmp_root, &train, NULL, &test);
    assert_error(ctx, st, CLCNN_ERR_FORMAT, "t10k-labels-idx1-ubyte", "holds 2 bytes", NULL);
    ck_assert_ptr_null(train);

    /* a path that is not there */
    const char *nowhere = tmp_path("nowhere");
    assert_error(ctx, clcnn_data_load(ctx, nowhere, &train, NULL, NULL), CLCNN_ERR_IO, nowhere, "does not exist",
                 NULL);
    ck_assert_int_eq(clcnn_data_load(ctx, NULL, &train, NULL, NULL), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_data_load(ctx, tmp_root, NULL, NULL, NULL), CLCNN_ERR_ARGUMENT);
    clcnn_ctx_free(ctx);
}
END_TEST

/* ---------------------------------------------------------------- npz */

/* The formulas of tests/fixtures/make_fixtures.py. */
static float fx_pixel(size_t i, int u8)
{
    return u8 ? (float)(i % 256) / 255.0f : (float)((i % 251) / 250.0);
}

static void check_fixture_split(clcnn_ctx *ctx, const clcnn_dataset *ds, size_t n, size_t h, size_t w, size_t c,
                                int u8, int offset)
{
    ck_assert_ptr_nonnull(ds);
    ck_assert_uint_eq(clcnn_dataset_count(ds), n);
    size_t shape[3];
    clcnn_dataset_image_shape(ds, shape);
    ck_assert_uint_eq(shape[0], h);
    ck_assert_uint_eq(shape[1], w);
    ck_assert_uint_eq(shape[2], c);
    ck_assert_msg((ds->u8 != NULL) == (u8 != 0) && (ds->f32 != NULL) == (u8 == 0), "pixel storage");
    size_t count = n * h * w * c;
    float *x = malloc(count * sizeof *x);
    int32_t *y = malloc(n * sizeof *y);
    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_nonnull(y);
    ck_assert_int_eq(clcnn_dataset_get(ctx, ds, 0, n, x, y), CLCNN_OK);
    int max = 0;
    for (size_t i = 0; i < count; i++)
        ck_assert_msg(fabsf(x[i] - fx_pixel(i, u8)) <= 1e-7f, "pixel %zu = %g, want %g", i, (double)x[i],
                      (double)fx_pixel(i, u8));
    for (size_t i = 0; i < n; i++) {
        int want = (int)((i * 7 + (size_t)offset) % 10);
        ck_assert_int_eq(y[i], want);
        if (want > max)
            max = want;
    }
    ck_assert_int_eq(clcnn_dataset_classes(ds), max + 1);
    free(x);
    free(y);
}

START_TEST(npz_good)
{
    clcnn_ctx *ctx = tu_ctx();
    const char *names[2] = {"good.npz", "good_compressed.npz"};
    for (int k = 0; k < 2; k++) {
        clcnn_dataset *train = NULL, *valid = NULL, *test = NULL;
        int st = clcnn_data_load(ctx, fixture(names[k]), &train, &valid, &test);
        ck_assert_msg(st == CLCNN_OK, "%s: %s", names[k], clcnn_errmsg(ctx));
        check_fixture_split(ctx, train, 5, 4, 3, 1, 0, 0);
        check_fixture_split(ctx, valid, 2, 4, 3, 1, 0, 1);
        check_fixture_split(ctx, test, 3, 4, 3, 2, 1, 2);
        clcnn_dataset_free(train);
        clcnn_dataset_free(valid);
        clcnn_dataset_free(test);
        /* unwanted splits are not loaded */
        st = clcnn_data_load(ctx, fixture(names[k]), &train, NULL, NULL);
        ck_assert_msg(st == CLCNN_OK, "%s: %s", names[k], clcnn_errmsg(ctx));
        check_fixture_split(ctx, train, 5, 4, 3, 1, 0, 0);
        clcnn_dataset_free(train);
    }
    clcnn_dataset *train = NULL, *valid = (clcnn_dataset *)1, *test = (clcnn_dataset *)1;
    int st = clcnn_data_load(ctx, fixture("train_only.npz"), &train, &valid, &test);
    ck_assert_msg(st == CLCNN_OK, "%s", clcnn_errmsg(ctx));
    check_fixture_split(ctx, train, 6, 2, 2, 1, 1, 3);
    ck_assert_ptr_null(valid);
    ck_assert_ptr_null(test);
    clcnn_dataset_free(train);
    clcnn_ctx_free(ctx);
}
END_TEST

START_TEST(npz_malformed_content)
{
    static const struct {
        const char *file, *word1, *word2;
    } cases[] = {
        {"bad_range.npz", "X_train.npy", "1.5, outside [0, 1]"},
        {"bad_nan.npz", "X_train.npy", "outside [0, 1]"},
        {"bad_label_negative.npz", "Y_train.npy", "label 3 is -1"},
        {"bad_label_256.npz", "Y_train.npy", "label 1 is 256"},
        {"bad_label_fraction.npz", "Y_train.npy", "label 4 is 2.5"},
        {"bad_count.npz", "Y_train.npy", "4 labels for 5 images"},
        {"bad_rank.npz", "X_train.npy", "rank 2"},
        {"bad_label_rank.npz", "Y_train.npy", "rank 2"},
        {"bad_dtype.npz", "X_train.npy", "int32"},
        {"no_labels.npz", "no member Y_train.npy", NULL},
        {"no_train.npz", "no member X_train.npy", NULL},
        {"valid_without_labels.npz", "no member Y_valid.npy", NULL},
    };
    clcnn_ctx *ctx = tu_ctx();
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        clcnn_dataset *train = NULL, *valid = NULL, *test = NULL;
        int st = clcnn_data_load(ctx, fixture(cases[i].file), &train, &valid, &test);
        assert_error(ctx, st, CLCNN_ERR_FORMAT, cases[i].file, cases[i].word1, cases[i].word2);
        ck_assert_ptr_null(train);
        ck_assert_ptr_null(valid);
        ck_assert_ptr_null(test);
    }
    clcnn_ctx_free(ctx);
}
END_TEST

static unsigned rd16(const unsigned char *p)
{
    return p[0] | p[1] << 8;
}

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void wr32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Loads a corrupted copy of a fixture and expects a FORMAT error with word. */
static void expect_zip_error(clcnn_ctx *ctx, const char *name, const unsigned char *bytes, size_t len,
                             const char *word1, const char *word2)
{
    const char *p = write_raw(name, bytes, len);
    clcnn_dataset *train = NULL, *test = NULL;
    int st = clcnn_data_load(ctx, p, &train, NULL, &test);
    assert_error(ctx, st, CLCNN_ERR_FORMAT, p, word1, word2);
    ck_assert_ptr_null(train);
    ck_assert_ptr_null(test);
}

START_TEST(npz_malformed_zip)
{
    clcnn_ctx *ctx = tu_ctx();
    for (int compressed = 0; compressed < 2; compressed++) {
        size_t len;
        unsigned char *orig = read_whole(fixture(compressed ? "good_compressed.npz" : "good.npz"), &len);
        unsigned char *b = malloc(len + 64);
        ck_assert_ptr_nonnull(b);
        ck_assert_uint_ge(len, 22);
        size_t eocd = len - 22; /* numpy writes no archive comment */
        ck_assert_uint_eq(rd32(orig + eocd), 0x06054b50u);
        size_t cd = rd32(orig + eocd + 16);
        /* the first member: central entry at cd, local header at 0 */
        ck_assert_uint_eq(rd32(orig + cd), 0x02014b50u);
        ck_assert_uint_eq(rd32(orig + cd + 42), 0);
        size_t data0 = 30 + rd16(orig + 26) + rd16(orig + 28);

#define RESET() memcpy(b, orig, len)
        RESET();
        expect_zip_error(ctx, "truncated.npz", b, len - 7, "end-of-central-directory", NULL);
        expect_zip_error(ctx, "tiny.npz", b, 10, "not a zip archive", NULL);
        memcpy(b + len, "junk", 4);
        expect_zip_error(ctx, "trailing.npz", b, len + 4, "4 bytes of garbage after the end-of-central-directory",
                         NULL);

        RESET();
        b[data0 + 100] ^= 0x01; /* one bit of X_train's data */
        expect_zip_error(ctx, compressed ? "flipped_deflate.npz" : "flipped_stored.npz", b, len, "X_train.npy",
                         compressed ? NULL : "CRC-32");
        if (compressed) {
            const char *msg = clcnn_errmsg(ctx);
            ck_assert_msg(strstr(msg, "CRC-32") || strstr(msg, "deflate") || strstr(msg, "inflate"), "%s", msg);
        }

        RESET();
        wr16(b + cd + 10, 12); /* bzip2 */
        expect_zip_error(ctx, "method.npz", b, len, "X_train.npy", "method 12");

        RESET();
        wr16(b + cd + 8, 1); /* encrypted */
        expect_zip_error(ctx, "encrypted.npz", b, len, "X_train.npy", "encrypted");

        RESET();
        wr32(b + eocd + 16, (uint32_t)len); /* central directory offset */
        expect_zip_error(ctx, "cd_offset.npz", b, len, "central directory", NULL);

        RESET();
        wr32(b + eocd + 16, 0xFFFFFFFFu);
        expect_zip_error(ctx, "zip64.npz", b, len, "ZIP64", NULL);

        RESET();
        wr16(b + eocd + 10, 40); /* more entries than the directory holds */
        wr16(b + eocd + 8, 40);
        expect_zip_error(ctx, "entries.npz", b, len, "central directory", NULL);

        RESET();
        wr32(b + cd + 42, (uint32_t)cd - 10); /* local header offset */
        expect_zip_error(ctx, "local_offset.npz", b, len, "X_train.npy", "local header");

        RESET();
        wr32(b + cd + 20, (uint32_t)cd); /* compressed size past the data */
        if (!compressed)
            wr32(b + cd + 24, (uint32_t)cd);
        expect_zip_error(ctx, "csize.npz", b, len, "X_train.npy", NULL);

        RESET();
        wr32(b + cd + 16, rd32(b + cd + 16) ^ 1); /* CRC in the directory */
        expect_zip_error(ctx, "crc.npz", b, len, "X_train.npy", NULL);

        RESET();
        wr32(b + cd + 16, rd32(b + cd + 16) ^ 1); /* CRC in both headers: the data check */
        wr32(b + 14, rd32(b + 14) ^ 1);
        expect_zip_error(ctx, "crc_both.npz", b, len, "X_train.npy", "CRC-32");

        RESET();
        wr32(b + cd + 24, rd32(b + cd + 24) + 1); /* uncompressed size */
        expect_zip_error(ctx, "usize.npz", b, len, "X_train.npy", NULL);

        if (compressed) { /* both sizes agree, the deflate stream does not */
            for (int d = -1; d <= 1; d += 2) {
                RESET();
                wr32(b + cd + 24, rd32(b + cd + 24) + (uint32_t)d);
                if (rd32(b + 22) != 0xFFFFFFFFu)
                    wr32(b + 22, rd32(b + 22) + (uint32_t)d);
                expect_zip_error(ctx, d < 0 ? "usize_less.npz" : "usize_more.npz", b, len, "X_train.npy",
                                 "inflates");
            }
        }

        RESET();
        b[cd + 46] = 'Z'; /* member name: now no X_train.npy at all */
        expect_zip_error(ctx, "renamed.npz", b, len, "no member X_train.npy", NULL);
#undef RESET
        free(b);
        free(orig);
    }
    /* not a zip at all */
    const char *text = write_raw("notes.npz", "just some text, not an archive\n", 31);
    clcnn_dataset *train = NULL;
    assert_error(ctx, clcnn_data_load(ctx, text, &train, NULL, NULL), CLCNN_ERR_FORMAT, text, "not a zip archive",
                 NULL);
    clcnn_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------ create, split, get */

START_TEST(dataset_create_split_get)
{
    clcnn_ctx *ctx = tu_ctx();
    enum { N = 10, H = 2, W = 3, C = 2, PER = H * W * C };
    float x[N * PER];
    int32_t y[N];
    tu_fill_random(x, N * PER, 7, 0.0f, 1.0f);
    for (int i = 0; i < N; i++)
        y[i] = (i * 3) % 7;
    clcnn_dataset *ds = NULL, *tail = NULL;
    int st = clcnn_dataset_create(ctx, &ds, N, H, W, C, x, y);
    ck_assert_msg(st == CLCNN_OK, "%s", clcnn_errmsg(ctx));
    ck_assert_uint_eq(clcnn_dataset_count(ds), N);
    ck_assert_int_eq(clcnn_dataset_classes(ds), 7);
    size_t shape[3];
    clcnn_dataset_image_shape(ds, shape);
    ck_assert_uint_eq(shape[0], H);
    ck_assert_uint_eq(shape[1], W);
    ck_assert_uint_eq(shape[2], C);

    /* get: a window, either destination optional, bounds checked */
    float gx[N * PER];
    int32_t gy[N];
    ck_assert_int_eq(clcnn_dataset_get(ctx, ds, 2, 5, gx, gy), CLCNN_OK);
    ck_assert_mem_eq(gx, x + 2 * PER, 5 * PER * sizeof(float));
    ck_assert_mem_eq(gy, y + 2, 5 * sizeof(int32_t));
    ck_assert_int_eq(clcnn_dataset_get(ctx, ds, 9, 1, NULL, gy), CLCNN_OK);
    ck_assert_int_eq(gy[0], y[9]);
    ck_assert_int_eq(clcnn_dataset_get(ctx, ds, 10, 0, gx, gy), CLCNN_OK);
    ck_assert_int_eq(clcnn_dataset_get(ctx, ds, 8, 3, gx, gy), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_dataset_get(ctx, ds, (size_t)-1, 2, gx, gy), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_dataset_get(ctx, NULL, 0, 1, gx, gy), CLCNN_ERR_ARGUMENT);

    /* split_tail: the last 4 move, both parts keep their values */
    ck_assert_int_eq(clcnn_dataset_split_tail(ctx, ds, 0, &tail), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_dataset_split_tail(ctx, ds, N, &tail), CLCNN_ERR_ARGUMENT);
    ck_assert_ptr_null(tail);
    st = clcnn_dataset_split_tail(ctx, ds, 4, &tail);
    ck_assert_msg(st == CLCNN_OK, "%s", clcnn_errmsg(ctx));
    ck_assert_uint_eq(clcnn_dataset_count(ds), 6);
    ck_assert_uint_eq(clcnn_dataset_count(tail), 4);
    ck_assert_int_eq(clcnn_dataset_get(ctx, ds, 0, 6, gx, gy), CLCNN_OK);
    ck_assert_mem_eq(gx, x, 6 * PER * sizeof(float));
    ck_assert_mem_eq(gy, y, 6 * sizeof(int32_t));
    ck_assert_int_eq(clcnn_dataset_get(ctx, tail, 0, 4, gx, gy), CLCNN_OK);
    ck_assert_mem_eq(gx, x + 6 * PER, 4 * PER * sizeof(float));
    ck_assert_mem_eq(gy, y + 6, 4 * sizeof(int32_t));
    /* labels 0 3 6 2 5 1 | 4 0 3 6 */
    ck_assert_int_eq(clcnn_dataset_classes(ds), 7);
    ck_assert_int_eq(clcnn_dataset_classes(tail), 7);
    clcnn_dataset_image_shape(tail, shape);
    ck_assert_uint_eq(shape[0] * shape[1] * shape[2], PER);
    ck_assert_int_eq(clcnn_dataset_get(ctx, ds, 6, 1, gx, gy), CLCNN_ERR_ARGUMENT);
    clcnn_dataset_free(tail);
    clcnn_dataset_free(ds);

    /* bad arguments */
    ds = (clcnn_dataset *)1;
    x[5] = 1.5f;
    ck_assert_int_eq(clcnn_dataset_create(ctx, &ds, N, H, W, C, x, y), CLCNN_ERR_ARGUMENT);
    ck_assert_ptr_null(ds);
    x[5] = NAN;
    ck_assert_int_eq(clcnn_dataset_create(ctx, &ds, N, H, W, C, x, y), CLCNN_ERR_ARGUMENT);
    x[5] = 0.5f;
    y[3] = -1;
    ck_assert_int_eq(clcnn_dataset_create(ctx, &ds, N, H, W, C, x, y), CLCNN_ERR_ARGUMENT);
    y[3] = 0;
    ck_assert_int_eq(clcnn_dataset_create(ctx, &ds, 0, H, W, C, x, y), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_dataset_create(ctx, &ds, N, H, 0, C, x, y), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_dataset_create(ctx, &ds, N, H, W, C, NULL, y), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_dataset_create(ctx, NULL, N, H, W, C, x, y), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_dataset_create(ctx, &ds, (size_t)1 << 62, 1 << 20, W, C, x, y), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_dataset_create(NULL, &ds, N, H, W, C, NULL, y), CLCNN_ERR_ARGUMENT);
    ck_assert_uint_eq(clcnn_dataset_count(NULL), 0);
    ck_assert_int_eq(clcnn_dataset_classes(NULL), 0);
    clcnn_dataset_free(NULL);
    clcnn_ctx_free(ctx);
}
END_TEST

START_TEST(split_tail_uint8)
{
    clcnn_ctx *ctx = tu_ctx();
    make_good_idx();
    clcnn_dataset *ds = NULL, *tail = NULL;
    const char *ip = write_raw("i", idx_images, idx_images_len), *lp = write_raw("l", idx_labels, idx_labels_len);
    ck_assert_int_eq(clcnn_dataset_load_idx(ctx, &ds, ip, lp), CLCNN_OK);
    ck_assert_int_eq(clcnn_dataset_split_tail(ctx, ds, 1, &tail), CLCNN_OK);
    ck_assert_ptr_nonnull(tail->u8);
    ck_assert_uint_eq(clcnn_dataset_count(ds), 2);
    ck_assert_int_eq(clcnn_dataset_classes(ds), 2); /* labels 1 0 */
    ck_assert_int_eq(clcnn_dataset_classes(tail), 5); /* label 4 */
    float x[IMG_H * IMG_W];
    int32_t y;
    ck_assert_int_eq(clcnn_dataset_get(ctx, tail, 0, 1, x, &y), CLCNN_OK);
    ck_assert_int_eq(y, 4);
    for (int i = 0; i < IMG_H * IMG_W; i++)
        ck_assert_float_eq(x[i], img_pixels[2 * IMG_H * IMG_W + i] / 255.0f);
    clcnn_dataset_free(tail);
    clcnn_dataset_free(ds);
    clcnn_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------ Fashion-MNIST */

static void check_balanced(clcnn_ctx *ctx, const clcnn_dataset *ds, size_t n, size_t per_class)
{
    ck_assert_uint_eq(clcnn_dataset_count(ds), n);
    size_t shape[3];
    clcnn_dataset_image_shape(ds, shape);
    ck_assert_uint_eq(shape[0], 28);
    ck_assert_uint_eq(shape[1], 28);
    ck_assert_uint_eq(shape[2], 1);
    ck_assert_int_eq(clcnn_dataset_classes(ds), 10);
    ck_assert_ptr_nonnull(ds->u8);
    int32_t *y = malloc(n * sizeof *y);
    ck_assert_ptr_nonnull(y);
    ck_assert_int_eq(clcnn_dataset_get(ctx, ds, 0, n, NULL, y), CLCNN_OK);
    size_t hist[10] = {0};
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(y[i] >= 0 && y[i] <= 9, "label %zu is %d", i, (int)y[i]);
        hist[y[i]]++;
    }
    for (int k = 0; k < 10; k++)
        ck_assert_uint_eq(hist[k], per_class); /* Fashion-MNIST is balanced */
    ck_assert_int_eq(y[0], 9); /* the first image of either file is an ankle boot */
    free(y);
    float *x = malloc(28 * 28 * sizeof *x);
    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(clcnn_dataset_get(ctx, ds, n - 1, 1, x, NULL), CLCNN_OK);
    float lo = 1, hi = 0;
    for (int i = 0; i < 28 * 28; i++) {
        lo = fminf(lo, x[i]);
        hi = fmaxf(hi, x[i]);
    }
    ck_assert(lo >= 0.0f && hi <= 1.0f && hi > lo);
    free(x);
}

START_TEST(fashion_mnist)
{
    struct stat sb;
    if (stat(FASHION_DIR, &sb) != 0) {
        printf("note: %s is absent (install dataset-fashion-mnist); skipping the Fashion-MNIST test\n", FASHION_DIR);
        return;
    }
    clcnn_ctx *ctx = tu_ctx();
    clcnn_dataset *train = NULL, *valid = (clcnn_dataset *)1, *test = NULL, *tail = NULL;
    int st = clcnn_data_load(ctx, FASHION_DIR, &train, &valid, &test);
    ck_assert_msg(st == CLCNN_OK, "%s", clcnn_errmsg(ctx));
    ck_assert_ptr_null(valid);
    check_balanced(ctx, train, 60000, 6000);
    check_balanced(ctx, test, 10000, 1000);
    /* the default recipe: validate on the last 10,000 training images */
    ck_assert_int_eq(clcnn_dataset_split_tail(ctx, train, 10000, &tail), CLCNN_OK);
    ck_assert_uint_eq(clcnn_dataset_count(train), 50000);
    ck_assert_uint_eq(clcnn_dataset_count(tail), 10000);
    clcnn_dataset_free(train);
    clcnn_dataset_free(tail);
    clcnn_dataset_free(test);
    clcnn_ctx_free(ctx);
}
END_TEST

static Suite *data_suite(void)
{
    Suite *s = suite_create("data");
    TCase *tc = tcase_create("data");
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, idx_raw_and_gzip);
    tcase_add_test(tc, idx_malformed);
    tcase_add_test(tc, idx_bad_files);
    tcase_add_test(tc, idx_directory);
    tcase_add_test(tc, npz_good);
    tcase_add_test(tc, npz_malformed_content);
    tcase_add_test(tc, npz_malformed_zip);
    tcase_add_test(tc, dataset_create_split_get);
    tcase_add_test(tc, split_tail_uint8);
    tcase_add_test(tc, fashion_mnist);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(data_suite());
}
