/* TensorBoard's Summary message (tensorboard/compat/proto/summary.proto):
 * the values of one event, each added as a Summary.Value with its tag. */
#ifndef CLCNN_CLI_TB_SUMMARY_H
#define CLCNN_CLI_TB_SUMMARY_H

#include "tb_proto.h"

/* A scalar: Value.simple_value (a float, as TensorBoard stores it). */
void tb_summary_scalar(pb_buf *summary, const char *tag, float value);

/* A histogram of n values: Value.histo, a HistogramProto with the buckets
 * of TensorFlow's own histogram summaries (docs/tensorboard.md): limits
 * +-1e-12 * 1.1^k up to 1e20, 0 and +-DBL_MAX; a value v falls in the
 * first bucket whose limit is above v; runs of empty buckets are merged
 * into one, recorded at the run's last limit. */
void tb_summary_histogram(pb_buf *summary, const char *tag, const float *values, size_t n);

/* An image: Value.image with its size, colorspace (1 grey, 3 RGB) and
 * encoded bytes (PNG). */
void tb_summary_image(pb_buf *summary, const char *tag, int height, int width, int colorspace,
                      const void *encoded, size_t len);

#endif
