/*
 * Helpers shared by every kernel file: the build puts this file in front of
 * each family's source (one program per family).  OpenCL C 1.2, no
 * extensions.  Indices are 32-bit (the host checks that sizes fit).
 */

/* ACT_IDENTITY, ACT_RELU, ACT_SIGMOID, ACT_TANH and ACT_SOFTMAX are
 * clcnn_activation's values, set by the host (src/opencl/launch.c);
 * softmax is handled row-wise by the callers. */

/* The element-wise activations, written as the CPU oracle writes them. */
float act_apply(float z, int act)
{
    switch (act) {
    case ACT_RELU:
        return z < 0.0f ? 0.0f : z; /* a NaN passes through, as in numpy */
    case ACT_SIGMOID:
        return 1.0f / (1.0f + exp(-z));
    case ACT_TANH:
        return tanh(z);
    default:
        return z;
    }
}

/* x, or 0 when it is subnormal: how the optimizers store their moments
 * (backend.h), the same on a device that keeps subnormals and one that
 * flushes them. */
float flush_subnormal(float x)
{
    return fabs(x) < FLT_MIN ? 0.0f : x;
}

/* The gradient g at an activation's output y carried to its input:
 * g * act'(z) from y = act(z), as the CPU oracle computes it (not softmax:
 * it passes g through). */
float act_grad(float g, float y, int act)
{
    switch (act) {
    case ACT_RELU:
        return y > 0.0f ? g : 0.0f;
    case ACT_SIGMOID:
        return g * y * (1.0f - y);
    case ACT_TANH:
        return g * (1.0f - y * y);
    default:
        return g;
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

/* float8 helpers for kernels that handle 8 channels at a time. */

/* p[0..8), with zeros past the first n values (n may exceed 8). */
float8 load8(__global const float *p, uint n)
{
    if (n >= 8)
        return vload8(0, p);
    float t[8];
    for (uint u = 0; u < 8; u++)
        t[u] = u < n ? p[u] : 0.0f;
    return vload8(0, t);
}

/* p[0..8) for a float8 of which only the first n lanes matter: a plain
 * vector load while p + 8 stays inside the buffer (avail = the number of
 * floats from p to its end), else load8.  The other lanes hold whatever
 * follows and must be discarded by the caller. */
float8 load8_any(__global const float *p, uint n, uint avail)
{
    return avail >= 8 ? vload8(0, p) : load8(p, n);
}

float hsum8(float8 v)
{
    const float4 a = v.lo + v.hi;
    const float2 b = a.lo + a.hi;
    return b.x + b.y;
}

/* Stores the first min(n, 8) lanes of v at p. */
void store8(__global float *p, float8 v, uint n)
{
    if (n >= 8) {
        vstore8(v, 0, p);
        return;
    }
    float t[8];
    vstore8(v, 0, t);
    for (uint u = 0; u < n; u++)
        p[u] = t[u];
}

/* Stores the first min(n, 8) lanes of v at p, each through act_apply
 * (softmax: as they are, for the row pass).  The loop over the lanes is
 * unrolled with the bound tested inside, so that a GPU compiler keeps the
 * lanes in registers (a private array indexed by a loop of variable trip
 * count goes to scratch memory). */
void store_act8(__global float *p, float8 v, uint n, int act)
{
    float r[8];
    vstore8(v, 0, r);
    #pragma unroll
    for (uint u = 0; u < 8; u++)
        if (u < n)
            p[u] = act == ACT_SOFTMAX ? r[u] : act_apply(r[u], act);
}
