/*
 * Helpers shared by every kernel file: the build puts this file in front of
 * each family's source (one program per family).  OpenCL C 1.2, no
 * extensions.  Indices are 32-bit (the host checks that sizes fit).
 */
#define ACT_IDENTITY 0
#define ACT_RELU 1
#define ACT_SIGMOID 2
#define ACT_TANH 3
#define ACT_SOFTMAX 4 /* handled row-wise by the callers */

/* The element-wise activations, written as the CPU oracle writes them. */
float act_apply(float z, int act)
{
    switch (act) {
    case ACT_RELU:
        return z > 0.0f ? z : 0.0f;
    case ACT_SIGMOID:
        return 1.0f / (1.0f + exp(-z));
    case ACT_TANH:
        return tanh(z);
    default:
        return z;
    }
}

/* In-place softmax of one row of n values (stable: the row max first). */
void softmax_row(__global float *z, uint n)
{
    float mx = z[0];
    for (uint c = 1; c < n; c++)
        mx = z[c] > mx ? z[c] : mx;
    float sum = 0.0f;
    for (uint c = 0; c < n; c++) {
        float e = exp(z[c] - mx);
        z[c] = e;
        sum += e;
    }
    const float inv = 1.0f / sum;
    for (uint c = 0; c < n; c++)
        z[c] *= inv;
}
