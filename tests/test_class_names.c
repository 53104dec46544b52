/* Class names: the API of models and data sets, their place in the model
 * file (format version 3, docs/model-format.md) through save/load and
 * checkpoints, older files without them, malformed name sections, and an
 * .npz's class_names array (tests/fixtures/make_fixtures.py). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "testutil.h"

static const char *const NAMES[4] = {"T-shirt/top", "b\xc3\xa4nd", "the \"third\"", "\xe3\x83\x96 4"};

static void ok(clcnn_ctx *ctx, int st, const char *what)
{
    ck_assert_msg(st == CLCNN_OK, "%s: %s (%s)", what, clcnn_status_str(st), clcnn_errmsg(ctx));
}

/* Fails unless st is want and the message holds every word given. */
static void expect(clcnn_ctx *ctx, int st, int want, const char *what, const char *word, const char *word2)
{
    ck_assert_msg(st == want, "%s: status %d (%s), want %d", what, st, clcnn_errmsg(ctx), want);
    ck_assert_msg(strstr(clcnn_errmsg(ctx), word) != NULL, "%s: the message does not say '%s': %s", what, word,
                  clcnn_errmsg(ctx));
    ck_assert_msg(!word2 || strstr(clcnn_errmsg(ctx), word2) != NULL, "%s: the message does not say '%s': %s", what,
                  word2, clcnn_errmsg(ctx));
}

/* 6x5x1 -> conv 3 -> pool -> flatten -> dense 4 softmax: the layers of
 * tests/fixtures/small_v2.model. */
static clcnn_model *small(clcnn_ctx *ctx)
{
    clcnn_model *m = NULL;
    ok(ctx, clcnn_model_create(ctx, &m, 6, 5, 1), "create");
    ok(ctx, clcnn_model_add_conv(m, 3, 3, 3, 1, 1, CLCNN_PAD_SAME, CLCNN_ACT_RELU), "conv");
    ok(ctx, clcnn_model_add_pool(m, 2, 2, 2, 2, CLCNN_POOL_MAX), "pool");
    ok(ctx, clcnn_model_add_flatten(m), "flatten");
    ok(ctx, clcnn_model_add_dense(m, 4, CLCNN_ACT_SOFTMAX), "dense");
    ok(ctx, clcnn_model_init(m, 7), "init");
    return m;
}

static void names_are(const clcnn_model *m, const char *const *want, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        const char *got = clcnn_model_class_name(m, i);
        ck_assert_msg(got && strcmp(got, want[i]) == 0, "%s: class %zu is '%s', want '%s'", what, i,
                      got ? got : "(null)", want[i]);
    }
    ck_assert_msg(clcnn_model_class_name(m, n) == NULL, "%s: a name past the last class", what);
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    ck_assert(n > 0);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* Writes b to path with its trailing CRC-32 made right, so that only the
 * deliberate change counts. */
