/*
 * .npy reading and writing, and the file layer and byte codecs under it
 * (src/core/io.c, src/core/bytes.h).  Fixtures in tests/golden/npy/ are made by
 * tests/golden/make_golden.py (write_npy_fixtures says what each holds).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"
#include "io.h"
#include "testutil.h"

static void fixture_path(char *out, size_t len, const char *name)
{
    const char *dir = getenv("CLCNN_GOLDEN_DIR");
    ck_assert_msg(dir != NULL, "CLCNN_GOLDEN_DIR is not set");
    snprintf(out, len, "%s/npy/%s", dir, name);
}

/* A fresh temporary directory (removed by rm_tree). */
static void make_tmpdir(char *out, size_t len)
{
    const char *base = getenv("TMPDIR");
    snprintf(out, len, "%s/clcnn-npy-XXXXXX", base && *base ? base : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(out));
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* --------------------------------------------------------------- round trip */

START_TEST(round_trip)
{
    static const size_t shapes[4][4] = {{5}, {3, 4}, {2, 3, 4}, {2, 1, 3, 2}};
    int rank = _i + 1;
    clcnn_ctx *ctx = tu_ctx();
    char dir[512], path[600];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/a.npy", dir);
    size_t n = 1;
    for (int d = 0; d < rank; d++)
        n *= shapes[_i][d];
    float *v = malloc(n * sizeof *v);
    ck_assert_ptr_nonnull(v);
    tu_fill_random(v, n, 7u + (unsigned)_i, -100, 100);
    v[0] = -0.0f;

    int st = clcnn_npy_write(ctx, path, v, rank, shapes[_i]);
    ck_assert_msg(st == CLCNN_OK, "write: %s", clcnn_errmsg(ctx));
    ck_assert_int_eq(count_entries(dir), 1); /* no temporary left behind */

    /* The file is a version 1.0 .npy that numpy reads: magic, a header
     * padded to a multiple of 64 bytes ending in a newline, then the data. */
    size_t len;
    unsigned char *bytes = slurp(path, &len);
    ck_assert_msg(len >= 10 && memcmp(bytes, "\x93NUMPY\x01\x00", 8) == 0, "bad magic or version");
    size_t hlen = bytes[8] | (size_t)bytes[9] << 8;
    ck_assert_uint_eq((10 + hlen) % 64, 0);
    ck_assert_uint_eq(len, 10 + hlen + n * sizeof(float));
    ck_assert_int_eq(bytes[10 + hlen - 1], '\n');
    ck_assert_ptr_nonnull(strstr((char *)bytes + 10, "'descr': '<f4'"));
    ck_assert_ptr_nonnull(strstr((char *)bytes + 10, "'fortran_order': False"));
    char want_shape[64];
    int k = snprintf(want_shape, sizeof want_shape, "'shape': (");
    for (int d = 0; d < rank; d++)
        k += snprintf(want_shape + k, sizeof want_shape - (size_t)k, d ? ", %zu" : "%zu", shapes[_i][d]);
    snprintf(want_shape + k, sizeof want_shape - (size_t)k, rank == 1 ? ",)" : ")");
    ck_assert_msg(strstr((char *)bytes + 10, want_shape) != NULL, "header lacks %s", want_shape);
    ck_assert_msg(memcmp(bytes + 10 + hlen, v, n * sizeof *v) == 0, "data bytes differ (little-endian host)");
    free(bytes);

    float *data = NULL;
    int got_rank = 0;
    size_t shape[CLCNN_MAX_RANK];
    st = clcnn_npy_read(ctx, path, &data, &got_rank, shape);
    ck_assert_msg(st == CLCNN_OK, "read: %s", clcnn_errmsg(ctx));
    ck_assert_int_eq(got_rank, rank);
    for (int d = 0; d < rank; d++)
        ck_assert_uint_eq(shape[d], shapes[_i][d]);
    ck_assert_msg(memcmp(data, v, n * sizeof *v) == 0, "round trip is not exact");
    clcnn_free(ctx, data);

    /* Overwriting an existing file replaces it, still atomically. */
    for (size_t i = 0; i < n; i++)
        v[i] = (float)i;
    ck_assert_int_eq(clcnn_npy_write(ctx, path, v, rank, shapes[_i]), CLCNN_OK);
    ck_assert_int_eq(count_entries(dir), 1);
    ck_assert_int_eq(clcnn_npy_read(ctx, path, &data, &got_rank, shape), CLCNN_OK);
    ck_assert_msg(memcmp(data, v, n * sizeof *v) == 0, "overwrite round trip is not exact");
    clcnn_free(ctx, data);

    free(v);
    rm_tree(dir);
    clcnn_ctx_free(ctx);
}
END_TEST

/* Rank 0 (a scalar) is a valid .npy: it round trips as one element. */
START_TEST(scalar)
{
    char dir[512], path[600];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/s.npy", dir);
    const float v = 2.25f;
    size_t shape[CLCNN_MAX_RANK] = {0};
    clcnn_ctx *ctx = tu_ctx();
    int st = clcnn_npy_write(ctx, path, &v, 0, shape);
    ck_assert_msg(st == CLCNN_OK, "write: %s", clcnn_errmsg(ctx));
    float *data = NULL;
    int rank = -1;
    st = clcnn_npy_read(ctx, path, &data, &rank, shape);
    ck_assert_msg(st == CLCNN_OK, "read: %s", clcnn_errmsg(ctx));
    ck_assert_int_eq(rank, 0);
    ck_assert_float_eq(data[0], 2.25f);
    clcnn_free(ctx, data);
    size_t len;
    unsigned char *bytes = slurp(path, &len);
    ck_assert_ptr_nonnull(strstr((char *)bytes + 10, "'shape': ()"));
    free(bytes);
    rm_tree(dir);
    clcnn_ctx_free(ctx);
}
END_TEST

/* ctx may be NULL. */
START_TEST(null_context)
{
    char dir[512], path[600];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/b.npy", dir);
    const float v[3] = {1.5f, -2, 3};
    size_t shape[CLCNN_MAX_RANK] = {3};
    ck_assert_int_eq(clcnn_npy_write(NULL, path, v, 1, shape), CLCNN_OK);
    float *data = NULL;
    int rank = 0;
    ck_assert_int_eq(clcnn_npy_read(NULL, path, &data, &rank, shape), CLCNN_OK);
    ck_assert_int_eq(rank, 1);
    ck_assert_uint_eq(shape[0], 3);
    ck_assert_msg(memcmp(data, v, sizeof v) == 0, "NULL-context round trip differs");
    free(data); /* no context: malloc'd, so free() frees it (as clcnn_free(NULL, data)) */
    char bad[4096];
    fixture_path(bad, sizeof bad, "bad_magic.npy");
    ck_assert_int_eq(clcnn_npy_read(NULL, bad, &data, &rank, shape), CLCNN_ERR_FORMAT);
    rm_tree(dir);
}
END_TEST

/* ------------------------------------------------------------ good fixtures */

typedef struct good_case {
    const char *file;
    int rank;
    size_t shape[4];
    float (*value)(size_t i); /* element i as make_golden.py wrote it */
} good_case;

static float v_half(size_t i) { return (float)i * 0.5f - 3.0f; }
static float v_u1(size_t i) { return (float)(i * 50); }
static float v_i4(size_t i) { return (float)i - 3.0f; }
static float v_i8(size_t i) { return (float)i * 1000.0f - 2500.0f; }

static const good_case good_cases[] = {
    {"good_f4.npy", 2, {2, 3}, v_half},       {"good_f8.npy", 2, {2, 3}, v_half},
    {"good_u1.npy", 2, {2, 3}, v_u1},         {"good_i4.npy", 2, {2, 3}, v_i4},
    {"good_i8.npy", 2, {2, 3}, v_i8},         {"good_f4_r1.npy", 1, {5}, v_half},
    {"good_f4_r4.npy", 4, {1, 2, 3, 4}, v_half},
};

START_TEST(read_dtypes)
{
    const good_case *c = &good_cases[_i];
    clcnn_ctx *ctx = tu_ctx();
    char path[4096];
    fixture_path(path, sizeof path, c->file);
    float *data = NULL;
    int rank = 0;
    size_t shape[CLCNN_MAX_RANK];
    int st = clcnn_npy_read(ctx, path, &data, &rank, shape);
    ck_assert_msg(st == CLCNN_OK, "%s: %s", c->file, clcnn_errmsg(ctx));
    ck_assert_int_eq(rank, c->rank);
    size_t n = 1;
    for (int d = 0; d < rank; d++) {
        ck_assert_uint_eq(shape[d], c->shape[d]);
        n *= shape[d];
    }
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(data[i] == c->value(i), "%s[%zu] = %g, want %g", c->file, i, data[i], c->value(i));
    clcnn_free(ctx, data);
    clcnn_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------------- bad fixtures */

static const char *const bad_files[] = {
    "bad_big_endian.npy", "bad_fortran.npy",  "bad_dtype_c8.npy", "bad_dtype_b1.npy",
    "bad_dtype_f2.npy",   "bad_rank5.npy",    "bad_truncated.npy", "bad_magic.npy",
    "bad_header.npy",     "bad_header_noshape.npy", "bad_header_len.npy",
};

START_TEST(read_malformed)
{
    const char *file = bad_files[_i];
    clcnn_ctx *ctx = tu_ctx();
    char path[4096];
    fixture_path(path, sizeof path, file);
    float *data = (float *)&path; /* must not be freed or kept on failure */
    int rank = -7;
    size_t shape[CLCNN_MAX_RANK];
    int st = clcnn_npy_read(ctx, path, &data, &rank, shape);
    ck_assert_msg(st == CLCNN_ERR_FORMAT, "%s: status %d (%s), want CLCNN_ERR_FORMAT; message: %s", file, st,
                  clcnn_status_str(st), clcnn_errmsg(ctx));
    ck_assert_msg(strstr(clcnn_errmsg(ctx), file) != NULL, "%s: the message does not name the file: \"%s\"", file,
                  clcnn_errmsg(ctx));
    clcnn_ctx_free(ctx);
}
END_TEST

/* Truncation at every byte of a good file is reported, never read past. */
START_TEST(read_every_truncation)
{
    clcnn_ctx *ctx = tu_ctx();
    char src[4096], dir[512], path[600];
    fixture_path(src, sizeof src, "good_f4.npy");
    size_t len;
    unsigned char *bytes = slurp(src, &len);
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/cut.npy", dir);
    for (size_t cut = 0; cut < len; cut++) {
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(bytes, 1, cut, f), cut);
        fclose(f);
        float *data = NULL;
        int rank = 0;
        size_t shape[CLCNN_MAX_RANK];
        int st = clcnn_npy_read(ctx, path, &data, &rank, shape);
        ck_assert_msg(st == CLCNN_ERR_FORMAT, "cut at %zu of %zu: status %d, want CLCNN_ERR_FORMAT", cut, len, st);
        ck_assert_ptr_nonnull(strstr(clcnn_errmsg(ctx), "cut.npy"));
    }
    free(bytes);
    rm_tree(dir);
    clcnn_ctx_free(ctx);
}
END_TEST

START_TEST(io_errors)
{
    clcnn_ctx *ctx = tu_ctx();
    float *data = NULL;
    int rank = 0;
    size_t shape[CLCNN_MAX_RANK] = {2, 2, 2, 2};
    const float v[16] = {0};
    int st = clcnn_npy_read(ctx, "/nonexistent-dir-clcnn/missing.npy", &data, &rank, shape);
    ck_assert_int_eq(st, CLCNN_ERR_IO);
    ck_assert_ptr_nonnull(strstr(clcnn_errmsg(ctx), "missing.npy"));
    st = clcnn_npy_write(ctx, "/nonexistent-dir-clcnn/out.npy", v, 4, shape);
    ck_assert_int_eq(st, CLCNN_ERR_IO);
    ck_assert_ptr_nonnull(strstr(clcnn_errmsg(ctx), "out.npy"));

    char dir[512], path[600];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/c.npy", dir);
    ck_assert_int_eq(clcnn_npy_write(ctx, path, v, -1, shape), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_npy_write(ctx, path, v, 5, shape), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_npy_write(ctx, path, NULL, 1, shape), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_npy_write(ctx, path, v, 1, NULL), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_npy_write(ctx, NULL, v, 1, shape), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(count_entries(dir), 0); /* nothing written on error */
    ck_assert_int_eq(clcnn_npy_read(ctx, NULL, &data, &rank, shape), CLCNN_ERR_ARGUMENT);
    char good[4096];
    fixture_path(good, sizeof good, "good_f4.npy");
    ck_assert_int_eq(clcnn_npy_read(ctx, good, NULL, &rank, shape), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_npy_read(ctx, good, &data, NULL, shape), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_npy_read(ctx, good, &data, &rank, NULL), CLCNN_ERR_ARGUMENT);
    /* a directory is not a file */
    st = clcnn_npy_read(ctx, dir, &data, &rank, shape);
    ck_assert_msg(st == CLCNN_ERR_IO || st == CLCNN_ERR_FORMAT, "reading a directory: status %d", st);
    rm_tree(dir);
    clcnn_ctx_free(ctx);
}
END_TEST

/* ------------------------------------------------------ file layer, codecs */

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fputs(text, f) >= 0, 1);
    ck_assert_int_eq(fclose(f), 0);
}

