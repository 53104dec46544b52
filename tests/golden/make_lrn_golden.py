#!/usr/bin/python3
"""Golden data for clcnn's local response normalisation (clcnn_lrn_forward,
clcnn_lrn_backward), from two frameworks that disagree on alpha:

- PyTorch: torch.nn.functional.local_response_norm (what
  torch.nn.LocalResponseNorm calls), which divides its alpha by the size:
      b_c = a_c / (k + alpha_torch / n * sum_{c'} a_{c'}^2)^beta,
  so it is called with alpha_torch = clcnn's alpha * size.  Its backward is
  torch's autograd.  Computed in float64 (torch.float64 tensors).
- TensorFlow: tf.nn.local_response_normalization(input, depth_radius, bias,
  alpha, beta) uses alpha as the paper does, on windows of 2 * depth_radius
  + 1 channels.  TensorFlow is not installed here (there is no Debian
  package), so its formula is written out in numpy, as its API
  documentation states it
  (https://www.tensorflow.org/api_docs/python/tf/nn/local_response_normalization):
      sqr_sum[a, b, c, d] = sum(input[a, b, c, d - depth_radius : d + depth_radius + 1] ** 2)
      output = input / (bias + alpha * sqr_sum) ** beta
  and its gradient written out from that formula; clcnn's size is
  2 * depth_radius + 1, its k is bias.

Inputs are drawn with a fixed seed and rounded to float32 (what the library
sees); results are computed in float64 and stored as float32.

    /usr/bin/python3 tests/golden/make_lrn_golden.py   # rewrites tests/golden/lrn_*

Files: lrn_<case>_<array>.npy for x (input, NHWC), A (forward), dA (the
gradient at the output) and dA_prev (backward); lrn_cases.txt lists one case
a line: name, size, alpha, beta, k, in clcnn's terms.
"""

import os
import sys

import numpy as np

SEED = 20121203

# name, shape (m, h, w, c), size, alpha (clcnn's, the paper's), beta, k
TORCH_CASES = [
    ("torch_paper", (2, 3, 3, 16), 5, 1e-4, 0.75, 2.0),
    ("torch_strong_c7", (2, 2, 3, 7), 5, 0.5, 0.75, 1.0),
    ("torch_even_size", (1, 2, 2, 9), 4, 0.5, 0.75, 1.0),
    ("torch_size_over_c", (1, 2, 2, 3), 7, 1.0, 0.5, 1.0),
]
# name, shape, depth_radius, alpha, beta, bias (size = 2 * depth_radius + 1)
TF_CASES = [
    ("tf_paper", (2, 3, 3, 16), 2, 1e-4, 0.75, 2.0),
    ("tf_defaults_c5", (2, 2, 2, 5), 5, 1.0, 0.5, 1.0),  # TensorFlow's defaults
    ("tf_radius1", (1, 3, 2, 11), 1, 0.8, 1.0, 0.5),
]


def f32(a):
    return np.asarray(a, dtype=np.float32)


def torch_case(x, dA, size, alpha, beta, k):
    import torch

    t = torch.tensor(x.astype(np.float64).transpose(0, 3, 1, 2), requires_grad=True)  # NCHW
    out = torch.nn.functional.local_response_norm(t, size, alpha=alpha * size, beta=beta, k=k)
    out.backward(torch.tensor(dA.astype(np.float64).transpose(0, 3, 1, 2)))
    nhwc = (0, 2, 3, 1)
    return out.detach().numpy().transpose(nhwc), t.grad.numpy().transpose(nhwc)


def tf_case(x, dA, radius, alpha, beta, bias):
    x = x.astype(np.float64)
    dA = dA.astype(np.float64)
    c = x.shape[3]
    sqr_sum = np.zeros_like(x)
    for d in range(c):
        sqr_sum[..., d] = np.sum(x[..., max(d - radius, 0):d + radius + 1] ** 2, axis=-1)
    s = bias + alpha * sqr_sum
    out = x / s ** beta
    # d out[d] / d x[j] = [d == j] s[d]^-beta - 2 alpha beta x[d] x[j] s[d]^(-beta-1), |d - j| <= radius
    t = dA * x * s ** (-beta - 1)
    win = np.zeros_like(x)
    for j in range(c):
        win[..., j] = np.sum(t[..., max(j - radius, 0):j + radius + 1], axis=-1)
    grad = dA * s ** -beta - 2 * alpha * beta * x * win
    return out, grad


def save(outdir, name, array):
    np.save(os.path.join(outdir, name + ".npy"), np.ascontiguousarray(array, dtype=np.float32))


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = argv[1] if len(argv) > 1 else here
    rng = np.random.default_rng(SEED)
    lines = []
    cases = [(c, "torch") for c in TORCH_CASES] + [(c, "tf") for c in TF_CASES]
    for (name, shape, n, alpha, beta, k), source in cases:
        x = f32(rng.uniform(-1, 1, shape))
        dA = f32(rng.uniform(-1, 1, shape))
        if source == "torch":
            A, dA_prev = torch_case(x, dA, n, alpha, beta, k)
            size = n
            if n % 2:  # the conversion of alpha, checked: TensorFlow's formula agrees
                A_tf, dA_prev_tf = tf_case(x, dA, n // 2, alpha, beta, k)
                assert np.allclose(A, A_tf, rtol=1e-12, atol=0) and np.allclose(dA_prev, dA_prev_tf, rtol=1e-10,
                                                                                 atol=1e-15), name
        else:
            A, dA_prev = tf_case(x, dA, n, alpha, beta, k)
            size = 2 * n + 1
        for array, value in (("x", x), ("dA", dA), ("A", A), ("dA_prev", dA_prev)):
            save(outdir, "lrn_%s_%s" % (name, array), value)
        lines.append("%s %d %r %r %r" % (name, size, alpha, beta, k))
    with open(os.path.join(outdir, "lrn_cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
