#!/usr/bin/python3
"""Tests of the numpy binding against the independent numpy reference in
tests/golden/make_golden.py.

    PYTHONPATH=python /usr/bin/python3 python/test_binding.py

Exit status 77 (meson's "skipped") when numpy is missing, or when the
context cannot be created for lack of a device (CLCNN_DEVICE=opencl on a
machine without one).

Tolerance |got - want| <= 1e-6 + 1e-5 |want|, as in tests/test_ops.c: the
inputs are float32 of magnitude <= 1 and every output is a sum of at most
~100 products, so float32 rounding stays well under 1e-6 absolute; the 1e-6
covers outputs that are near zero by cancellation.
"""

import os
import sys
import unittest

try:
    import numpy as np
except ImportError:
    print("skipping: numpy is not available for %s" % sys.executable)
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "golden"))

import make_golden as ref  # noqa: E402  (the reference; importing writes nothing)
import clcnn  # noqa: E402

RTOL, ATOL = 1e-5, 1e-6
N_RANDOM = 300  # random configurations per operation family


def f32(rng, lo, hi, shape):
    return rng.uniform(lo, hi, shape).astype(np.float32)


def assert_close(test, got, want, what):
    test.assertEqual(got.dtype, np.float32, what)
    test.assertEqual(got.shape, want.shape, what)
    err = np.abs(got.astype(np.float64) - want)
    bad = err > ATOL + RTOL * np.abs(want)
    if bad.any():
        i = np.unravel_index(np.argmax(bad), bad.shape)
        test.fail("%s: at %s got %.9g, want %.9g (%d of %d elements off)"
                  % (what, i, got[i], want[i], bad.sum(), bad.size))


def random_conv_config(rng):
    """A random geometry that is valid for the chosen padding."""
    while True:
        m = int(rng.integers(1, 4))
        h, w = int(rng.integers(1, 9)), int(rng.integers(1, 9))
        c_prev, c_new = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        kh, kw = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        sh, sw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        padding = ("same", "valid")[int(rng.integers(0, 2))]
        if padding == "valid" and (kh > h or kw > w):
            continue
        return m, h, w, c_prev, c_new, kh, kw, sh, sw, padding


def random_pool_config(rng):
    m = int(rng.integers(1, 4))
    h, w, c = int(rng.integers(1, 9)), int(rng.integers(1, 9)), int(rng.integers(1, 4))
    kh, kw = int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1))
    sh, sw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    return m, h, w, c, kh, kw, sh, sw