static void assert_message(clcnn_ctx *ctx, const char *a, const char *b)
{
    const char *m = clcnn_errmsg(ctx);
    ck_assert_msg(strstr(m, a) && strstr(m, b), "message \"%s\" should hold \"%s\" and \"%s\"", m, a, b);
}

START_TEST(read_file_limits)
{
    tu_counter c;
    tu_counter_init(&c, -1);
    const clcnn_ctx_options o = {.device = tu_device(), .allocator = &c.hook};
    clcnn_ctx *ctx = NULL;
    ck_assert_int_eq(clcnn_ctx_create_with_options(&ctx, &o), CLCNN_OK);
    char dir[512], path[600], missing[600];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/ten", dir);
    snprintf(missing, sizeof missing, "%s/missing", dir);
    write_text(path, "0123456789");

    unsigned char *b = NULL;
    size_t len = 0;
    ck_assert_int_eq(clcnn_read_file(ctx, path, 10, &b, &len), CLCNN_OK);
    ck_assert_uint_eq(len, 10);
    ck_assert_int_eq(memcmp(b, "0123456789", 10), 0);
    ck_assert(tu_counter_owns(&c, b)); /* the context's allocator */
    clcnn_mem_free(&c.hook, b, len);

    ck_assert_int_eq(clcnn_read_file(ctx, path, 9, &b, &len), CLCNN_ERR_FORMAT);
    ck_assert_ptr_null(b);
    assert_message(ctx, path, "larger than 9 bytes");
    ck_assert_int_eq(clcnn_read_file(ctx, missing, 100, &b, &len), CLCNN_ERR_IO);
    assert_message(ctx, missing, strerror(ENOENT));
    ck_assert_int_eq(clcnn_read_file(ctx, dir, 100, &b, &len), CLCNN_ERR_IO);
    assert_message(ctx, dir, "not a regular file");

    /* The quiet form leaves the message alone. */
    clcnn_error(ctx, CLCNN_ERR_IO, "before");
    ck_assert_int_eq(clcnn_read_file_quiet(&c.hook, missing, 100, &b, &len), CLCNN_ERR_IO);
    ck_assert_str_eq(clcnn_errmsg(ctx), "before");

    rm_tree(dir);
    clcnn_ctx_free(ctx);
    tu_counter_check_clean(&c, "after the reads");
}
END_TEST

