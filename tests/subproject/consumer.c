/* Built by tests/test_subproject.sh against clcnn as a meson subproject:
 * a context on the CPU backend, one max pooling, the result checked. */
#include <clcnn.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    clcnn_ctx *ctx = NULL;
    clcnn_tensor *x = NULL, *y = NULL;
    int st = clcnn_ctx_create_with_log(&ctx, "cpu", NULL, NULL);
    if (st != CLCNN_OK)
        goto fail;
    const size_t shape[4] = {1, 2, 2, 1};
    const float in[4] = {1.0f, 4.0f, 3.0f, 2.0f};
    float out = 0.0f;
    if ((st = clcnn_tensor_create(ctx, &x, 4, shape)) != CLCNN_OK ||
        (st = clcnn_tensor_write(x, in, 4)) != CLCNN_OK ||
        (st = clcnn_pool_forward(ctx, x, 2, 2, 2, 2, CLCNN_POOL_MAX, &y)) != CLCNN_OK ||
        (st = clcnn_tensor_read(y, &out, 1)) != CLCNN_OK)
        goto fail;
    if (out != 4.0f || strcmp(clcnn_version(), CLCNN_VERSION_STRING) != 0) {
        fprintf(stderr, "consumer: max pool gave %g, version %s\n", out, clcnn_version());
        st = CLCNN_ERR_NUMERIC;
        goto fail;
    }
    printf("clcnn %s as a subproject: max pool = %g\n", clcnn_version(), out);
    clcnn_tensor_free(y);
    clcnn_tensor_free(x);
    clcnn_ctx_free(ctx);
    return 0;
fail:
    fprintf(stderr, "consumer: %s: %s\n", clcnn_status_str(st), ctx ? clcnn_errmsg(ctx) : "out of memory");
    clcnn_tensor_free(y);
    clcnn_tensor_free(x);
    clcnn_ctx_free(ctx);
    return 1;
}