class Random(unittest.TestCase):
    def test_conv_forward_every_activation(self):
        rng = np.random.default_rng(101)
        for t in range(N_RANDOM):
            m, h, w, c_prev, c_new, kh, kw, sh, sw, padding = random_conv_config(rng)
            act = ref.ACTIVATIONS[t % len(ref.ACTIVATIONS)]
            x = f32(rng, -1, 1, (m, h, w, c_prev))
            W = f32(rng, -0.5, 0.5, (kh, kw, c_prev, c_new))
            b = f32(rng, -0.5, 0.5, (1, 1, 1, c_new))
            what = "conv_forward #%d %s x%s W%s %s stride (%d, %d)" % (t, act, x.shape, W.shape, padding, sh, sw)
            got = clcnn.conv_forward(x, W, b, act, padding=padding, stride=(sh, sw))
            assert_close(self, got, ref.conv_forward(x, W, b, act, padding, (sh, sw)), what)

    def test_conv_backward(self):
        rng = np.random.default_rng(202)
        for t in range(N_RANDOM):
            m, h, w, c_prev, c_new, kh, kw, sh, sw, padding = random_conv_config(rng)
            x = f32(rng, -1, 1, (m, h, w, c_prev))
            W = f32(rng, -0.5, 0.5, (kh, kw, c_prev, c_new))
            b = f32(rng, -0.5, 0.5, (1, 1, 1, c_new))
            oh, _ = ref.out_size_and_pad(h, kh, sh, padding)
            ow, _ = ref.out_size_and_pad(w, kw, sw, padding)
            dZ = f32(rng, -1, 1, (m, oh, ow, c_new))
            what = "conv_backward #%d x%s W%s %s stride (%d, %d)" % (t, x.shape, W.shape, padding, sh, sw)
            got = clcnn.conv_backward(dZ, x, W, b, padding=padding, stride=(sh, sw))
            want = ref.conv_backward(dZ, x, W, b, padding, (sh, sw))
            for name, g, wv in zip(("dA_prev", "dW", "db"), got, want):
                assert_close(self, g, wv, what + " " + name)

    def test_pool(self):
        rng = np.random.default_rng(303)
        for t in range(N_RANDOM):
            m, h, w, c, kh, kw, sh, sw = random_pool_config(rng)
            mode = ("max", "avg")[t % 2]
            ties = t % 4 == 0  # max with small integers: repeated maxima
            if ties:
                x = rng.integers(0, 3, (m, h, w, c)).astype(np.float32)
            else:
                x = f32(rng, -1, 1, (m, h, w, c))
            A = ref.pool_forward(x, (kh, kw), (sh, sw), mode)
            dA = f32(rng, -1, 1, A.shape)
            what = "pool #%d %s%s x%s kernel (%d, %d) stride (%d, %d)" % (
                t, mode, " ties" if ties else "", x.shape, kh, kw, sh, sw)
            assert_close(self, clcnn.pool_forward(x, (kh, kw), stride=(sh, sw), mode=mode), A, what + " forward")
            assert_close(self, clcnn.pool_backward(dA, x, (kh, kw), stride=(sh, sw), mode=mode),
                         ref.pool_backward(dA, x, (kh, kw), (sh, sw), mode), what + " backward")

    def test_golden_named_cases(self):
        """The specific shapes of make_golden.py (even kernels, gaps, overlap)."""
        rng = np.random.default_rng(404)
        for name, m, h, w, c_prev, c_new, kh, kw, padding, stride, act in ref.CONV_CASES:
            x = f32(rng, -1, 1, (m, h, w, c_prev))
            W = f32(rng, -0.5, 0.5, (kh, kw, c_prev, c_new))
            b = f32(rng, -0.5, 0.5, (1, 1, 1, c_new))
            assert_close(self, clcnn.conv_forward(x, W, b, act, padding, stride),
                         ref.conv_forward(x, W, b, act, padding, stride), name)
        for name, m, h, w, c, kh, kw, stride, mode, ties in ref.POOL_CASES:
            x = rng.integers(0, 3, (m, h, w, c)).astype(np.float32) if ties else f32(rng, -1, 1, (m, h, w, c))
            A = ref.pool_forward(x, (kh, kw), stride, mode)
            dA = f32(rng, -1, 1, A.shape)
            assert_close(self, clcnn.pool_backward(dA, x, (kh, kw), stride, mode),
                         ref.pool_backward(dA, x, (kh, kw), stride, mode), name)