/* A writer that writes part of its text, then fails as a full disk. */
static int write_then_fail(int fd, void *user)
{
    if (clcnn_write_all(fd, user, 3) != 0)
        return -1;
    errno = ENOSPC;
    return -1;
}

START_TEST(write_atomic_failure_keeps_old_file)
{
    clcnn_ctx *ctx = tu_ctx();
    char dir[512], path[600];
    make_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/out", dir);
    ck_assert_int_eq(clcnn_write_file_atomic(ctx, path, "old", 3), CLCNN_OK);
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0644);

    ck_assert_int_eq(clcnn_write_atomic(ctx, path, write_then_fail, "new text"), CLCNN_ERR_IO);
    assert_message(ctx, path, strerror(ENOSPC));
    ck_assert_int_eq(count_entries(dir), 1); /* the temporary file is gone */
    size_t len;
    unsigned char *b = slurp(path, &len);
    ck_assert_uint_eq(len, 3);
    ck_assert_int_eq(memcmp(b, "old", 3), 0);
    free(b);

    ck_assert_int_eq(clcnn_write_file_atomic(ctx, path, "new text", 8), CLCNN_OK);
    b = slurp(path, &len);
    ck_assert_uint_eq(len, 8);
    ck_assert_int_eq(memcmp(b, "new text", 8), 0);
    free(b);
    ck_assert_int_eq(count_entries(dir), 1);
    rm_tree(dir);
    clcnn_ctx_free(ctx);
}
END_TEST

