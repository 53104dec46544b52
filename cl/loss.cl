/* Softmax cross-entropy on logits, with loss/accuracy statistics. */

/*
 * XENT_WG (a power of two) is set by the host, src/opencl/loss.c.
 *
 * One work-group of XENT_WG items walks the m rows; per row: the
 * probabilities p, the gradient (p - onehot) / grad_scale, the loss
 * log(sum exp(z - max)) - (z[label] - max), and whether the first maximum
 * of the logits is the label.  The group reduces loss and hits and item 0
 * adds them to stats.  write_grad says whether dlogits is to be written.
 */
__kernel __attribute__((reqd_work_group_size(XENT_WG, 1, 1))) void
softmax_xent(__global const float *logits, __global const int *labels, __global float *dlogits, __global float *stats,
             uint m, uint k, float grad_scale, int write_grad)
{
    __local float part_loss[XENT_WG];
    __local float part_hits[XENT_WG];
    const uint lid = get_local_id(0);
    float loss = 0.0f, hits = 0.0f;
    for (uint r = lid; r < m; r += XENT_WG) {
        __global const float *z = logits + (size_t)r * k;
        uint best = 0;
        for (uint c = 1; c < k; c++)
            if (z[c] > z[best])
                best = c;
        const float mx = z[best];
        float sum = 0.0f;
        for (uint c = 0; c < k; c++)
            sum += exp(z[c] - mx);
        const int lab = labels[r];
        if (lab >= 0 && (uint)lab < k) {
            loss += log(sum) - (z[lab] - mx);
            hits += best == (uint)lab ? 1.0f : 0.0f;
        }
        const float inv = 1.0f / sum;
        for (uint c = 0; c < k; c++) {
            const float p = exp(z[c] - mx) * inv;
            if (write_grad)
                dlogits[(size_t)r * k + c] = (p - ((int)c == lab ? 1.0f : 0.0f)) / grad_scale;
        }
    }
    part_loss[lid] = loss;
    part_hits[lid] = hits;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint off = XENT_WG / 2; off > 0; off >>= 1) {
        if (lid < off) {
            part_loss[lid] += part_loss[lid + off];
            part_hits[lid] += part_hits[lid + off];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) {
        stats[0] += part_loss[0];
        stats[1] += part_hits[0];
    }
}