class Interface(unittest.TestCase):
    def setUp(self):
        rng = np.random.default_rng(7)
        self.x = f32(rng, -1, 1, (2, 5, 6, 3))
        self.W = f32(rng, -0.5, 0.5, (3, 2, 3, 4))
        self.b = f32(rng, -0.5, 0.5, (1, 1, 1, 4))
        self.dZ = f32(rng, -1, 1, (2, 5, 6, 4))
        self.dA = f32(rng, -1, 1, (2, 2, 3, 3))

    def test_device(self):
        d = clcnn.device()
        self.assertIsInstance(d, str)
        self.assertTrue(d.strip())

    def test_callable_activation(self):
        seen = []

        def leaky(z):
            seen.append(z.dtype)
            return np.where(z > 0, z, 0.1 * z)

        got = clcnn.conv_forward(self.x, self.W, self.b, leaky, padding="valid", stride=(1, 2))
        Z = ref.conv_forward(self.x, self.W, self.b, "identity", "valid", (1, 2))
        assert_close(self, got, np.where(Z > 0, Z, 0.1 * Z), "callable activation")
        self.assertEqual(seen, [np.float32])

    def test_named_activations(self):
        Z = ref.conv_forward(self.x, self.W, self.b, "identity")
        assert_close(self, clcnn.conv_forward(self.x, self.W, self.b, None), Z, "None")
        assert_close(self, clcnn.conv_forward(self.x, self.W, self.b, "linear"), Z, "linear")
        for act in ref.ACTIVATIONS:
            assert_close(self, clcnn.conv_forward(self.x, self.W, self.b, act),
                         ref.conv_forward(self.x, self.W, self.b, act), act)

    def test_defaults(self):
        # padding "same", stride (1, 1), mode "max"
        assert_close(self, clcnn.conv_forward(self.x, self.W, self.b, "relu"),
                     ref.conv_forward(self.x, self.W, self.b, "relu", "same", (1, 1)), "conv defaults")
        assert_close(self, clcnn.pool_forward(self.x, (2, 2)),
                     ref.pool_forward(self.x, (2, 2), (1, 1), "max"), "pool defaults")
        got = clcnn.conv_backward(self.dZ, self.x, self.W, self.b)
        want = ref.conv_backward(self.dZ, self.x, self.W, self.b, "same", (1, 1))
        for g, w in zip(got, want):
            assert_close(self, g, w, "conv_backward defaults")
        self.assertEqual(got[2].shape, (1, 1, 1, 4))

    def test_input_dtypes_and_layouts(self):
        want = ref.conv_forward(self.x, self.W, self.b, "tanh")
        x64 = self.x.astype(np.float64)
        assert_close(self, clcnn.conv_forward(x64, self.W.astype(np.float64), self.b, "tanh"), want, "float64 in")
        # a non-contiguous view (every other row of a bigger array)
        big = np.zeros((2, 10, 6, 3), dtype=np.float32)
        big[:, ::2] = self.x
        assert_close(self, clcnn.conv_forward(big[:, ::2], self.W, self.b, "tanh"), want, "strided view in")
        # Fortran-ordered and float16 inputs (exactly representable values)
        xi = np.round(self.x * 8) / 8
        assert_close(self, clcnn.pool_forward(np.asfortranarray(xi.astype(np.float16)), (2, 2), (2, 2), "avg"),
                     ref.pool_forward(xi, (2, 2), (2, 2), "avg"), "float16 Fortran in")
        # lists of floats are arrays too
        assert_close(self, clcnn.pool_forward(self.x.tolist(), (2, 2), (2, 2)),
                     ref.pool_forward(self.x, (2, 2), (2, 2), "max"), "nested list in")
        # inputs are not modified
        before = self.x.copy()
        clcnn.pool_backward(self.dA, self.x, (2, 2), (2, 2), "max")
        np.testing.assert_array_equal(self.x, before)


# ------------------------------------------------ options beyond the seed
# An independent loop reference for the keywords of item 10 (issue 13):
# explicit pads, dilation and groups in conv, pads, ceil mode and
# count_include_pad in pooling, as include/clcnn.h defines them.

