/*
 * Argument errors of the four operations and of the tensor calls: each
 * returns the documented negative status with a fresh, non-empty message,
 * leaves a NULL output pointer NULL, and leaves the context usable.
 *
 * Status classes (include/clcnn.h): CLCNN_ERR_ARGUMENT for a NULL pointer,
 * a zero size, a bad enum value, a stride or kernel size < 1, a tensor of
 * another context or a count that does not match; CLCNN_ERR_SHAPE for
 * shapes that do not fit together (rank, channels, kernel larger than the
 * input, dZ/dA/output of the wrong shape).
 *
 * A message could be left over from an earlier failure, so before each
 * checked call a sentinel error is provoked (a NULL host pointer to
 * clcnn_tensor_write) and the call's message must differ from it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

typedef struct fixture {
    clcnn_ctx *ctx;
    clcnn_tensor *x;  /* (2, 5, 6, 3) */
    clcnn_tensor *W;  /* (3, 2, 3, 4) */
    clcnn_tensor *b;  /* (1, 1, 1, 4) */
    clcnn_tensor *dZ; /* conv output, same padding, stride 1: (2, 5, 6, 4) */
    clcnn_tensor *dA; /* pool 2x2 stride 2 output: (2, 2, 3, 3) */
    char sentinel[512];
} fixture;

static clcnn_tensor *make(clcnn_ctx *ctx, size_t a, size_t b, size_t c, size_t d, unsigned seed)
{
    size_t shape[4] = {a, b, c, d};
    size_t n = a * b * c * d;
    float *v = malloc(n * sizeof *v);
    ck_assert_ptr_nonnull(v);
    tu_fill_random(v, n, seed, -1, 1);
    clcnn_tensor *t = tu_tensor(ctx, 4, shape, v);
    free(v);
    return t;
}

static clcnn_tensor *make_rank(clcnn_ctx *ctx, int rank, size_t dim)
{
    size_t shape[4] = {dim, dim, dim, dim};
    return tu_tensor(ctx, rank, shape, NULL);
}

static void fixture_init(fixture *f)
{
    memset(f, 0, sizeof *f);
    f->ctx = tu_ctx();
    f->x = make(f->ctx, 2, 5, 6, 3, 1);
    f->W = make(f->ctx, 3, 2, 3, 4, 2);
    f->b = make(f->ctx, 1, 1, 1, 4, 3);
    f->dZ = make(f->ctx, 2, 5, 6, 4, 4);
    f->dA = make(f->ctx, 2, 2, 3, 3, 5);
}

static void fixture_free(fixture *f)
{
    clcnn_tensor_free(f->x);
    clcnn_tensor_free(f->W);
    clcnn_tensor_free(f->b);
    clcnn_tensor_free(f->dZ);
    clcnn_tensor_free(f->dA);
    clcnn_ctx_free(f->ctx);
}

/* Leaves a known message on the context. */
static void arm(fixture *f)
{
    ck_assert_int_eq(clcnn_tensor_write(f->b, NULL, 4), CLCNN_ERR_ARGUMENT);
    snprintf(f->sentinel, sizeof f->sentinel, "%s", clcnn_errmsg(f->ctx));
    ck_assert_str_ne(f->sentinel, "");
}

static void expect(fixture *f, int got, int want, const char *what)
{
    ck_assert_msg(got == want, "%s: status %d (%s), want %d (%s)", what, got, clcnn_status_str(got), want,
                  clcnn_status_str(want));
    const char *msg = clcnn_errmsg(f->ctx);
    ck_assert_msg(msg != NULL && msg[0] != '\0', "%s: empty message", what);
    ck_assert_msg(strcmp(msg, f->sentinel) != 0, "%s: the message was not set (still \"%s\")", what, msg);
}

/* The context still works after the errors. */
static void still_works(fixture *f)
{
    clcnn_tensor *A = NULL;
    int st = clcnn_conv_forward(f->ctx, f->x, f->W, f->b, CLCNN_ACT_RELU, CLCNN_PAD_SAME, 1, 1, &A);
    ck_assert_msg(st == CLCNN_OK, "after errors: %s", clcnn_errmsg(f->ctx));
    clcnn_tensor_free(A);
}

