/* onnx_predict MODEL IMAGES.npy OUT.npy: clcnn_model_predict of a clcnn
 * model or an .onnx (by suffix) on NHWC images (n, h, w[, c]) scaled as
 * they are, on the device of CLCNN_DEVICE, written as an (n, outputs)
 * .npy: what the ONNX round-trip tests compare with PyTorch and ONNX
 * Runtime. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clcnn.h"

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: onnx_predict MODEL IMAGES.npy OUT.npy\n");
    return 2;
  }
  clcnn_ctx *ctx = NULL;
  clcnn_model *m = NULL;
  float *images = NULL, *out = NULL;
  int rank = 0, rc = 1;
  size_t shape[CLCNN_MAX_RANK] = {0};
  size_t n = strlen(argv[1]);
  int onnx = n >= 5 && strcmp(argv[1] + n - 5, ".onnx") == 0;
  if (clcnn_ctx_create(&ctx, NULL) != CLCNN_OK ||
      (onnx ? clcnn_model_load_onnx(ctx, &m, argv[1])
            : clcnn_model_load(ctx, &m, argv[1])) != CLCNN_OK ||
      clcnn_npy_read(ctx, argv[2], &images, &rank, shape) != CLCNN_OK) {
    fprintf(stderr, "onnx_predict: %s\n",
            ctx ? clcnn_errmsg(ctx) : "no context");
    goto done;
  }
  size_t in[3], count = shape[0], per = 1, k = clcnn_model_classes(m);
  clcnn_model_input_shape(m, in);
  for (int i = 1; i < rank; i++)
    per *= shape[i];
  if (rank < 2 || per != in[0] * in[1] * in[2]) {
    fprintf(stderr,
            "onnx_predict: %s: the images do not fit the model's %zux%zux%zu "
            "input\n",
            argv[2], in[0], in[1], in[2]);
    goto done;
  }
  size_t out_shape[2] = {count, k};
  if (!(out = malloc(count * k * sizeof *out)) ||
      clcnn_model_predict(m, images, count, out) != CLCNN_OK ||
      clcnn_npy_write(ctx, argv[3], out, 2, out_shape) != CLCNN_OK) {
    fprintf(stderr, "onnx_predict: %s\n",
            out ? clcnn_errmsg(ctx) : "out of memory");
    goto done;
  }
  rc = 0;
done:
  free(out);
  clcnn_free(ctx, images);
  clcnn_model_free(m);
  clcnn_ctx_free(ctx);
  return rc;
}
