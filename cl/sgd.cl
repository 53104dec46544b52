/* SGD with momentum, PyTorch's form: d = g + wd w; v = momentum v + d;
 * w -= lr (nesterov ? d + momentum v : v). */
__kernel void sgd_update(__global float *w, __global const float *g, __global float *v, uint n, float lr,
                         float momentum, float wd, uint nesterov)
{
    const uint i = get_global_id(0);
    if (i >= n)
        return;
    const float d = g[i] + wd * w[i];
    const float vi = momentum * v[i] + d;
    v[i] = vi;
    w[i] -= lr * (nesterov ? d + momentum * vi : vi);
}