def same_pads(size, extent, s):
    out = -(-size // s)
    total = max((out - 1) * s + extent - size, 0)
    return total // 2, total - total // 2


def conv_reference(x, W, b, pads, stride, dilation, groups, dZ=None):
    """Z, or with dZ (dA_prev, dW, db), of the convolution with explicit
    pads ((t, bo), (l, r)); every tap a product summed in float64."""
    (t, bo), (l, r) = pads
    sh, sw = stride
    dh, dw = dilation
    m, h, w, c = x.shape
    kh, kw, cg, k = W.shape
    kg = k // groups
    xp = np.pad(x.astype(np.float64), ((0, 0), (t, bo), (l, r), (0, 0)))
    oh = (h + t + bo - dh * (kh - 1) - 1) // sh + 1
    ow = (w + l + r - dw * (kw - 1) - 1) // sw + 1
    Z = np.zeros((m, oh, ow, k)) + b.reshape(k)
    dxp, dW = np.zeros_like(xp), np.zeros(W.shape)
    for i in range(oh):
        for j in range(ow):
            for p in range(kh):
                for q in range(kw):
                    cell = xp[:, i * sh + p * dh, j * sw + q * dw, :]
                    for g in range(groups):
                        xs, fs = slice(g * cg, (g + 1) * cg), slice(g * kg, (g + 1) * kg)
                        Wg = W[p, q, :, fs].astype(np.float64)
                        Z[:, i, j, fs] += cell[:, xs] @ Wg
                        if dZ is not None:
                            dxp[:, i * sh + p * dh, j * sw + q * dw, xs] += dZ[:, i, j, fs] @ Wg.T
                            dW[p, q, :, fs] += cell[:, xs].T @ dZ[:, i, j, fs]
    if dZ is None:
        return Z
    return dxp[:, t:t + h, l:l + w, :], dW, dZ.sum(axis=(0, 1, 2)).reshape(b.shape)


def pool_out(size, k, s, before, after, ceil):
    span = size + before + after - k
    out = (-(-span // s) if ceil else span // s) + 1
    if ceil and (out - 1) * s >= size + before:
        out -= 1
    return out


def pool_reference(x, kernel, stride, mode, pads, ceil, include_pad, dA=None):
    """The pooled output, or with dA the gradient at x (ties all receive
    the full gradient of max)."""
    (t, bo), (l, r) = pads
    kh, kw = kernel
    sh, sw = stride
    m, h, w, c = x.shape
    oh, ow = pool_out(h, kh, sh, t, bo, ceil), pool_out(w, kw, sw, l, r, ceil)
    out, dx = np.zeros((m, oh, ow, c)), np.zeros(x.shape)
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * sh - t, j * sw - l
            rs, cs = slice(max(r0, 0), min(r0 + kh, h)), slice(max(c0, 0), min(c0 + kw, w))
            win = x[:, rs, cs, :].astype(np.float64)
            if mode == "max":
                best = win.max(axis=(1, 2))
                out[:, i, j] = best
                if dA is not None:
                    dx[:, rs, cs, :] += (win == best[:, None, None, :]) * dA[:, i, j, None, None, :]
            else:
                if include_pad:  # the window's cells within the padded input
                    n = ((min(r0 + kh, h + bo) - max(r0, -t)) * (min(c0 + kw, w + r) - max(c0, -l)))
                else:
                    n = win.shape[1] * win.shape[2]
                out[:, i, j] = win.sum(axis=(1, 2)) / n
                if dA is not None:
                    dx[:, rs, cs, :] += dA[:, i, j, None, None, :] / n
    return out if dA is None else dx


class Options(unittest.TestCase):
    """conv_*, pool_* keywords and lrn_* against the references above and
    the committed LRN goldens (tests/golden/make_lrn_golden.py)."""

    def test_conv_options(self):
        rng = np.random.default_rng(13)
        cases = [  # h, w, c, k, kh, kw, padding, stride, dilation, groups
            (7, 6, 4, 6, 3, 2, ((1, 2), (0, 1)), (2, 1), (2, 1), 2),
            (5, 5, 3, 3, 3, 3, ((0, 0), (2, 2)), (1, 1), (1, 2), 3),  # depthwise
            (6, 7, 4, 8, 2, 3, "same", (1, 2), (2, 2), 1),
            (8, 5, 6, 4, 3, 1, "valid", (3, 1), (1, 1), 2),
            (4, 4, 2, 2, 1, 1, ((3, 0), (0, 3)), (1, 1), (1, 1), 1),  # pads only
        ]
        for h, w, c, k, kh, kw, padding, stride, dilation, groups in cases:
            name = "conv %r" % ((h, w, c, k, kh, kw, padding, stride, dilation, groups),)
            x = f32(rng, -1, 1, (2, h, w, c))
            W = f32(rng, -0.5, 0.5, (kh, kw, c // groups, k))
            b = f32(rng, -0.5, 0.5, (1, 1, 1, k))
            if padding == "same":
                pads = (same_pads(h, dilation[0] * (kh - 1) + 1, stride[0]),
                        same_pads(w, dilation[1] * (kw - 1) + 1, stride[1]))
            elif padding == "valid":
                pads = ((0, 0), (0, 0))
            else:
                pads = padding
            Z = conv_reference(x, W, b, pads, stride, dilation, groups)
            got = clcnn.conv_forward(x, W, b, "relu", padding=padding, stride=stride, dilation=dilation,
                                     groups=groups)
            assert_close(self, got, np.maximum(Z, 0), name)
            dZ = f32(rng, -1, 1, Z.shape)
            got = clcnn.conv_backward(dZ, x, W, b, padding=padding, stride=stride, dilation=dilation, groups=groups)
            want = conv_reference(x, W, b, pads, stride, dilation, groups, dZ.astype(np.float64))
            for g, wnt, what in zip(got, want, ("dA_prev", "dW", "db")):
                assert_close(self, g, wnt, name + " " + what)

    def test_pool_options(self):
        rng = np.random.default_rng(17)
        cases = [  # h, w, kernel, stride, pads, ceil_mode
            (7, 6, (3, 3), (2, 2), ((1, 1), (1, 1)), False),
            (7, 6, (3, 3), (2, 2), ((0, 0), (0, 0)), True),
            (6, 5, (2, 3), (2, 2), ((1, 0), (0, 2)), True),
            (5, 5, (3, 2), (1, 3), ((2, 1), (1, 0)), False),
        ]
        for h, w, kernel, stride, pads, ceil in cases:
            x = f32(rng, -1, 1, (2, h, w, 3))
            x[0, 0, :, 0] = x[0, 1, :, 0]  # ties between rows
            for mode in ("max", "avg"):
                for include in (False, True) if mode == "avg" else (False,):
                    name = "pool %s %r" % (mode, (h, w, kernel, stride, pads, ceil, include))
                    want = pool_reference(x, kernel, stride, mode, pads, ceil, include)
                    got = clcnn.pool_forward(x, kernel, stride, mode, padding=pads, ceil_mode=ceil,
                                             count_include_pad=include)
                    assert_close(self, got, want, name)
                    dA = f32(rng, -1, 1, want.shape)
                    got = clcnn.pool_backward(dA, x, kernel, stride, mode, padding=pads, ceil_mode=ceil,
                                              count_include_pad=include)
                    assert_close(self, got, pool_reference(x, kernel, stride, mode, pads, ceil, include, dA), name)

    def test_defaults_are_the_seed_calls(self):
        rng = np.random.default_rng(19)
        x, W, b = f32(rng, -1, 1, (2, 6, 5, 4)), f32(rng, -1, 1, (3, 3, 4, 2)), f32(rng, -1, 1, (1, 1, 1, 2))
        for padding in ("same", "valid"):
            seed = clcnn.conv_forward(x, W, b, "tanh", padding, (2, 1))
            np.testing.assert_array_equal(seed, clcnn.conv_forward(x, W, b, "tanh", padding=padding, stride=(2, 1),
                                                                   dilation=(1, 1), groups=1))
        # explicit pads equal to same's give same's result
        np.testing.assert_allclose(clcnn.conv_forward(x, W, b, None, padding=((1, 1), (1, 1))),
                                   clcnn.conv_forward(x, W, b, None, "same"), rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(clcnn.pool_forward(x, (2, 2), (2, 2), "avg"),
                                      clcnn.pool_forward(x, (2, 2), (2, 2), "avg", padding=((0, 0), (0, 0)),
                                                         ceil_mode=False, count_include_pad=False))

    def test_lrn_goldens(self):
        golden = os.path.join(os.path.dirname(HERE), "tests", "golden")
        with open(os.path.join(golden, "lrn_cases.txt")) as f:
            cases = [line.split() for line in f if line.strip()]
        self.assertGreater(len(cases), 0)
        for name, size, alpha, beta, k in cases:
            load = lambda part: np.load(os.path.join(golden, "lrn_%s_%s.npy" % (name, part)))  # noqa: E731
            x, A, dA, dA_prev = load("x"), load("A"), load("dA"), load("dA_prev")
            got = clcnn.lrn_forward(x, size=int(size), alpha=float(alpha), beta=float(beta), k=float(k))
            assert_close(self, got, A.astype(np.float64), "lrn_forward " + name)
            got = clcnn.lrn_backward(dA, x, int(size), float(alpha), float(beta), float(k))
            assert_close(self, got, dA_prev.astype(np.float64), "lrn_backward " + name)
        # the defaults are the paper's (size 5, alpha 1e-4, beta 0.75, k 2)
        x = load("x") if cases[0][0] == "torch_paper" else None
        if x is not None:
            np.testing.assert_array_equal(clcnn.lrn_forward(x), clcnn.lrn_forward(x, 5, 1e-4, 0.75, 2.0))

    def test_option_errors(self):
        rng = np.random.default_rng(23)
        x, W, b = f32(rng, -1, 1, (1, 5, 5, 4)), f32(rng, -1, 1, (3, 3, 2, 4)), f32(rng, -1, 1, (1, 1, 1, 4))
        bad_conv = [
            dict(padding=((1, 1),)), dict(padding=((1, 1), (1,))), dict(padding=((-1, 0), (0, 0)), groups=2),
            dict(padding=5), dict(groups=0), dict(groups=3), dict(groups=1.5), dict(groups=True),
            dict(dilation=(0, 1), groups=2), dict(dilation=(3, 3), padding="valid", groups=2), dict(dilation=2),
        ]
        for kw in bad_conv:
            with self.assertRaises(ValueError, msg=repr(kw)):
                clcnn.conv_forward(x, W, b, None, **kw)
        self.assertEqual(clcnn.conv_forward(x, W, b, None, groups=2).shape, (1, 5, 5, 4))
        bad_pool = [dict(padding=((3, 0), (0, 0))), dict(padding=((-1, 0), (0, 0))), dict(padding=(1, 1)),
                    dict(ceil_mode=2), dict(ceil_mode="yes"), dict(count_include_pad=None)]
        for kw in bad_pool:
            with self.assertRaises(ValueError, msg=repr(kw)):
                clcnn.pool_forward(x, (3, 3), (2, 2), "avg", **kw)
        for args in [dict(size=0), dict(size=2.5), dict(alpha="x"), dict(beta=-1.0), dict(k=0.0)]:
            with self.assertRaises(ValueError, msg=repr(args)):
                clcnn.lrn_forward(x, **args)


class NpyInterop(unittest.TestCase):
    """clcnn_npy_write output is what numpy reads, and numpy's files are
    what clcnn_npy_read reads (through the raw library, not the binding)."""

    def test_round_trips_with_numpy(self):
        import ctypes
        import tempfile
        lib = clcnn._lib
        lib.clcnn_npy_write.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_float),
                                        ctypes.c_int, ctypes.POINTER(ctypes.c_size_t)]
        lib.clcnn_npy_read.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                       ctypes.POINTER(ctypes.POINTER(ctypes.c_float)),
                                       ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_size_t)]
        lib.clcnn_free.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        lib.clcnn_free.restype = None
        rng = np.random.default_rng(9)
        with tempfile.TemporaryDirectory() as d:
            for shape in [(5,), (3, 4), (2, 3, 4), (2, 1, 3, 2)]:
                a = f32(rng, -10, 10, shape)
                path = os.path.join(d, "w.npy").encode()
                dims = (ctypes.c_size_t * 4)(*shape)
                self.assertEqual(lib.clcnn_npy_write(None, path, a.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                                                     len(shape), dims), 0)
                back = np.load(path.decode())
                self.assertEqual(back.dtype, np.float32)
                np.testing.assert_array_equal(back, a)
                for dtype in ("<f4", "<f8", "|u1", "<i4", "<i8"):
                    if dtype == "|u1":
                        src = np.abs(a * 10).astype(dtype)
                    elif dtype[1] == "i":
                        src = (a * 10).astype(dtype)
                    else:
                        src = a.astype(dtype)
                    np.save(os.path.join(d, "r.npy"), src)
                    data = ctypes.POINTER(ctypes.c_float)()
                    rank = ctypes.c_int()
                    out = (ctypes.c_size_t * 4)()
                    st = lib.clcnn_npy_read(None, os.path.join(d, "r.npy").encode(), ctypes.byref(data),
                                            ctypes.byref(rank), out)
                    self.assertEqual(st, 0, dtype)
                    self.assertEqual(tuple(out[:rank.value]), shape, dtype)
                    got = np.ctypeslib.as_array(data, shape=(src.size,)).copy().reshape(shape)
                    lib.clcnn_free(None, ctypes.cast(data, ctypes.c_void_p))
                    np.testing.assert_array_equal(got, src.astype(np.float32), dtype)


class Errors(unittest.TestCase):
    """Every bad-argument kind raises ValueError (with a message), never crashes."""

    def setUp(self):
        Interface.setUp(self)

    def raises(self, fn, *args, **kwargs):
        with self.assertRaises(ValueError) as cm:
            fn(*args, **kwargs)
        self.assertTrue(str(cm.exception).strip(), "empty message")
        return str(cm.exception)

    def test_conv_forward(self):
        x, W, b = self.x, self.W, self.b
        self.raises(clcnn.conv_forward, x[0], W, b, "relu")                        # rank 3
        self.raises(clcnn.conv_forward, x[..., None], W, b, "relu")                # rank 5
        self.raises(clcnn.conv_forward, x, W[0], b, "relu")                        # W rank 3
        self.raises(clcnn.conv_forward, x[..., :2], W, b, "relu")                  # channels
        self.raises(clcnn.conv_forward, x, W, b[..., :3], "relu")                  # bias size
        self.raises(clcnn.conv_forward, x, W, b, "relu", stride=(0, 1))
        self.raises(clcnn.conv_forward, x, W, b, "relu", stride=(1, -1))
        self.raises(clcnn.conv_forward, x, W, b, "relu", stride=(1,))
        self.raises(clcnn.conv_forward, x, W, b, "relu", stride=(1.5, 1))
        self.raises(clcnn.conv_forward, x, W, b, "relu", stride=None)
        self.raises(clcnn.conv_forward, x, W, b, "relu", stride=(2 ** 40, 1))
        big = np.zeros((6, 7, 3, 4), np.float32)
        msg = self.raises(clcnn.conv_forward, x, big, b, "relu", padding="valid")  # kernel > input
        self.assertIn("larger", msg)
        self.raises(clcnn.conv_forward, x, W, b, "gelu")
        self.raises(clcnn.conv_forward, x, W, b, 3)
        self.raises(clcnn.conv_forward, x, W, b, "relu", padding="full")
        self.raises(clcnn.conv_forward, x, W, b, "relu", padding=None)
        self.raises(clcnn.conv_forward, x.astype(np.int32), W, b, "relu")          # not floats
        self.raises(clcnn.conv_forward, x > 0, W, b, "relu")
        self.raises(clcnn.conv_forward, x.astype(np.complex64), W, b, "relu")
        self.raises(clcnn.conv_forward, "abc", W, b, "relu")
        self.raises(clcnn.conv_forward, np.zeros((2, 0, 6, 3), np.float32), W, b, "relu")  # zero size
        self.raises(clcnn.conv_forward, np.float32(1.0), W, b, "relu")             # rank 0

    def test_conv_backward(self):
        x, W, b, dZ = self.x, self.W, self.b, self.dZ
        self.raises(clcnn.conv_backward, dZ[..., :3], x, W, b)                     # dZ channels
        self.raises(clcnn.conv_backward, dZ[:1], x, W, b)                          # dZ batch
        self.raises(clcnn.conv_backward, dZ, x, W, b, padding="valid")             # dZ spatial
        self.raises(clcnn.conv_backward, dZ, x, W, b, stride=(2, 2))
        self.raises(clcnn.conv_backward, dZ[0], x, W, b)                           # dZ rank
        self.raises(clcnn.conv_backward, dZ, x[..., :2], W, b)
        self.raises(clcnn.conv_backward, dZ, x, W, b[..., :2])
        self.raises(clcnn.conv_backward, dZ, x, W, b, stride=(0, 0))
        self.raises(clcnn.conv_backward, dZ, x, W, b, padding="SAME ")
        self.raises(clcnn.conv_backward, dZ.astype(np.int64), x, W, b)

    def test_pool(self):
        x, dA = self.x, self.dA
        self.raises(clcnn.pool_forward, x[0], (2, 2))
        self.raises(clcnn.pool_forward, x, (0, 2))
        self.raises(clcnn.pool_forward, x, (2, -1))
        self.raises(clcnn.pool_forward, x, (2,))
        self.raises(clcnn.pool_forward, x, 2)
        self.raises(clcnn.pool_forward, x, (6, 2))                                 # > h = 5
        self.raises(clcnn.pool_forward, x, (2, 7))                                 # > w = 6
        self.raises(clcnn.pool_forward, x, (2, 2), stride=(0, 1))
        self.raises(clcnn.pool_forward, x, (2, 2), mode="min")
        self.raises(clcnn.pool_forward, x, (2, 2), mode=0)
        self.raises(clcnn.pool_forward, x.astype(np.uint8), (2, 2))
        self.raises(clcnn.pool_backward, dA, x, (2, 2), (1, 1))                    # dA shape
        self.raises(clcnn.pool_backward, dA[..., :2], x, (2, 2), (2, 2))
        self.raises(clcnn.pool_backward, dA[0], x, (2, 2), (2, 2))
        self.raises(clcnn.pool_backward, dA, x[0], (2, 2), (2, 2))
        self.raises(clcnn.pool_backward, dA, x, (2, 2), (2, 2), mode="mean")
        self.raises(clcnn.pool_backward, dA, x, (0, 0), (2, 2))

    def test_still_works_after_errors(self):
        for _ in range(50):
            with self.assertRaises(ValueError):
                clcnn.conv_forward(self.x[..., :2], self.W, self.b, "relu")
        assert_close(self, clcnn.conv_forward(self.x, self.W, self.b, "relu"),
                     ref.conv_forward(self.x, self.W, self.b, "relu"), "after errors")


class Dropout(unittest.TestCase):
    """dropout_forward: the mask docs/api.md defines, redrawn here in numpy."""

    @staticmethod
    def numpy_mask(shape, rate, seed):
        M64, M32 = (1 << 64) - 1, 0xFFFFFFFF
        z = (seed + 0x9E3779B97F4A7C15) & M64                      # splitmix64(seed): the key
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        key = z ^ (z >> 31)

        def mix(x):  # lowbias32
            x = x ^ (x >> 16)
            x = (x * 0x7feb352d) & M32
            x = x ^ (x >> 15)
            x = (x * 0x846ca68b) & M32
            return x ^ (x >> 16)

        i = np.arange(int(np.prod(shape)), dtype=np.uint64)
        h = mix(mix(i ^ (key & M32)) ^ (key >> 32))
        dropped = (h >> 8) < int(np.floor(rate * 2 ** 24 + 0.5))
        return np.where(dropped, 0, np.float32(1 / (1 - rate))).astype(np.float32).reshape(shape)

    def test_mask_output_and_errors(self):
        x = f32(np.random.default_rng(4), -1, 1, (3, 5, 4, 6))
        for rate, seed in ((0.5, 1), (0.2, 2 ** 64 - 1), (0.0, 7)):
            A, mask = clcnn.dropout_forward(x, rate, seed)
            np.testing.assert_array_equal(mask, self.numpy_mask(x.shape, rate, seed))
            np.testing.assert_array_equal(A, x * mask)
        A2, mask2 = clcnn.dropout_forward(x, 0.5, 2)
        self.assertFalse(np.array_equal(mask2, self.numpy_mask(x.shape, 0.5, 1)), "seeds 1 and 2 drew one mask")
        self.assertLess(abs(np.mean(mask2 == 0) - 0.5), 0.1)
        for rate, seed in ((1.0, 1), (-0.1, 1), ("half", 1), (0.5, -1), (0.5, 2 ** 64), (0.5, 1.5)):
            with self.assertRaises(ValueError):
                clcnn.dropout_forward(x, rate, seed)


def main():
    try:
        clcnn.device()
    except clcnn.DeviceError as e:
        if e.status == -6:  # CLCNN_ERR_NO_DEVICE
            print("skipping: %s" % e)
            return 77
        raise
    print("clcnn device: %s" % clcnn.device())
    prog = unittest.main(exit=False, verbosity=1)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