START_TEST(byte_codecs)
{
    static const unsigned char b[8] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x88};
    ck_assert_uint_eq(get_le16(b), 0x0201u);
    ck_assert_uint_eq(get_le32(b), 0x04030201u);
    ck_assert_uint_eq(get_le64(b), 0x8807060504030201u);
    ck_assert_uint_eq(get_be32(b), 0x01020304u);
    unsigned char out[8];
    put_le16(out, 0x0201u);
    ck_assert_int_eq(memcmp(out, b, 2), 0);
    put_le32(out, 0x04030201u);
    ck_assert_int_eq(memcmp(out, b, 4), 0);
    put_le64(out, 0x8807060504030201u);
    ck_assert_int_eq(memcmp(out, b, 8), 0);
    static const unsigned char one_f32[4] = {0x00, 0x00, 0x80, 0x3f}, one_f64[8] = {0, 0, 0, 0, 0, 0, 0xf0, 0x3f};
    put_lef32(out, 1.0f);
    ck_assert_int_eq(memcmp(out, one_f32, 4), 0);
    ck_assert(get_lef32(one_f32) == 1.0f);
    put_lef64(out, 1.0);
    ck_assert_int_eq(memcmp(out, one_f64, 8), 0);
    ck_assert(get_lef64(one_f64) == 1.0);
    /* The CRC-32 check value, in one go and in two parts. */
    ck_assert_uint_eq(clcnn_crc32(0, "123456789", 9), 0xcbf43926u);
    ck_assert_uint_eq(clcnn_crc32(clcnn_crc32(0, "1234", 4), "56789", 5), 0xcbf43926u);
}
END_TEST

static Suite *npy_suite(void)
{
    Suite *s = suite_create("npy");
    TCase *tc = tcase_create("npy");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, round_trip, 0, 4);
    tcase_add_test(tc, scalar);
    tcase_add_test(tc, null_context);
    tcase_add_loop_test(tc, read_dtypes, 0, (int)(sizeof good_cases / sizeof good_cases[0]));
    tcase_add_loop_test(tc, read_malformed, 0, (int)(sizeof bad_files / sizeof bad_files[0]));
    tcase_add_test(tc, read_every_truncation);
    tcase_add_test(tc, io_errors);
    tcase_add_test(tc, read_file_limits);
    tcase_add_test(tc, write_atomic_failure_keeps_old_file);
    tcase_add_test(tc, byte_codecs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(npy_suite());
}
