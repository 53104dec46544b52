/* How far a device's output is from a reference's: one rule for the device
 * self-check and the tuner. */
#ifndef CLCNN_CHECK_COMPARE_H
#define CLCNN_CHECK_COMPARE_H

#include <math.h>
#include <stddef.h>

/* Outputs agree when their scaled error is at most this. */
#define CLCNN_CHECK_TOLERANCE 1e-4

/* max|got - want| / max|want| (the difference itself when want is all
 * zero); NaN when a value of either is not finite. */
static inline double clcnn_scaled_error(const float *got, const float *want, size_t n)
{
    double diff = 0.0, scale = 0.0;
    for (size_t j = 0; j < n; j++) {
        if (!isfinite(got[j]) || !isfinite(want[j]))
            return NAN;
        diff = fmax(diff, fabs((double)got[j] - (double)want[j]));
        scale = fmax(scale, fabs((double)want[j]));
    }
    return diff > 0.0 ? diff / (scale > 0.0 ? scale : 1.0) : 0.0;
}

#endif
