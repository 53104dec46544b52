/* Summary.Value and the messages inside it.  Field numbers from
 * tensorboard/compat/proto/summary.proto and histogram.proto. */
#include "tb_summary.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

enum { SUMMARY_VALUE = 1 };
enum { VALUE_TAG = 1, VALUE_SIMPLE_VALUE = 2, VALUE_IMAGE = 4, VALUE_HISTO = 5 };
enum { IMAGE_HEIGHT = 1, IMAGE_WIDTH = 2, IMAGE_COLORSPACE = 3, IMAGE_ENCODED = 4 };
enum { HISTO_MIN = 1, HISTO_MAX = 2, HISTO_NUM = 3, HISTO_SUM = 4, HISTO_SUM_SQUARES = 5, HISTO_BUCKET_LIMIT = 6,
       HISTO_BUCKET = 7 };

/* Wraps one encoded Value into the summary. */
static void add_value(pb_buf *summary, pb_buf *value)
{
    pb_message_field(summary, SUMMARY_VALUE, value);
    pb_free(value);
}

void tb_summary_scalar(pb_buf *summary, const char *tag, float v)
{
    pb_buf value = {0};
    pb_bytes_field(&value, VALUE_TAG, tag, strlen(tag));
    pb_float_field(&value, VALUE_SIMPLE_VALUE, v);
    add_value(summary, &value);
}

void tb_summary_image(pb_buf *summary, const char *tag, int height, int width, int colorspace,
                      const void *encoded, size_t len)
{
    pb_buf image = {0}, value = {0};
    pb_varint_field(&image, IMAGE_HEIGHT, (uint64_t)height);
    pb_varint_field(&image, IMAGE_WIDTH, (uint64_t)width);
    pb_varint_field(&image, IMAGE_COLORSPACE, (uint64_t)colorspace);
    pb_bytes_field(&image, IMAGE_ENCODED, encoded, len);
    pb_bytes_field(&value, VALUE_TAG, tag, strlen(tag));
    pb_message_field(&value, VALUE_IMAGE, &image);
    pb_free(&image);
    add_value(summary, &value);
}

/* TensorFlow's default limits, ascending: -DBL_MAX, -1e-12 * 1.1^k down
 * from below -1e20, ..., 0, 1e-12, ..., DBL_MAX.  The same double
 * arithmetic as TensorFlow's, so the limits are equal bit for bit.
 * Returns the count, or 0 when out of memory; the caller frees *out. */
static size_t default_limits(double **out)
{
    size_t half = 0;
    for (double v = 1.0e-12; v < 1.0e20; v *= 1.1)
        half++;
    size_t n = 2 * (half + 1) + 1;
    double *l = malloc(n * sizeof *l);
    if (!l)
        return 0;
    size_t i = 0;
    for (double v = 1.0e-12; v < 1.0e20; v *= 1.1, i++) {
        l[half + 2 + i] = v;
        l[half - i] = -v;
    }
    l[0] = -DBL_MAX;
    l[half + 1] = 0.0;
    l[n - 1] = DBL_MAX;
    *out = l;
    return n;
}

/* The first limit above v (std::upper_bound); the last bucket when none. */
static size_t bucket_of(const double *limits, size_t n, double v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (limits[mid] > v)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo < n ? lo : n - 1;
}

void tb_summary_histogram(pb_buf *summary, const char *tag, const float *values, size_t n)
{
    double *limits = NULL;
    size_t nl = default_limits(&limits);
    double *counts = nl ? calloc(nl, sizeof *counts) : NULL;
    if (!counts) {
        free(limits);
        summary->failed = 1;
        return;
    }
    double lo = DBL_MAX, hi = -DBL_MAX, sum = 0.0, sum_squares = 0.0;
    for (size_t i = 0; i < n; i++) {
        double v = values[i];
        counts[bucket_of(limits, nl, v)] += 1.0;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        sum += v;
        sum_squares += v * v;
    }
    /* Merge each run of empty buckets into one, in place: a run ends at
     * its last limit. */
    size_t kept = 0;
    for (size_t i = 0; i < nl;) {
        double end = limits[i], count = counts[i++];
        if (count <= 0.0)
            while (i < nl && counts[i] <= 0.0)
                end = limits[i++];
        limits[kept] = end;
        counts[kept++] = count;
    }
    pb_buf histo = {0}, value = {0};
    pb_double_field(&histo, HISTO_MIN, lo);
    pb_double_field(&histo, HISTO_MAX, hi);
    pb_double_field(&histo, HISTO_NUM, (double)n);
    pb_double_field(&histo, HISTO_SUM, sum);
    pb_double_field(&histo, HISTO_SUM_SQUARES, sum_squares);
    pb_packed_doubles_field(&histo, HISTO_BUCKET_LIMIT, limits, kept);
    pb_packed_doubles_field(&histo, HISTO_BUCKET, counts, kept);
    free(limits);
    free(counts);
    pb_bytes_field(&value, VALUE_TAG, tag, strlen(tag));
    pb_message_field(&value, VALUE_HISTO, &histo);
    pb_free(&histo);
    add_value(summary, &value);
}
