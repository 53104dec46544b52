/* compare_models A B RTOL: exits 0 when the two model (or checkpoint)
 * files have the same layers and their weights agree to RTOL relative,
 * |A - B| / |A| in the 2-norm over every parameter; prints that and the
 * worst tensor (largest difference over its largest magnitude).  The mpi
 * suite compares N-rank runs with one process through it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "clcnn.h"

static float *read_all(clcnn_model *m, size_t i, int which, size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    if (p && clcnn_model_read_param(m, i, which, p, n) != CLCNN_OK) {
        free(p);
        p = NULL;
    }
    return p;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: compare_models A B RTOL\n");
        return 2;
    }
    double rtol = atof(argv[3]), worst = 0.0, diff2 = 0.0, norm2 = 0.0;
    clcnn_ctx *ctx = NULL;
    clcnn_model *a = NULL, *b = NULL;
    int rc = 1;
    if (clcnn_ctx_create(&ctx, "cpu") != CLCNN_OK || clcnn_model_load(ctx, &a, argv[1]) != CLCNN_OK ||
        clcnn_model_load(ctx, &b, argv[2]) != CLCNN_OK) {
        fprintf(stderr, "compare_models: %s\n", ctx ? clcnn_errmsg(ctx) : "out of memory");
        goto done;
    }
    size_t nl = clcnn_model_layer_count(a), where = 0;
    if (nl != clcnn_model_layer_count(b)) {
        fprintf(stderr, "compare_models: %zu layers against %zu\n", nl, clcnn_model_layer_count(b));
        goto done;
    }
    for (size_t i = 0; i < nl; i++)
        for (int w = 0; w < 2; w++) {
            size_t n = clcnn_model_param_size(a, i, w);
            if (n != clcnn_model_param_size(b, i, w)) {
                fprintf(stderr, "compare_models: layer %zu has other parameters\n", i);
                goto done;
            }
            if (!n)
                continue;
            float *x = read_all(a, i, w, n), *y = read_all(b, i, w, n);
            double scale = 0.0, diff = 0.0;
            for (size_t k = 0; x && y && k < n; k++) {
                double d = (double)x[k] - y[k];
                scale = fmax(scale, fabs(x[k]));
                diff = fmax(diff, fabs(d));
                diff2 += d * d;
                norm2 += (double)x[k] * x[k];
            }
            int ok = x && y;
            free(x);
            free(y);
            if (!ok) {
                fprintf(stderr, "compare_models: %s\n", clcnn_errmsg(ctx));
                goto done;
            }
            double rel = scale > 0 ? diff / scale : diff;
            if (!(rel <= worst)) { /* NaN counts as the worst */
                worst = rel;
                where = 2 * i + (size_t)w;
            }
        }
    double rel = norm2 > 0 ? sqrt(diff2 / norm2) : sqrt(diff2);
    printf("relative difference %.3g; worst tensor layer %zu %s, %.3g of its largest weight\n", rel, where / 2,
           where % 2 ? "bias" : "weights", worst);
    rc = rel <= rtol ? 0 : 1; /* NaN fails */
done:
    clcnn_model_free(a);
    clcnn_model_free(b);
    clcnn_ctx_free(ctx);
    return rc;
}