#define CHECK(f, call, want)                                                                                         \
    do {                                                                                                             \
        arm(f);                                                                                                      \
        expect(f, (call), (want), #call);                                                                            \
    } while (0)

/* ----------------------------------------------------------- conv forward */

START_TEST(conv_forward_errors)
{
    fixture f;
    fixture_init(&f);
    clcnn_tensor *out = NULL;
    const clcnn_activation relu = CLCNN_ACT_RELU;
    const clcnn_padding same = CLCNN_PAD_SAME, valid = CLCNN_PAD_VALID;

    ck_assert_int_eq(clcnn_conv_forward(NULL, f.x, f.W, f.b, relu, same, 1, 1, &out), CLCNN_ERR_ARGUMENT);

    /* NULL tensors and output pointer */
    CHECK(&f, clcnn_conv_forward(f.ctx, NULL, f.W, f.b, relu, same, 1, 1, &out), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_conv_forward(f.ctx, f.x, NULL, f.b, relu, same, 1, 1, &out), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_conv_forward(f.ctx, f.x, f.W, NULL, relu, same, 1, 1, &out), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_conv_forward(f.ctx, f.x, f.W, f.b, relu, same, 1, 1, NULL), CLCNN_ERR_ARGUMENT);

    /* wrong rank */
    clcnn_tensor *r3 = make_rank(f.ctx, 3, 5), *r2 = make_rank(f.ctx, 2, 3);
    CHECK(&f, clcnn_conv_forward(f.ctx, r3, f.W, f.b, relu, same, 1, 1, &out), CLCNN_ERR_SHAPE);
    CHECK(&f, clcnn_conv_forward(f.ctx, f.x, r2, f.b, relu, same, 1, 1, &out), CLCNN_ERR_SHAPE);

    /* mismatched channels: A_prev has 3, W expects 2; b has 3 for 4 */
    clcnn_tensor *W2 = make(f.ctx, 3, 2, 2, 4, 6), *b3 = make(f.ctx, 1, 1, 1, 3, 7), *b5 = make(f.ctx, 1, 1, 1, 5, 8);
    clcnn_tensor *b_t = make(f.ctx, 4, 1, 1, 1, 9); /* (c_new, 1, 1, 1): right count, wrong layout */
    CHECK(&f, clcnn_conv_forward(f.ctx, f.x, W2, f.b, relu, same, 1, 1, &out), CLCNN_ERR_SHAPE);
    CHECK(&f, clcnn_conv_forward(f.ctx, f.x, f.W, b3, relu, same, 1, 1, &out), CLCNN_ERR_SHAPE);
    CHECK(&f, clcnn_conv_forward(f.ctx, f.x, f.W, b5, relu, same, 1, 1, &out), CLCNN_ERR_SHAPE);
    CHECK(&f, clcnn_conv_forward(f.ctx, f.x, f.W, b_t, relu, same, 1, 1, &out), CLCNN_ERR_SHAPE);

    /* stride < 1 */
    CHECK(&f, clcnn_conv_forward(f.ctx, f.x, f.W, f.b, relu, same, 0, 1, &out), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_conv_forward(f.ctx, f.x, f.W, f.b, relu, same, 1, 0, &out), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_conv_forward(f.ctx, f.x, f.W, f.b, relu, valid, -2, 1, &out), CLCNN_ERR_ARGUMENT);

    /* kernel larger than the input (valid padding), in height then width */
    clcnn_tensor *Wtall = make(f.ctx, 6, 1, 3, 4, 10), *Wwide = make(f.ctx, 1, 7, 3, 4, 11);
    CHECK(&f, clcnn_conv_forward(f.ctx, f.x, Wtall, f.b, relu, valid, 1, 1, &out), CLCNN_ERR_SHAPE);
    CHECK(&f, clcnn_conv_forward(f.ctx, f.x, Wwide, f.b, relu, valid, 1, 1, &out), CLCNN_ERR_SHAPE);

    /* unknown enum values */
    CHECK(&f, clcnn_conv_forward(f.ctx, f.x, f.W, f.b, (clcnn_activation)99, same, 1, 1, &out), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_conv_forward(f.ctx, f.x, f.W, f.b, (clcnn_activation)-1, same, 1, 1, &out), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_conv_forward(f.ctx, f.x, f.W, f.b, relu, (clcnn_padding)99, 1, 1, &out), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_conv_forward(f.ctx, f.x, f.W, f.b, relu, (clcnn_padding)-1, 1, 1, &out), CLCNN_ERR_ARGUMENT);
    ck_assert_msg(out == NULL, "a failed call handed back an output");

    /* output tensor of the wrong shape or rank */
    clcnn_tensor *wrong = make(f.ctx, 2, 5, 6, 3, 12), *keep = wrong;
    CHECK(&f, clcnn_conv_forward(f.ctx, f.x, f.W, f.b, relu, same, 1, 1, &wrong), CLCNN_ERR_SHAPE);
    ck_assert_ptr_eq(wrong, keep);
    clcnn_tensor *wrong2 = make_rank(f.ctx, 2, 4), *keep2 = wrong2;
    CHECK(&f, clcnn_conv_forward(f.ctx, f.x, f.W, f.b, relu, same, 1, 1, &wrong2), CLCNN_ERR_SHAPE);
    ck_assert_ptr_eq(wrong2, keep2);

    still_works(&f);
    clcnn_tensor_free(wrong2);
    clcnn_tensor_free(wrong);
    clcnn_tensor_free(Wtall);
    clcnn_tensor_free(Wwide);
    clcnn_tensor_free(b_t);
    clcnn_tensor_free(b5);
    clcnn_tensor_free(b3);
    clcnn_tensor_free(W2);
    clcnn_tensor_free(r2);
    clcnn_tensor_free(r3);
    fixture_free(&f);
}
END_TEST

/* ---------------------------------------------------------- conv backward */

START_TEST(conv_backward_errors)
{
    fixture f;
    fixture_init(&f);
    clcnn_tensor *dx = NULL, *dW = NULL, *db = NULL;
    const clcnn_padding same = CLCNN_PAD_SAME, valid = CLCNN_PAD_VALID;

    ck_assert_int_eq(clcnn_conv_backward(NULL, f.dZ, f.x, f.W, f.b, same, 1, 1, &dx, &dW, &db), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_conv_backward(f.ctx, NULL, f.x, f.W, f.b, same, 1, 1, &dx, &dW, &db), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_conv_backward(f.ctx, f.dZ, NULL, f.W, f.b, same, 1, 1, &dx, &dW, &db), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_conv_backward(f.ctx, f.dZ, f.x, NULL, f.b, same, 1, 1, &dx, &dW, &db), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_conv_backward(f.ctx, f.dZ, f.x, f.W, NULL, same, 1, 1, &dx, &dW, &db), CLCNN_ERR_ARGUMENT);

    clcnn_tensor *r3 = make_rank(f.ctx, 3, 5);
    CHECK(&f, clcnn_conv_backward(f.ctx, r3, f.x, f.W, f.b, same, 1, 1, &dx, &dW, &db), CLCNN_ERR_SHAPE);
    CHECK(&f, clcnn_conv_backward(f.ctx, f.dZ, r3, f.W, f.b, same, 1, 1, &dx, &dW, &db), CLCNN_ERR_SHAPE);
    CHECK(&f, clcnn_conv_backward(f.ctx, f.dZ, f.x, r3, f.b, same, 1, 1, &dx, &dW, &db), CLCNN_ERR_SHAPE);

    clcnn_tensor *W2 = make(f.ctx, 3, 2, 2, 4, 6), *b3 = make(f.ctx, 1, 1, 1, 3, 7);
    CHECK(&f, clcnn_conv_backward(f.ctx, f.dZ, f.x, W2, f.b, same, 1, 1, &dx, &dW, &db), CLCNN_ERR_SHAPE);
    CHECK(&f, clcnn_conv_backward(f.ctx, f.dZ, f.x, f.W, b3, same, 1, 1, &dx, &dW, &db), CLCNN_ERR_SHAPE);

    CHECK(&f, clcnn_conv_backward(f.ctx, f.dZ, f.x, f.W, f.b, same, 0, 1, &dx, &dW, &db), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_conv_backward(f.ctx, f.dZ, f.x, f.W, f.b, same, 1, -1, &dx, &dW, &db), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_conv_backward(f.ctx, f.dZ, f.x, f.W, f.b, (clcnn_padding)99, 1, 1, &dx, &dW, &db),
          CLCNN_ERR_ARGUMENT);

    clcnn_tensor *Wtall = make(f.ctx, 6, 1, 3, 4, 10);
    CHECK(&f, clcnn_conv_backward(f.ctx, f.dZ, f.x, Wtall, f.b, valid, 1, 1, &dx, &dW, &db), CLCNN_ERR_SHAPE);

    /* dZ of the wrong shape: the same-padding dZ given for valid padding,
     * one channel too many, a batch too small, stride (2, 2)'s dZ */
    clcnn_tensor *dZc = make(f.ctx, 2, 5, 6, 5, 13), *dZm = make(f.ctx, 1, 5, 6, 4, 14);
    CHECK(&f, clcnn_conv_backward(f.ctx, f.dZ, f.x, f.W, f.b, valid, 1, 1, &dx, &dW, &db), CLCNN_ERR_SHAPE);
    CHECK(&f, clcnn_conv_backward(f.ctx, dZc, f.x, f.W, f.b, same, 1, 1, &dx, &dW, &db), CLCNN_ERR_SHAPE);
    CHECK(&f, clcnn_conv_backward(f.ctx, dZm, f.x, f.W, f.b, same, 1, 1, &dx, &dW, &db), CLCNN_ERR_SHAPE);
    CHECK(&f, clcnn_conv_backward(f.ctx, f.dZ, f.x, f.W, f.b, same, 2, 2, &dx, &dW, &db), CLCNN_ERR_SHAPE);
    ck_assert_msg(dx == NULL && dW == NULL && db == NULL, "a failed call handed back an output");

    /* outputs of the wrong shape, one at a time (the others created) */
    clcnn_tensor *wrong = make(f.ctx, 1, 1, 1, 7, 15), *keep = wrong;
    CHECK(&f, clcnn_conv_backward(f.ctx, f.dZ, f.x, f.W, f.b, same, 1, 1, &wrong, &dW, &db), CLCNN_ERR_SHAPE);
    CHECK(&f, clcnn_conv_backward(f.ctx, f.dZ, f.x, f.W, f.b, same, 1, 1, &dx, &wrong, &db), CLCNN_ERR_SHAPE);
    CHECK(&f, clcnn_conv_backward(f.ctx, f.dZ, f.x, f.W, f.b, same, 1, 1, &dx, &dW, &wrong), CLCNN_ERR_SHAPE);
    ck_assert_ptr_eq(wrong, keep);
    ck_assert_msg(dx == NULL && dW == NULL && db == NULL, "a failed call handed back an output");

    still_works(&f);
    clcnn_tensor_free(wrong);
    clcnn_tensor_free(dZc);
    clcnn_tensor_free(dZm);
    clcnn_tensor_free(Wtall);
    clcnn_tensor_free(b3);
    clcnn_tensor_free(W2);
    clcnn_tensor_free(r3);
    fixture_free(&f);
}
END_TEST

/* ------------------------------------------------------------------ pool */

START_TEST(pool_forward_errors)
{
    fixture f;
    fixture_init(&f);
    clcnn_tensor *out = NULL;
    const clcnn_pool_mode max = CLCNN_POOL_MAX, avg = CLCNN_POOL_AVG;

    ck_assert_int_eq(clcnn_pool_forward(NULL, f.x, 2, 2, 2, 2, max, &out), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_pool_forward(f.ctx, NULL, 2, 2, 2, 2, max, &out), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_pool_forward(f.ctx, f.x, 2, 2, 2, 2, max, NULL), CLCNN_ERR_ARGUMENT);
    clcnn_tensor *r3 = make_rank(f.ctx, 3, 5);
    CHECK(&f, clcnn_pool_forward(f.ctx, r3, 2, 2, 2, 2, max, &out), CLCNN_ERR_SHAPE);
    CHECK(&f, clcnn_pool_forward(f.ctx, f.x, 0, 2, 2, 2, max, &out), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_pool_forward(f.ctx, f.x, 2, -1, 2, 2, avg, &out), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_pool_forward(f.ctx, f.x, 2, 2, 0, 2, max, &out), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_pool_forward(f.ctx, f.x, 2, 2, 2, -3, avg, &out), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_pool_forward(f.ctx, f.x, 6, 2, 1, 1, max, &out), CLCNN_ERR_SHAPE); /* h is 5 */
    CHECK(&f, clcnn_pool_forward(f.ctx, f.x, 2, 7, 1, 1, avg, &out), CLCNN_ERR_SHAPE); /* w is 6 */
    CHECK(&f, clcnn_pool_forward(f.ctx, f.x, 2, 2, 2, 2, (clcnn_pool_mode)99, &out), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_pool_forward(f.ctx, f.x, 2, 2, 2, 2, (clcnn_pool_mode)-1, &out), CLCNN_ERR_ARGUMENT);
    ck_assert_msg(out == NULL, "a failed call handed back an output");

    clcnn_tensor *wrong = make(f.ctx, 2, 3, 3, 3, 12), *keep = wrong; /* want (2, 2, 3, 3) */
    CHECK(&f, clcnn_pool_forward(f.ctx, f.x, 2, 2, 2, 2, max, &wrong), CLCNN_ERR_SHAPE);
    ck_assert_ptr_eq(wrong, keep);

    still_works(&f);
    clcnn_tensor_free(wrong);
    clcnn_tensor_free(r3);
    fixture_free(&f);
}
END_TEST

START_TEST(pool_backward_errors)
{
    fixture f;
    fixture_init(&f);
    clcnn_tensor *dx = NULL;
    const clcnn_pool_mode max = CLCNN_POOL_MAX, avg = CLCNN_POOL_AVG;

    ck_assert_int_eq(clcnn_pool_backward(NULL, f.dA, f.x, 2, 2, 2, 2, max, &dx), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_pool_backward(f.ctx, NULL, f.x, 2, 2, 2, 2, max, &dx), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_pool_backward(f.ctx, f.dA, NULL, 2, 2, 2, 2, max, &dx), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_pool_backward(f.ctx, f.dA, f.x, 2, 2, 2, 2, max, NULL), CLCNN_ERR_ARGUMENT);
    clcnn_tensor *r3 = make_rank(f.ctx, 3, 5), *r2 = make_rank(f.ctx, 2, 3);
    CHECK(&f, clcnn_pool_backward(f.ctx, f.dA, r3, 2, 2, 2, 2, max, &dx), CLCNN_ERR_SHAPE);
    CHECK(&f, clcnn_pool_backward(f.ctx, r2, f.x, 2, 2, 2, 2, max, &dx), CLCNN_ERR_SHAPE);
    CHECK(&f, clcnn_pool_backward(f.ctx, f.dA, f.x, 0, 2, 2, 2, max, &dx), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_pool_backward(f.ctx, f.dA, f.x, 2, 2, 2, 0, avg, &dx), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_pool_backward(f.ctx, f.dA, f.x, 6, 6, 1, 1, max, &dx), CLCNN_ERR_SHAPE);
    CHECK(&f, clcnn_pool_backward(f.ctx, f.dA, f.x, 2, 2, 2, 2, (clcnn_pool_mode)99, &dx), CLCNN_ERR_ARGUMENT);

    /* dA of the wrong shape: another geometry's, one channel off, a batch off */
    clcnn_tensor *dAc = make(f.ctx, 2, 2, 3, 4, 13), *dAm = make(f.ctx, 3, 2, 3, 3, 14);
    CHECK(&f, clcnn_pool_backward(f.ctx, f.dA, f.x, 2, 2, 1, 1, max, &dx), CLCNN_ERR_SHAPE);
    CHECK(&f, clcnn_pool_backward(f.ctx, dAc, f.x, 2, 2, 2, 2, max, &dx), CLCNN_ERR_SHAPE);
    CHECK(&f, clcnn_pool_backward(f.ctx, dAm, f.x, 2, 2, 2, 2, avg, &dx), CLCNN_ERR_SHAPE);
    ck_assert_msg(dx == NULL, "a failed call handed back an output");

    clcnn_tensor *wrong = make(f.ctx, 2, 5, 6, 4, 15), *keep = wrong; /* want (2, 5, 6, 3) */
    CHECK(&f, clcnn_pool_backward(f.ctx, f.dA, f.x, 2, 2, 2, 2, max, &wrong), CLCNN_ERR_SHAPE);
    ck_assert_ptr_eq(wrong, keep);

    still_works(&f);
    clcnn_tensor_free(wrong);
    clcnn_tensor_free(dAc);
    clcnn_tensor_free(dAm);
    clcnn_tensor_free(r2);
    clcnn_tensor_free(r3);
    fixture_free(&f);
}
END_TEST

/* ------------------------------------------------------ two contexts */

START_TEST(foreign_tensors)
{
    fixture f, g;
    fixture_init(&f);
    fixture_init(&g);
    const clcnn_activation id = CLCNN_ACT_IDENTITY;
    const clcnn_padding same = CLCNN_PAD_SAME;
    const clcnn_pool_mode max = CLCNN_POOL_MAX;
    clcnn_tensor *out = NULL, *dx = NULL, *dW = NULL, *db = NULL;

    /* inputs of context g given to context f */
    CHECK(&f, clcnn_conv_forward(f.ctx, g.x, f.W, f.b, id, same, 1, 1, &out), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_conv_forward(f.ctx, f.x, g.W, f.b, id, same, 1, 1, &out), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_conv_forward(f.ctx, f.x, f.W, g.b, id, same, 1, 1, &out), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_conv_backward(f.ctx, g.dZ, f.x, f.W, f.b, same, 1, 1, &dx, &dW, &db), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_conv_backward(f.ctx, f.dZ, g.x, f.W, f.b, same, 1, 1, &dx, &dW, &db), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_conv_backward(f.ctx, f.dZ, f.x, g.W, f.b, same, 1, 1, &dx, &dW, &db), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_conv_backward(f.ctx, f.dZ, f.x, f.W, g.b, same, 1, 1, &dx, &dW, &db), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_pool_forward(f.ctx, g.x, 2, 2, 2, 2, max, &out), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_pool_backward(f.ctx, g.dA, f.x, 2, 2, 2, 2, max, &dx), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_pool_backward(f.ctx, f.dA, g.x, 2, 2, 2, 2, max, &dx), CLCNN_ERR_ARGUMENT);
    ck_assert_msg(out == NULL && dx == NULL && dW == NULL && db == NULL, "a failed call handed back an output");

    /* an output tensor of context g, of the right shape */
    clcnn_tensor *gout = make(g.ctx, 2, 5, 6, 4, 20), *keep = gout;
    CHECK(&f, clcnn_conv_forward(f.ctx, f.x, f.W, f.b, id, same, 1, 1, &gout), CLCNN_ERR_ARGUMENT);
    ck_assert_ptr_eq(gout, keep);
    clcnn_tensor *gdx = make(g.ctx, 2, 5, 6, 3, 21);
    CHECK(&f, clcnn_pool_backward(f.ctx, f.dA, f.x, 2, 2, 2, 2, max, &gdx), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_conv_backward(f.ctx, f.dZ, f.x, f.W, f.b, same, 1, 1, &gdx, NULL, NULL), CLCNN_ERR_ARGUMENT);

    still_works(&f);
    still_works(&g);
    clcnn_tensor_free(gdx);
    clcnn_tensor_free(gout);
    fixture_free(&g);
    fixture_free(&f);
}
END_TEST

/* A context whose creation failed holds only a message; ops on it fail
 * cleanly. */
START_TEST(failed_context)
{
    fixture f;
    fixture_init(&f);
    clcnn_ctx *bad = NULL;
    int st = clcnn_ctx_create_with_log(&bad, "no-such-device", NULL, NULL);
    ck_assert_int_lt(st, 0);
    ck_assert_ptr_nonnull(bad);
    ck_assert_str_ne(clcnn_errmsg(bad), "");
    clcnn_tensor *out = NULL;
    ck_assert_int_lt(clcnn_conv_forward(bad, f.x, f.W, f.b, CLCNN_ACT_RELU, CLCNN_PAD_SAME, 1, 1, &out), 0);
    ck_assert_int_lt(clcnn_pool_forward(bad, f.x, 2, 2, 2, 2, CLCNN_POOL_MAX, &out), 0);
    size_t shape[1] = {3};
    ck_assert_int_lt(clcnn_tensor_create(bad, &out, 1, shape), 0);
    ck_assert_ptr_null(out);
    ck_assert_str_ne(clcnn_errmsg(bad), "");
    clcnn_ctx_free(bad);
    fixture_free(&f);
}
END_TEST

/* ---------------------------------------------------------------- tensors */

START_TEST(tensor_errors)
{
    fixture f;
    fixture_init(&f);
    clcnn_tensor *t = NULL;
    size_t shape[5] = {2, 3, 4, 5, 6};

    ck_assert_int_eq(clcnn_tensor_create(NULL, &t, 2, shape), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_tensor_create(f.ctx, &t, 0, shape), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_tensor_create(f.ctx, &t, 5, shape), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_tensor_create(f.ctx, &t, -1, shape), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_tensor_create(f.ctx, &t, 2, NULL), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_tensor_create(f.ctx, NULL, 2, shape), CLCNN_ERR_ARGUMENT);
    size_t zero[4] = {2, 0, 3, 1};
    CHECK(&f, clcnn_tensor_create(f.ctx, &t, 4, zero), CLCNN_ERR_ARGUMENT);
    size_t zero1[1] = {0};
    CHECK(&f, clcnn_tensor_create(f.ctx, &t, 1, zero1), CLCNN_ERR_ARGUMENT);
    ck_assert_ptr_null(t);

    /* the element count overflows size_t */
    size_t huge[4] = {(size_t)1 << 20, (size_t)1 << 20, (size_t)1 << 20, (size_t)1 << 20};
    arm(&f);
    int st = clcnn_tensor_create(f.ctx, &t, 4, huge);
    ck_assert_msg(st == CLCNN_ERR_ARGUMENT || st == CLCNN_ERR_NOMEM, "overflowing shape: status %d", st);
    ck_assert_str_ne(clcnn_errmsg(f.ctx), f.sentinel);
    ck_assert_ptr_null(t);

    /* write/read with the wrong count or a NULL host pointer; b has 4 */
    float buf[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    CHECK(&f, clcnn_tensor_write(f.b, buf, 3), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_tensor_write(f.b, buf, 5), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_tensor_write(f.b, buf, 0), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_tensor_read(f.b, buf, 3), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_tensor_read(f.b, buf, 8), CLCNN_ERR_ARGUMENT);
    CHECK(&f, clcnn_tensor_read(f.b, NULL, 4), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_tensor_write(NULL, buf, 4), CLCNN_ERR_ARGUMENT);
    ck_assert_int_eq(clcnn_tensor_read(NULL, buf, 4), CLCNN_ERR_ARGUMENT);
    /* the failed read wrote nothing */
    for (int i = 0; i < 8; i++)
        ck_assert_float_eq(buf[i], (float)(i + 1));

    /* NULL-safe accessors and free */
    ck_assert_int_eq(clcnn_tensor_rank(NULL), 0);
    ck_assert_uint_eq(clcnn_tensor_count(NULL), 0);
    clcnn_tensor_free(NULL);
    clcnn_ctx_free(NULL);

    still_works(&f);
    fixture_free(&f);
}
END_TEST

START_TEST(status_strings)
{
    static const int codes[] = {CLCNN_OK,           CLCNN_ERR_ARGUMENT, CLCNN_ERR_SHAPE,    CLCNN_ERR_NOMEM,
                                CLCNN_ERR_IO,       CLCNN_ERR_FORMAT,   CLCNN_ERR_NO_DEVICE, CLCNN_ERR_BUILD,
                                CLCNN_ERR_OPENCL,   CLCNN_ERR_NUMERIC,  CLCNN_ERR_UNSUPPORTED};
    const size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        const char *s = clcnn_status_str(codes[i]);
        ck_assert_msg(s != NULL && s[0] != '\0', "status %d has no name", codes[i]);
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(strcmp(s, clcnn_status_str(codes[j])) != 0, "statuses %d and %d share the name \"%s\"",
                          codes[i], codes[j], s);
    }
    /* unknown codes still give a usable string, distinct from the real ones */
    const int unknown[] = {1, 99, -11, -1000, 0x7fffffff, -0x7fffffff - 1};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *s = clcnn_status_str(unknown[i]);
        ck_assert_msg(s != NULL && s[0] != '\0', "status %d has no name", unknown[i]);
        for (size_t j = 0; j < n; j++)
            ck_assert_msg(strcmp(s, clcnn_status_str(codes[j])) != 0, "unknown status %d is named like %d",
                          unknown[i], codes[j]);
    }
}
END_TEST

