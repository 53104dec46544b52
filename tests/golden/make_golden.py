#!/usr/bin/python3
"""Golden data for clcnn's four seed operations (DESIGN.md section 1).

This is an independent reference written for clarity, not speed: plain
loops over output cells in float64.  Inputs are drawn with a fixed seed,
rounded to float32 (what the library sees), and every result is computed in
float64 from those float32 values, then stored as float32 .npy files.

    /usr/bin/python3 tests/golden/make_golden.py      # rewrites tests/golden/

Importing this module (python/test_binding.py does) only defines the
reference functions; files are written only when it runs as a script.

File names: <case>_<array>.npy, with <case> listed one per line in
cases.txt, prefixed by its kind ("conv" or "pool").
  conv cases: x, W, b (inputs), A (activation(Z)), dZ (input of backward),
              dA_prev, dW, db (outputs of conv_backward).
  pool cases: x, A (pool_forward), dA (input of backward), dA_prev.
tests/golden/npy/ holds small .npy fixtures for the loader tests.
"""

import math
import os
import sys

import numpy as np

ACTIVATIONS = ("identity", "relu", "sigmoid", "tanh", "softmax")


# --------------------------------------------------------------- geometry

def out_size_and_pad(size, k, s, padding):
    """(output size, padding before) along one axis, TensorFlow rules."""
    if padding == "valid":
        if k > size:
            raise ValueError("kernel larger than input")
        return (size - k) // s + 1, 0
    if padding == "same":
        new = -(-size // s)  # ceil(size / s)
        pad_total = max((new - 1) * s + k - size, 0)
        return new, pad_total // 2
    raise ValueError("unknown padding %r" % (padding,))


def pad_input(x, kh, kw, sh, sw, padding):
    """x padded with zeros as the convolution sees it, plus the output size."""
    m, h, w, c = x.shape
    oh, top = out_size_and_pad(h, kh, sh, padding)
    ow, left = out_size_and_pad(w, kw, sw, padding)
    # Rows needed by the last output row; bottom/right padding is whatever
    # remains (TensorFlow: pad_bottom = pad_total - pad_top).
    hp = max((oh - 1) * sh + kh, h + top)
    wp = max((ow - 1) * sw + kw, w + left)
    xp = np.zeros((m, hp, wp, c), dtype=np.float64)
    xp[:, top:top + h, left:left + w, :] = x
    return xp, oh, ow, top, left


# ----------------------------------------------------------- activations

def activate(z, activation):
    if activation in (None, "identity", "linear"):
        return z.copy()
    if activation == "relu":
        return np.where(z > 0, z, 0.0)
    if activation == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if activation == "tanh":
        return np.tanh(z)
    if activation == "softmax":
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise ValueError("unknown activation %r" % (activation,))


# ------------------------------------------------------------ operations

def conv_forward(A_prev, W, b, activation="identity", padding="same", stride=(1, 1)):
    """activation(Z), Z[n,i,j,k] = b[k] + sum_{p,q,c} A_pad[n,i*sh+p,j*sw+q,c] W[p,q,c,k]."""
    x = np.asarray(A_prev, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64).reshape(-1)
    kh, kw, c_prev, c_new = W.shape
    sh, sw = stride
    assert x.shape[3] == c_prev and b.shape[0] == c_new
    xp, oh, ow, _, _ = pad_input(x, kh, kw, sh, sw, padding)
    m = x.shape[0]
    Z = np.zeros((m, oh, ow, c_new))
    for i in range(oh):
        for j in range(ow):
            window = xp[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :]  # (m, kh, kw, c_prev)
            Z[:, i, j, :] = np.einsum("npqc,pqck->nk", window, W) + b
    return activate(Z, activation)


def conv_backward(dZ, A_prev, W, b, padding="same", stride=(1, 1)):
    """(dA_prev, dW, db): the exact gradients of Z with respect to its inputs."""
    dZ = np.asarray(dZ, dtype=np.float64)
    x = np.asarray(A_prev, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    b = np.asarray(b)
    kh, kw, c_prev, c_new = W.shape
    sh, sw = stride
    m, h, w, _ = x.shape
    xp, oh, ow, top, left = pad_input(x, kh, kw, sh, sw, padding)
    assert dZ.shape == (m, oh, ow, c_new)
    dxp = np.zeros_like(xp)
    dW = np.zeros_like(W)
    for i in range(oh):
        for j in range(ow):
            window = xp[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :]
            g = dZ[:, i, j, :]  # (m, c_new)
            dW += np.einsum("npqc,nk->pqck", window, g)
            dxp[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :] += np.einsum("pqck,nk->npqc", W, g)
    dA_prev = dxp[:, top:top + h, left:left + w, :]  # gradient on padding is dropped
    db = dZ.sum(axis=(0, 1, 2)).reshape(b.shape)
    return dA_prev, dW, db


def pool_out_size(size, k, s):
    if k > size:
        raise ValueError("kernel larger than input")
    return (size - k) // s + 1


def pool_forward(A_prev, kernel_shape, stride=(1, 1), mode="max"):
    x = np.asarray(A_prev, dtype=np.float64)
    kh, kw = kernel_shape
    sh, sw = stride
    m, h, w, c = x.shape
    oh, ow = pool_out_size(h, kh, sh), pool_out_size(w, kw, sw)
    A = np.zeros((m, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            window = x[:, i * sh:i * sh + kh, j * sw:j * sw + kw, :]
            if mode == "max":
                A[:, i, j, :] = window.max(axis=(1, 2))
            elif mode == "avg":
                A[:, i, j, :] = window.mean(axis=(1, 2))
            else:
                raise ValueError("unknown mode %r" % (mode,))
    return A


def pool_backward(dA, A_prev, kernel_shape, stride=(1, 1), mode="max"):
    """dA_prev; max: every cell equal to its window's max gets the full dA."""
    dA = np.asarray(dA, dtype=np.float64)
    x = np.asarray(A_prev, dtype=np.float64)
    kh, kw = kernel_shape
    sh, sw = stride
    m, h, w, c = x.shape
    oh, ow = pool_out_size(h, kh, sh), pool_out_size(w, kw, sw)
    assert dA.shape == (m, oh, ow, c)
    dx = np.zeros_like(x)
    for n in range(m):
        for i in range(oh):
            for j in range(ow):
                for ch in range(c):
                    window = x[n, i * sh:i * sh + kh, j * sw:j * sw + kw, ch]
                    g = dA[n, i, j, ch]
                    if mode == "max":
                        mask = window == window.max()
                        dx[n, i * sh:i * sh + kh, j * sw:j * sw + kw, ch] += mask * g
                    elif mode == "avg":
                        dx[n, i * sh:i * sh + kh, j * sw:j * sw + kw, ch] += g / (kh * kw)
                    else:
                        raise ValueError("unknown mode %r" % (mode,))
    return dx


# ---------------------------------------------------------------- cases

# (name, m, h, w, c_prev, c_new, kh, kw, padding, (sh, sw), activation)
CONV_CASES = [
    ("conv_same_s11_k3x3_relu", 2, 5, 5, 2, 3, 3, 3, "same", (1, 1), "relu"),
    ("conv_valid_s11_k3x3_identity", 1, 6, 5, 1, 2, 3, 3, "valid", (1, 1), "identity"),
    ("conv_same_s22_k4x4_sigmoid", 2, 7, 8, 3, 2, 4, 4, "same", (2, 2), "sigmoid"),
    ("conv_valid_s22_k2x2_tanh", 1, 6, 7, 2, 2, 2, 2, "valid", (2, 2), "tanh"),
    ("conv_same_s23_k2x3_softmax", 2, 7, 8, 2, 3, 2, 3, "same", (2, 3), "softmax"),
    ("conv_valid_s23_k2x3_relu", 1, 7, 9, 3, 2, 2, 3, "valid", (2, 3), "relu"),
    ("conv_same_s11_k1x1_identity", 1, 3, 4, 3, 4, 1, 1, "same", (1, 1), "identity"),
    # stride larger than the kernel: the padding formula clamps at 0
    ("conv_same_s33_k2x2_tanh", 2, 9, 8, 2, 2, 2, 2, "same", (3, 3), "tanh"),
    # a kernel larger than the input, legal with same padding
    ("conv_same_s11_k5x5_sigmoid", 1, 3, 3, 2, 2, 5, 5, "same", (1, 1), "sigmoid"),
    ("conv_valid_s12_k4x2_softmax", 3, 5, 6, 1, 4, 4, 2, "valid", (1, 2), "softmax"),
    ("conv_same_s21_k3x2_identity", 1, 4, 5, 1, 1, 3, 2, "same", (2, 1), "identity"),
    # LeNet-like first layer shape, small
    ("conv_same_s11_k5x5_relu", 1, 6, 6, 1, 3, 5, 5, "same", (1, 1), "relu"),
]

# (name, m, h, w, c, kh, kw, (sh, sw), mode, ties)
POOL_CASES = [
    ("pool_max_k2x2_s22", 2, 6, 6, 3, 2, 2, (2, 2), "max", False),
    ("pool_avg_k2x2_s22", 2, 6, 6, 3, 2, 2, (2, 2), "avg", False),
    ("pool_max_k2x2_s22_odd", 1, 5, 7, 2, 2, 2, (2, 2), "max", False),
    # overlapping windows
    ("pool_max_k3x3_s22", 1, 7, 7, 2, 3, 3, (2, 2), "max", False),
    ("pool_avg_k3x3_s22", 2, 7, 8, 2, 3, 3, (2, 2), "avg", False),
    ("pool_max_k3x2_s12", 1, 6, 5, 2, 3, 2, (1, 2), "max", False),
    ("pool_avg_k2x3_s11", 1, 4, 5, 3, 2, 3, (1, 1), "avg", False),
    # gapped windows (kernel < stride)
    ("pool_max_k2x2_s33", 2, 8, 8, 2, 2, 2, (3, 3), "max", False),
    ("pool_avg_k1x2_s23", 1, 7, 9, 2, 1, 2, (2, 3), "avg", False),
    # ties: small integer values, repeated maxima inside windows
    ("pool_max_k3x3_s22_ties", 2, 7, 7, 2, 3, 3, (2, 2), "max", True),
    ("pool_max_k2x2_s11_ties", 1, 5, 6, 2, 2, 2, (1, 1), "max", True),
    ("pool_max_k2x2_s22_ties", 3, 4, 4, 1, 2, 2, (2, 2), "max", True),
]

SEED = 20240521


def f32(a):
    """Rounds to float32 and back, so that the reference sees what C sees."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def save(outdir, name, array):
    np.save(os.path.join(outdir, name + ".npy"), np.ascontiguousarray(array, dtype=np.float32))


def write_conv_case(outdir, rng, case):
    name, m, h, w, c_prev, c_new, kh, kw, padding, stride, act = case
    x = f32(rng.uniform(-1, 1, (m, h, w, c_prev)))
    W = f32(rng.uniform(-0.5, 0.5, (kh, kw, c_prev, c_new)))
    b = f32(rng.uniform(-0.5, 0.5, (1, 1, 1, c_new)))
    A = conv_forward(x, W, b, act, padding, stride)
    dZ = f32(rng.uniform(-1, 1, A.shape))
    dA_prev, dW, db = conv_backward(dZ, x, W, b, padding, stride)
    for key, arr in (("x", x), ("W", W), ("b", b), ("A", A), ("dZ", dZ),
                     ("dA_prev", dA_prev), ("dW", dW), ("db", db)):
        save(outdir, name + "_" + key, arr)


def write_pool_case(outdir, rng, case):
    name, m, h, w, c, kh, kw, stride, mode, ties = case
    if ties:
        x = f32(rng.integers(0, 3, (m, h, w, c)))
    else:
        # distinct values: a permutation scaled into [-1, 1)
        x = f32((rng.permutation(m * h * w * c) / (m * h * w * c) * 2 - 1).reshape(m, h, w, c))
    A = pool_forward(x, (kh, kw), stride, mode)
    dA = f32(rng.uniform(-1, 1, A.shape))
    dA_prev = pool_backward(dA, x, (kh, kw), stride, mode)
    if ties:
        # the case must really exercise the rule
        windows_with_ties = 0
        sh, sw = stride
        for n in range(m):
            for i in range(A.shape[1]):
                for j in range(A.shape[2]):
                    for ch in range(c):
                        win = x[n, i * sh:i * sh + kh, j * sw:j * sw + kw, ch]
                        windows_with_ties += int((win == win.max()).sum() > 1)
        assert windows_with_ties > 0, name
    for key, arr in (("x", x), ("A", A), ("dA", dA), ("dA_prev", dA_prev)):
        save(outdir, name + "_" + key, arr)


# ------------------------------------------------------------ npy fixtures

def npy_header_bytes(descr, fortran, shape, version=(1, 0)):
    """A hand-made .npy header, for fixtures numpy itself would not write."""
    d = "{'descr': %r, 'fortran_order': %s, 'shape': %r, }" % (descr, fortran, tuple(shape))
    return raw_npy_header(d, version)


def raw_npy_header(dict_text, version=(1, 0)):
    magic = b"\x93NUMPY" + bytes(version)
    head = dict_text.encode("latin1")
    hlen_size = 2 if version[0] == 1 else 4
    total = len(magic) + hlen_size + len(head) + 1
    head += b" " * ((64 - total % 64) % 64) + b"\n"
    return magic + len(head).to_bytes(hlen_size, "little") + head


def npy_fixture_values(n):
    """Values every good fixture holds: k * 0.5 - 3 for k = 0..n-1 (exact in
    every dtype used below once made integral where needed)."""
    return np.arange(n) * 0.5 - 3


def write_npy_fixtures(outdir):
    os.makedirs(outdir, exist_ok=True)
    # Good files: (2, 3) arrays, values documented here and in test_npy.c.
    v = npy_fixture_values(6).reshape(2, 3)
    np.save(os.path.join(outdir, "good_f4.npy"), v.astype("<f4"))
    np.save(os.path.join(outdir, "good_f8.npy"), v.astype("<f8"))
    np.save(os.path.join(outdir, "good_u1.npy"), (np.arange(6).reshape(2, 3) * 50).astype("|u1"))  # 0..250
    np.save(os.path.join(outdir, "good_i4.npy"), (np.arange(6).reshape(2, 3) - 3).astype("<i4"))  # -3..2
    np.save(os.path.join(outdir, "good_i8.npy"), (np.arange(6).reshape(2, 3) * 1000 - 2500).astype("<i8"))
    np.save(os.path.join(outdir, "good_f4_r1.npy"), npy_fixture_values(5).astype("<f4"))
    np.save(os.path.join(outdir, "good_f4_r4.npy"), npy_fixture_values(24).reshape(1, 2, 3, 4).astype("<f4"))

    # Bad files, each with exactly one defect.
    np.save(os.path.join(outdir, "bad_big_endian.npy"), v.astype(">f4"))
    np.save(os.path.join(outdir, "bad_fortran.npy"), np.asfortranarray(v.astype("<f4")))
    np.save(os.path.join(outdir, "bad_dtype_c8.npy"), v.astype("<c8"))
    np.save(os.path.join(outdir, "bad_dtype_b1.npy"), v > 0)
    np.save(os.path.join(outdir, "bad_dtype_f2.npy"), v.astype("<f2"))
    np.save(os.path.join(outdir, "bad_rank5.npy"), np.zeros((1, 1, 2, 1, 2), dtype="<f4"))
    good = open(os.path.join(outdir, "good_f4.npy"), "rb").read()
    with open(os.path.join(outdir, "bad_truncated.npy"), "wb") as f:
        f.write(good[:-5])  # 24 data bytes -> 19
    with open(os.path.join(outdir, "bad_magic.npy"), "wb") as f:
        f.write(b"\x93NUMPZ" + good[6:])
    with open(os.path.join(outdir, "bad_header.npy"), "wb") as f:
        body = v.astype("<f4").tobytes()
        # the dictionary is never closed
        f.write(raw_npy_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3", (1, 0)))
        f.write(body)
    with open(os.path.join(outdir, "bad_header_noshape.npy"), "wb") as f:
        f.write(raw_npy_header("{'descr': '<f4', 'fortran_order': False, }", (1, 0)))
        f.write(v.astype("<f4").tobytes())
    with open(os.path.join(outdir, "bad_header_len.npy"), "wb") as f:
        hdr = bytearray(npy_header_bytes("<f4", False, (2, 3)))
        hdr[8:10] = (60000).to_bytes(2, "little")  # header length beyond the file
        f.write(bytes(hdr) + v.astype("<f4").tobytes())


# ------------------------------------------------------------------ main

def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = argv[1] if len(argv) > 1 else here
    os.makedirs(outdir, exist_ok=True)
    rng = np.random.default_rng(SEED)
    lines = []
    for case in CONV_CASES:
        write_conv_case(outdir, rng, case)
        lines.append("conv " + case[0])
    for case in POOL_CASES:
        write_pool_case(outdir, rng, case)
        lines.append("pool " + case[0])
    with open(os.path.join(outdir, "cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    write_cases_header(os.path.join(outdir, "golden_cases.h"))
    write_npy_fixtures(os.path.join(outdir, "npy"))
    return 0


def write_cases_header(path):
    """The case table for the C tests, as X-macros."""
    act_enum = {"identity": "CLCNN_ACT_IDENTITY", "relu": "CLCNN_ACT_RELU", "sigmoid": "CLCNN_ACT_SIGMOID",
                "tanh": "CLCNN_ACT_TANH", "softmax": "CLCNN_ACT_SOFTMAX"}
    out = ["/* Generated by tests/golden/make_golden.py; do not edit. */",
           "/* GOLDEN_CONV(name, padding, stride_h, stride_w, activation) */"]
    for name, m, h, w, c_prev, c_new, kh, kw, padding, (sh, sw), act in CONV_CASES:
        pad = "CLCNN_PAD_SAME" if padding == "same" else "CLCNN_PAD_VALID"
        out.append('GOLDEN_CONV("%s", %s, %d, %d, %s)' % (name, pad, sh, sw, act_enum[act]))
    out.append("/* GOLDEN_POOL(name, kernel_h, kernel_w, stride_h, stride_w, mode) */")
    for name, m, h, w, c, kh, kw, (sh, sw), mode, ties in POOL_CASES:
        md = "CLCNN_POOL_MAX" if mode == "max" else "CLCNN_POOL_AVG"
        out.append('GOLDEN_POOL("%s", %d, %d, %d, %d, %s)' % (name, kh, kw, sh, sw, md))
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