static void spit_fixed(const char *path, unsigned char *b, size_t len)
{
    uint32_t crc = (uint32_t)crc32(0L, b, (uInt)(len - 4));
    for (int i = 0; i < 4; i++)
        b[len - 4 + (size_t)i] = (unsigned char)(crc >> (8 * i));
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert_uint_eq(fwrite(b, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static uint32_t u32_at(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void put_u32_at(unsigned char *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b[i] = (unsigned char)(v >> (8 * i));
}

static char *temp_path(const char *name)
{
    const char *base = getenv("TMPDIR");
    char *p = malloc(4200);
    ck_assert_ptr_nonnull(p);
    snprintf(p, 4200, "%s/clcnn-test-names-%ld-%s", base && *base ? base : "/tmp", (long)getpid(), name);
    return p;
}

static const char *fixture(const char *name, char *buf, size_t len)
{
    const char *dir = getenv("CLCNN_FIXTURE_DIR");
    ck_assert_msg(dir != NULL, "set CLCNN_FIXTURE_DIR to find tests/fixtures");
    snprintf(buf, len, "%s/%s", dir, name);
    return buf;
}

/* Where the class-name section of the small model's file starts: magic,
 * header, and the records conv (7 fields), pool (5), flatten (0), dense (2). */
#define SMALL_NAMES_AT (8 + 4 * 6 + 4 * (2 + 7) + 4 * (2 + 5) + 4 * 2 + 4 * (2 + 2))
#define SMALL_PARAMS 106

START_TEST(test_model_api)
{
    clcnn_ctx *ctx = tu_ctx();
    clcnn_model *m = small(ctx);
    ck_assert_ptr_null(clcnn_model_class_name(m, 0));
    expect(ctx, clcnn_model_set_class_names(m, NAMES, 3), CLCNN_ERR_ARGUMENT, "3 names for 4", "3 names", "4 classes");
    const char *with_null[4] = {"a", NULL, "c", "d"};
    expect(ctx, clcnn_model_set_class_names(m, with_null, 4), CLCNN_ERR_ARGUMENT, "a NULL name", "class name 2",
           "NULL");
    ok(ctx, clcnn_model_set_class_names(m, NAMES, 4), "set");
    names_are(m, NAMES, 4, "set");

    /* Bad names are refused and leave the names as they were. */
    char longest[CLCNN_CLASS_NAME_MAX + 2];
    memset(longest, 'x', sizeof longest - 1);
    longest[sizeof longest - 1] = '\0'; /* one byte over the limit */
    const struct {
        const char *name, *word;
    } bad[] = {
        {"", "is empty"},
        {"two\nlines", "control character 0x0a (byte 4)"},
        {"tab\there", "control character 0x09"},
        {"del\x7f", "control character 0x7f"},
        {"\xff", "not valid UTF-8 (byte 1)"},
        {"ok\xc3", "not valid UTF-8 (byte 3)"},         /* a sequence cut short */
        {"\xc0\xaf", "not valid UTF-8"},                /* an overlong '/' */
        {"\xed\xa0\x80", "not valid UTF-8"},            /* a surrogate */
        {longest, "256 bytes long (at most 255)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *names[4] = {"a", "b", bad[i].name, "d"};
        expect(ctx, clcnn_model_set_class_names(m, names, 4), CLCNN_ERR_ARGUMENT, bad[i].word, bad[i].word,
               "class name 3");
        names_are(m, NAMES, 4, "after a refused set");
        expect(ctx, clcnn_class_name_check(ctx, bad[i].name), CLCNN_ERR_ARGUMENT, bad[i].word, "class name",
               bad[i].word);
    }
    longest[CLCNN_CLASS_NAME_MAX] = '\0'; /* exactly the limit */
    ok(ctx, clcnn_class_name_check(ctx, longest), "a name of 255 bytes");
    ok(ctx, clcnn_class_name_check(NULL, "fine"), "no context");
    ck_assert_int_eq(clcnn_class_name_check(NULL, ""), CLCNN_ERR_ARGUMENT);

    /* Removing them, and a layer that changes the classes. */
    ok(ctx, clcnn_model_set_class_names(m, NULL, 0), "remove");
    ck_assert_ptr_null(clcnn_model_class_name(m, 0));
    ok(ctx, clcnn_model_set_class_names(m, NAMES, 4), "set again");
    ok(ctx, clcnn_model_add_activation(m, CLCNN_ACT_SOFTMAX), "a layer that keeps the classes");
    names_are(m, NAMES, 4, "after a layer of the same width");
    ok(ctx, clcnn_model_add_dense(m, 3, CLCNN_ACT_SOFTMAX), "a layer of 3 classes");
    ck_assert_ptr_null(clcnn_model_class_name(m, 0));
    ck_assert_int_eq(clcnn_model_set_class_names(NULL, NAMES, 4), CLCNN_ERR_ARGUMENT);
    ck_assert_ptr_null(clcnn_model_class_name(NULL, 0));
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
}
END_TEST

START_TEST(test_save_load)
{
    clcnn_ctx *ctx = tu_ctx();
    char *path = temp_path("names.model"), *plain = temp_path("plain.model"), *ck = temp_path("names.ck");
    clcnn_model *m = small(ctx);
    ok(ctx, clcnn_model_save(m, plain), "save without names");
    ok(ctx, clcnn_model_set_class_names(m, NAMES, 4), "set");
    ok(ctx, clcnn_model_save(m, path), "save");

    /* The bytes: version 3, then after the records a count and each name
     * as its length and its bytes, then the parameters. */
    size_t len, plain_len;
    unsigned char *b = slurp(path, &len), *p = slurp(plain, &plain_len);
    ck_assert_uint_eq(u32_at(b + 8), 3);
    ck_assert_uint_eq(u32_at(p + SMALL_NAMES_AT), 0);
    ck_assert_uint_eq(plain_len, SMALL_NAMES_AT + 4 + 4 * SMALL_PARAMS + 4);
    size_t at = SMALL_NAMES_AT, text = 0;
    ck_assert_uint_eq(u32_at(b + at), 4);
    at += 4;
    for (size_t i = 0; i < 4; i++) {
        size_t n = strlen(NAMES[i]);
        ck_assert_uint_eq(u32_at(b + at), n);
        ck_assert_msg(memcmp(b + at + 4, NAMES[i], n) == 0, "name %zu's bytes", i);
        at += 4 + n;
        text += n;
    }
    ck_assert_uint_eq(len, SMALL_NAMES_AT + 4 + 4 * 4 + text + 4 * SMALL_PARAMS + 4);
    ck_assert_msg(memcmp(b + at, p + SMALL_NAMES_AT + 4, 4 * SMALL_PARAMS) == 0, "the parameters differ");

    clcnn_model *l = NULL;
    ok(ctx, clcnn_model_load(ctx, &l, path), "load");
    names_are(l, NAMES, 4, "loaded");
    clcnn_model_free(l);
    l = NULL;
    ok(ctx, clcnn_model_load(ctx, &l, plain), "load without names");
    ck_assert_ptr_null(clcnn_model_class_name(l, 0));
    clcnn_model_free(l);

    /* A checkpoint carries them, read as a checkpoint or as a model. */
    clcnn_train_state s = {.seed = 9, .epoch = 2, .batch_size = 8, .done = 16, .data_count = 40, .data_crc = 77};
    ok(ctx, clcnn_model_save_checkpoint(m, ck, &s), "save a checkpoint");
    clcnn_train_state r;
    l = NULL;
    ok(ctx, clcnn_model_load_checkpoint(ctx, &l, ck, &r), "load the checkpoint");
    names_are(l, NAMES, 4, "checkpoint");
    ck_assert(r.seed == 9 && r.epoch == 2 && r.done == 16 && r.data_count == 40 && r.data_crc == 77);
    clcnn_model_free(l);
    l = NULL;
    clcnn_model_file_info info;
    ok(ctx, clcnn_model_load_file(ctx, &l, ck, &info), "load the checkpoint as a file");
    ck_assert_uint_eq(info.version, 3);
    ck_assert_int_eq(info.checkpoint, 1);
    names_are(l, NAMES, 4, "checkpoint as a file");
    clcnn_model_free(l);

    free(b);
    free(p);
    unlink(path);
    unlink(plain);
    unlink(ck);
    free(path);
    free(plain);
    free(ck);
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
}
END_TEST

/* Version 2 files (written by clcnn before version 3) and version 1 load
 * with no names; saved again they become version 3 with the same weights. */
START_TEST(test_older_versions)
{
    clcnn_ctx *ctx = tu_ctx();
    char f[4200];
    const char *files[3] = {"small_v2.model", "small_v2.ckpt", "lenet5_v1.model"};
    const uint32_t versions[3] = {2, 2, 1};
    for (int i = 0; i < 3; i++) {
        clcnn_model *m = NULL;
        clcnn_model_file_info info;
        ok(ctx, clcnn_model_load_file(ctx, &m, fixture(files[i], f, sizeof f), &info), files[i]);
        ck_assert_uint_eq(info.version, versions[i]);
        ck_assert_int_eq(info.checkpoint, i == 1);
        ck_assert_msg(clcnn_model_class_name(m, 0) == NULL, "%s has names", files[i]);
        clcnn_model_free(m);
    }
    /* The version 2 model's parameters are its last 4 * 106 bytes before
     * the CRC, in both versions. */
    size_t len2, len3;
    unsigned char *v2 = slurp(fixture("small_v2.model", f, sizeof f), &len2);
    ck_assert_uint_eq(u32_at(v2 + 8), 2);
    ck_assert_uint_eq(len2, SMALL_NAMES_AT + 4 * SMALL_PARAMS + 4);
    clcnn_model *m = NULL;
    ok(ctx, clcnn_model_load(ctx, &m, f), "load version 2");
    char *path = temp_path("v3.model");
    ok(ctx, clcnn_model_save(m, path), "save as version 3");
    unsigned char *v3 = slurp(path, &len3);
    ck_assert_uint_eq(u32_at(v3 + 8), 3);
    ck_assert_uint_eq(len3, len2 + 4);
    ck_assert_msg(memcmp(v3 + len3 - 4 - 4 * SMALL_PARAMS, v2 + len2 - 4 - 4 * SMALL_PARAMS, 4 * SMALL_PARAMS) == 0,
                  "the weights changed");
    free(v2);
    free(v3);
    unlink(path);
    free(path);
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
}
END_TEST

/* A malformed class-name section is one FORMAT error naming the file. */
START_TEST(test_malformed_names)
{
    clcnn_ctx *ctx = tu_ctx();
    char *good = temp_path("good.model"), *path = temp_path("bad.model");
    clcnn_model *m = small(ctx);
    const char *const names[4] = {"ab", "cd", "ef", "gh"}; /* name i at SMALL_NAMES_AT + 4 + 6 i */
    ok(ctx, clcnn_model_set_class_names(m, names, 4), "set");
    ok(ctx, clcnn_model_save(m, good), "save");
    size_t len;
    unsigned char *orig = slurp(good, &len), *b = malloc(len);
    ck_assert_ptr_nonnull(b);
    const size_t at = SMALL_NAMES_AT;
    const struct {
        size_t offset;
        uint32_t value; /* a u32 written there */
        int byte;       /* or, when >= 0, one byte */
        const char *word, *word2;
    } cases[] = {
        {at, 3, -1, "3 class names for a model of 4 classes", NULL},
        {at, 5, -1, "class name 5", "truncated or corrupt"}, /* reads a parameter as a length */
        {at, 0xffffffffu, -1, "4294967295 class names do not fit", NULL},
        {at + 4 + 6, 0, -1, "class name 2 is empty", NULL},
        {at + 4 + 6, 300, -1, "class name 2 has a length of 300 bytes", NULL},
        {at + 4 + 12 + 4 + 1, 0, '\n', "class name 3 holds the control character 0x0a (byte 2)", NULL},
        {at + 4 + 18 + 4, 0, 0xfe, "class name 4 is not valid UTF-8 (byte 1)", NULL},
        {at + 4 + 18 + 4, 0, 0, "class name 4 holds the control character 0x00", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(b, orig, len);
        if (cases[i].byte >= 0)
            b[cases[i].offset] = (unsigned char)cases[i].byte;
        else
            put_u32_at(b + cases[i].offset, cases[i].value);
        spit_fixed(path, b, len);
        clcnn_model *l = (clcnn_model *)1;
        expect(ctx, clcnn_model_load(ctx, &l, path), CLCNN_ERR_FORMAT, cases[i].word, cases[i].word, path);
        ck_assert_ptr_null(l);
        if (cases[i].word2)
            expect(ctx, CLCNN_ERR_FORMAT, CLCNN_ERR_FORMAT, cases[i].word2, cases[i].word2, NULL);
    }
    /* Cut inside the section: the count, before the lengths' room, a
     * length, a name. */
    const struct {
        size_t cut;
        const char *word;
    } cuts[] = {
        {at + 2, "truncated class names (no count)"},
        {at + 4 + 6 + 2, "4 class names do not fit"},
        {at + 4 + 18 + 2, "truncated class names (name 4)"},
        {at + 4 + 18 + 4 + 1, "truncated class names (name 4)"},
    };
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        memcpy(b, orig, cuts[i].cut);
        spit_fixed(path, b, cuts[i].cut + 4);
        clcnn_model *l = (clcnn_model *)1;
        expect(ctx, clcnn_model_load(ctx, &l, path), CLCNN_ERR_FORMAT, cuts[i].word, cuts[i].word, path);
        ck_assert_ptr_null(l);
    }
    free(orig);
    free(b);
    unlink(good);
    unlink(path);
    free(good);
    free(path);
    clcnn_model_free(m);
    clcnn_ctx_free(ctx);
}
END_TEST

START_TEST(test_dataset_api)
{
    clcnn_ctx *ctx = tu_ctx();
    float img[5 * 4] = {0};
    int32_t labels[5] = {0, 2, 1, 2, 0};
    clcnn_dataset *ds = NULL, *tail = NULL;
    ok(ctx, clcnn_dataset_create(ctx, &ds, 5, 2, 2, 1, img, labels), "create");
    ck_assert_uint_eq(clcnn_dataset_class_name_count(ds), 0);
    ck_assert_ptr_null(clcnn_dataset_class_name(ds, 0));
    expect(ctx, clcnn_dataset_set_class_names(ctx, ds, NAMES, 2), CLCNN_ERR_ARGUMENT, "2 names", "2 names",
           "3 classes");
    const char *bad[3] = {"a", "b\tc", "d"};
    expect(ctx, clcnn_dataset_set_class_names(ctx, ds, bad, 3), CLCNN_ERR_ARGUMENT, "class name 2", "0x09", NULL);
    ok(ctx, clcnn_dataset_set_class_names(ctx, ds, NAMES, 4), "4 names for 3 classes (one without examples)");
    ck_assert_uint_eq(clcnn_dataset_class_name_count(ds), 4);
    ok(ctx, clcnn_dataset_split_tail(ctx, ds, 2, &tail), "split");
    for (size_t i = 0; i < 4; i++) {
        ck_assert_str_eq(clcnn_dataset_class_name(ds, i), NAMES[i]);
        ck_assert_str_eq(clcnn_dataset_class_name(tail, i), NAMES[i]);
    }
    ck_assert_ptr_null(clcnn_dataset_class_name(tail, 4));
    const char *many[CLCNN_MAX_CLASS_NAMES + 1];
    for (size_t i = 0; i <= CLCNN_MAX_CLASS_NAMES; i++)
        many[i] = "n";
    expect(ctx, clcnn_dataset_set_class_names(ctx, ds, many, CLCNN_MAX_CLASS_NAMES + 1), CLCNN_ERR_ARGUMENT,
           "at most 256", "257 names", NULL);
    ok(ctx, clcnn_dataset_set_class_names(ctx, ds, NULL, 0), "remove");
    ck_assert_uint_eq(clcnn_dataset_class_name_count(ds), 0);
    ck_assert_uint_eq(clcnn_dataset_class_name_count(tail), 4);
    clcnn_dataset_free(ds);
    clcnn_dataset_free(tail);
    clcnn_ctx_free(ctx);
}
END_TEST

/* The names of tests/fixtures/make_fixtures.py, as UTF-8. */
static const char *const NPZ_NAMES[10] = {"T-shirt/top", "Trouser", "the \"third\"", "D\xc3\xa4ss", "Coat", "Sandal",
                                          "Shirt", "Sneaker", "Bag", "\xe3\x83\x96\xe3\x83\xbc\xe3\x83\x84"};

START_TEST(test_npz_names)
{
    clcnn_ctx *ctx = tu_ctx();
    char f[4200];
    const char *good[2] = {"names_u.npz", "names_s.npz"};
    for (int k = 0; k < 2; k++) {
        clcnn_dataset *train = NULL, *valid = NULL, *test = NULL;
        ok(ctx, clcnn_data_load(ctx, fixture(good[k], f, sizeof f), &train, &valid, &test), good[k]);
        clcnn_dataset *splits[3] = {train, valid, test};
        for (int s = 0; s < 3; s++) {
            ck_assert_ptr_nonnull(splits[s]);
            ck_assert_uint_eq(clcnn_dataset_class_name_count(splits[s]), 10);
            for (size_t i = 0; i < 10; i++)
                ck_assert_msg(strcmp(clcnn_dataset_class_name(splits[s], i), NPZ_NAMES[i]) == 0,
                              "%s split %d name %zu: '%s'", good[k], s, i, clcnn_dataset_class_name(splits[s], i));
        }
        clcnn_dataset_free(train);
        clcnn_dataset_free(valid);
        clcnn_dataset_free(test);
    }
    clcnn_dataset *train = NULL;
    ok(ctx, clcnn_data_load(ctx, fixture("good.npz", f, sizeof f), &train, NULL, NULL), "good.npz");
    ck_assert_uint_eq(clcnn_dataset_class_name_count(train), 0);
    clcnn_dataset_free(train);

    const struct {
        const char *file, *word;
    } bad[] = {
        {"bad_names_short.npz", "3 names, but the labels go up to 8"},
        {"bad_names_empty.npz", "class name 5 is empty"},
        {"bad_names_newline.npz", "class name 10 holds the control character 0x0a"},
        {"bad_names_dtype.npz", "class names of dtype int64 are not supported"},
        {"bad_names_rank.npz", "must hold 1 to 256 names, in shape (n,)"},
        {"bad_names_long.npz", "class name 10 is 256 bytes long"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        clcnn_dataset *t = (clcnn_dataset *)1, *v = (clcnn_dataset *)1, *s = (clcnn_dataset *)1;
        expect(ctx, clcnn_data_load(ctx, fixture(bad[i].file, f, sizeof f), &t, &v, &s), CLCNN_ERR_FORMAT,
               bad[i].word, bad[i].word, "class_names.npy");
        ck_assert(t == NULL && v == NULL && s == NULL);
        ck_assert_msg(strstr(clcnn_errmsg(ctx), bad[i].file) != NULL, "%s: not named", bad[i].file);
    }
    clcnn_ctx_free(ctx);
}
END_TEST

static Suite *names_suite(void)
{
    Suite *s = suite_create("class_names");
    TCase *tc = tcase_create("class_names");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_model_api);
    tcase_add_test(tc, test_save_load);
    tcase_add_test(tc, test_older_versions);
    tcase_add_test(tc, test_malformed_names);
    tcase_add_test(tc, test_dataset_api);
    tcase_add_test(tc, test_npz_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    tu_skip_if_no_device();
    return tu_run(names_suite());
}