START_TEST(name_parsers)
{
    ck_assert_int_eq(clcnn_activation_from_name("identity"), CLCNN_ACT_IDENTITY);
    ck_assert_int_eq(clcnn_activation_from_name("linear"), CLCNN_ACT_IDENTITY);
    ck_assert_int_eq(clcnn_activation_from_name("relu"), CLCNN_ACT_RELU);
    ck_assert_int_eq(clcnn_activation_from_name("sigmoid"), CLCNN_ACT_SIGMOID);
    ck_assert_int_eq(clcnn_activation_from_name("tanh"), CLCNN_ACT_TANH);
    ck_assert_int_eq(clcnn_activation_from_name("softmax"), CLCNN_ACT_SOFTMAX);
    ck_assert_int_eq(clcnn_activation_from_name("gelu"), -1);
    ck_assert_int_eq(clcnn_activation_from_name(""), -1);
    ck_assert_int_eq(clcnn_activation_from_name(NULL), -1);
    ck_assert_int_eq(clcnn_padding_from_name("same"), CLCNN_PAD_SAME);
    ck_assert_int_eq(clcnn_padding_from_name("valid"), CLCNN_PAD_VALID);
    ck_assert_int_eq(clcnn_padding_from_name("full"), -1);
    ck_assert_int_eq(clcnn_padding_from_name(NULL), -1);
    ck_assert_int_eq(clcnn_pool_mode_from_name("max"), CLCNN_POOL_MAX);
    ck_assert_int_eq(clcnn_pool_mode_from_name("avg"), CLCNN_POOL_AVG);
    ck_assert_int_eq(clcnn_pool_mode_from_name("min"), -1);
    ck_assert_int_eq(clcnn_pool_mode_from_name(NULL), -1);
}
END_TEST

static Suite *errors_suite(void)
{
    Suite *s = suite_create("errors");
    TCase *tc = tcase_create("arguments");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, conv_forward_errors);
    tcase_add_test(tc, conv_backward_errors);
    tcase_add_test(tc, pool_forward_errors);
    tcase_add_test(tc, pool_backward_errors);
    tcase_add_test(tc, foreign_tensors);
    tcase_add_test(tc, failed_context);
    tcase_add_test(tc, tensor_errors);
    tcase_add_test(tc, status_strings);
    tcase_add_test(tc, name_parsers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(errors_suite());
}
