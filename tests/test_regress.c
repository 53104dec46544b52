/*
 * Regression inputs: every file in tests/fixtures/regress/ once crashed,
 * hung or over-allocated a loader (most were found by the fuzz targets in
 * fuzz/).  Each must now be refused with CLCNN_ERR_FORMAT, a message, and
 * no object handed back.  The loader is chosen by the file name:
 *   *.npy                  clcnn_npy_read
 *   *.npz                  clcnn_data_load
 *   *.model                clcnn_model_load (on the suite's backend)
 *   *-images-idx3-ubyte    clcnn_dataset_load_idx, with the file of the same
 *                          stem ending -labels-idx1-ubyte when there is one
 *   *-labels-idx1-ubyte    (loaded with its images file)
 * Adding a file adds a case; fuzz/README.md says how to turn a fuzzer's
 * reproducer into one.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#define MAX_CASES 256

static char *names[MAX_CASES];
static int ncases;

static const char *regress_dir(void)
{
    static char dir[4096];
    const char *base = getenv("CLCNN_FIXTURE_DIR");
    snprintf(dir, sizeof dir, "%s/regress", base && *base ? base : "tests/fixtures");
    return dir;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static void expect_format_error(clcnn_ctx *ctx, int st, const char *name)
{
    ck_assert_msg(st == CLCNN_ERR_FORMAT, "%s: status %d (%s), expected a format error; message: %s", name, st,
                  clcnn_status_str(st), clcnn_errmsg(ctx));
    ck_assert_msg(clcnn_errmsg(ctx)[0] != '\0', "%s: refused without a message", name);
}

START_TEST(regress_case)
{
    const char *name = names[_i];
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", regress_dir(), name);
    clcnn_ctx *ctx = tu_ctx();
    if (ends_with(name, ".npy")) {
        float *data = (float *)1;
        int rank = 0;
        size_t shape[CLCNN_MAX_RANK];
        expect_format_error(ctx, clcnn_npy_read(ctx, path, &data, &rank, shape), name);
        ck_assert_ptr_null(data);
    } else if (ends_with(name, ".npz")) {
        clcnn_dataset *train = NULL, *valid = NULL, *test = NULL;
        expect_format_error(ctx, clcnn_data_load(ctx, path, &train, &valid, &test), name);
        ck_assert_ptr_null(train);
        ck_assert_ptr_null(valid);
        ck_assert_ptr_null(test);
    } else if (ends_with(name, ".model")) {
        clcnn_model *m = NULL;
        expect_format_error(ctx, clcnn_model_load(ctx, &m, path), name);
        ck_assert_ptr_null(m);
    } else if (ends_with(name, "-images-idx3-ubyte")) {
        char labels[8192];
        snprintf(labels, sizeof labels, "%.*s-labels-idx1-ubyte", (int)(strlen(path) - strlen("-images-idx3-ubyte")),
                 path);
        int have_labels = access(labels, R_OK) == 0;
        clcnn_dataset *ds = NULL;
        expect_format_error(ctx, clcnn_dataset_load_idx(ctx, &ds, path, have_labels ? labels : NULL), name);
        ck_assert_ptr_null(ds);
    } else {
        ck_abort_msg("%s: no loader for this name (see tests/test_regress.c)", name);
    }
    clcnn_ctx_free(ctx);
}
END_TEST

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    tu_skip_if_no_device();
    DIR *d = opendir(regress_dir());
    if (!d) {
        fprintf(stderr, "test_regress: cannot open %s\n", regress_dir());
        return 1;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || ends_with(e->d_name, "-labels-idx1-ubyte"))
            continue;
        if (ncases == MAX_CASES) {
            fprintf(stderr, "test_regress: more than %d files in %s\n", MAX_CASES, regress_dir());
            return 1;
        }
        names[ncases++] = strdup(e->d_name);
    }
    closedir(d);
    if (ncases == 0) {
        fprintf(stderr, "test_regress: no files in %s\n", regress_dir());
        return 1;
    }
    qsort(names, (size_t)ncases, sizeof *names, by_name);

    Suite *s = suite_create("regress");
    TCase *tc = tcase_create("loaders");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, regress_case, 0, ncases);
    suite_add_tcase(s, tc);
    int rc = tu_run(s);
    for (int i = 0; i < ncases; i++)
        free(names[i]);
    return rc;
}
