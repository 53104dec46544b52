"""numpy binding of clcnn's four seed operations, through ctypes.

    import numpy as np, clcnn
    A = clcnn.conv_forward(A_prev, W, b, "relu", padding="same", stride=(1, 1))
    P = clcnn.pool_forward(A, (2, 2), stride=(2, 2), mode="max")
    dA_prev, dW, db = clcnn.conv_backward(dZ, A_prev, W, b, padding="same")
    dA_prev = clcnn.pool_backward(dP, A, (2, 2), stride=(2, 2), mode="max")

Semantics: DESIGN.md section 1 (NHWC tensors, W (kh, kw, c_prev, c_new),
b (1, 1, 1, c_new), TensorFlow "same" padding).  Arrays of any float dtype
are accepted (converted to contiguous float32); results are float32.
Argument errors raise ValueError with the library's message.

One context per process is created on first use for the device in
CLCNN_DEVICE (default "auto") and freed at exit (clcnn.Model objects have
contexts of their own).
"""

import atexit
import ctypes
import operator

import numpy as np

from . import _native as N
from ._native import DeviceError

__all__ = ["conv_forward", "pool_forward", "conv_backward", "pool_backward", "device", "DeviceError"]
__all__ += ["dropout_forward"]

_MAX_RANK = 4

_fn, _int, _vp, _pvp, _size_arr, _fp = N.fn, N.c_int, N.vp, N.pvp, N.size_arr, N.fp
_status_str, _errmsg = N.status_str, N.errmsg
_ctx_free, _ctx_backend, _ctx_device_name = N.ctx_free, N.ctx_backend, N.ctx_device_name
_activation_from_name, _padding_from_name = N.activation_from_name, N.padding_from_name
_pool_mode_from_name = N.pool_mode_from_name
_tensor_create = _fn("clcnn_tensor_create", _int, _vp, _pvp, _int, _size_arr)
_tensor_free = _fn("clcnn_tensor_free", None, _vp)
_tensor_write = _fn("clcnn_tensor_write", _int, _vp, _fp, ctypes.c_size_t)
_tensor_read = _fn("clcnn_tensor_read", _int, _vp, _fp, ctypes.c_size_t)
_tensor_rank = _fn("clcnn_tensor_rank", _int, _vp)
_tensor_shape = _fn("clcnn_tensor_shape", None, _vp, _size_arr)
_conv_forward = _fn("clcnn_conv_forward", _int, _vp, _vp, _vp, _vp, _int, _int, _int, _int, _pvp)
_conv_backward = _fn("clcnn_conv_backward", _int, _vp, _vp, _vp, _vp, _vp, _int, _int, _int, _pvp, _pvp, _pvp)
_pool_forward = _fn("clcnn_pool_forward", _int, _vp, _vp, _int, _int, _int, _int, _int, _pvp)
_pool_backward = _fn("clcnn_pool_backward", _int, _vp, _vp, _vp, _int, _int, _int, _int, _int, _pvp)


# ------------------------------------------------------------------ context

_ctx = None


def _free_context():
    global _ctx
    if _ctx is not None:
        _ctx_free(_ctx)
        _ctx = None


def _context():
    """The process's context, created on first use (device from CLCNN_DEVICE)."""
    global _ctx
    if _ctx is None:
        _ctx = N.create_context(None)
        atexit.register(_free_context)
    return _ctx


def device():
    """The backend and device in use, e.g. "cpu: CPU backend (C)"."""
    ctx = _context()
    return "%s: %s" % (_ctx_backend(ctx).decode("utf-8", "replace"),
                       _ctx_device_name(ctx).decode("utf-8", "replace"))


def _fail(st):
    msg = _errmsg(_context()).decode("utf-8", "replace")
    return ValueError(msg or _status_str(st).decode())


# ------------------------------------------------------------------ tensors

class _Tensors:
    """Owns the tensors made during one call and frees them all on exit."""

    def __init__(self):
        self.ptrs = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for p in self.ptrs:
            _tensor_free(p)
        self.ptrs = []
        return False

    def slot(self):
        """An output pointer (NULL: the op creates the tensor)."""
        p = ctypes.c_void_p()
        self.ptrs.append(p)
        return p

    def upload(self, name, array):
        a = _as_float32(name, array)
        if a.ndim < 1 or a.ndim > _MAX_RANK:
            raise ValueError("%s must have rank 1..%d (4 for NHWC tensors), not %d" % (name, _MAX_RANK, a.ndim))
        ctx = _context()
        shape = (ctypes.c_size_t * _MAX_RANK)(*(list(a.shape) + [0] * (_MAX_RANK - a.ndim)))
        t = ctypes.c_void_p()
        st = _tensor_create(ctx, ctypes.byref(t), a.ndim, shape)
        if st != 0:
            raise ValueError("%s: %s" % (name, _errmsg(ctx).decode("utf-8", "replace")))
        self.ptrs.append(t)
        st = _tensor_write(t, a.ctypes.data_as(_fp), a.size)
        if st != 0:
            raise _fail(st)
        return t


def _as_float32(name, array):
    a = np.asarray(array)
    if a.dtype.kind != "f":
        raise ValueError("%s must be an array of floats, not %s" % (name, a.dtype))
    return np.ascontiguousarray(a, dtype=np.float32)


def _download(t):
    rank = _tensor_rank(t)
    shape = (ctypes.c_size_t * _MAX_RANK)()
    _tensor_shape(t, shape)
    out = np.empty(tuple(shape[:rank]), dtype=np.float32)
    st = _tensor_read(t, out.ctypes.data_as(_fp), out.size)
    if st != 0:
        raise _fail(st)
    return out


# ---------------------------------------------------------------- arguments

_C_INT_MAX = 2 ** 31 - 1


def _pair(name, value):
    try:
        pair = tuple(value)
    except TypeError:
        raise ValueError("%s must be a pair of integers, not %r" % (name, value)) from None
    if len(pair) != 2:
        raise ValueError("%s must be a pair of integers, not %r" % (name, value))
    out = []
    for v in pair:
        if isinstance(v, (bool, np.bool_)):
            raise ValueError("%s must be a pair of integers, not %r" % (name, value))
        try:
            i = operator.index(v)
        except TypeError:
            raise ValueError("%s must be a pair of integers, not %r" % (name, value)) from None
        if not -_C_INT_MAX <= i <= _C_INT_MAX:
            raise ValueError("%s %r is out of range" % (name, value))
        out.append(i)
    return out


def _enum(kind, parse, value, names):
    if not isinstance(value, str):
        raise ValueError("%s must be one of %s, not %r" % (kind, ", ".join(names), value))
    code = parse(value.encode("utf-8"))
    if code < 0:
        raise ValueError("unknown %s %r (expected %s)" % (kind, value, ", ".join(names)))
    return code


_ACT_NAMES = ("identity", "linear", "relu", "sigmoid", "tanh", "softmax")


def _activation(activation):
    """(C activation code, Python callable or None)."""
    if activation is None:
        return 0, None
    if isinstance(activation, str):
        return _enum("activation", _activation_from_name, activation, _ACT_NAMES), None
    if callable(activation):
        return 0, activation
    raise ValueError("activation must be a name (%s), None or a callable, not %r" % (", ".join(_ACT_NAMES), activation))


def _padding(padding):
    return _enum("padding", _padding_from_name, padding, ("same", "valid"))


def _mode(mode):
    return _enum("mode", _pool_mode_from_name, mode, ("max", "avg"))


# --------------------------------------------------------------- operations

def conv_forward(A_prev, W, b, activation, padding="same", stride=(1, 1)):
    """activation(b + conv(A_prev, W)); A_prev (m, h, w, c_prev), W (kh, kw,
    c_prev, c_new), b (1, 1, 1, c_new).  activation: a name, None, or a
    callable applied in Python to Z (float32) computed with no activation."""
    act, fn = _activation(activation)
    pad = _padding(padding)
    sh, sw = _pair("stride", stride)
    ctx = _context()
    with _Tensors() as ts:
        x, w, bb = ts.upload("A_prev", A_prev), ts.upload("W", W), ts.upload("b", b)
        out = ts.slot()
        st = _conv_forward(ctx, x, w, bb, act, pad, sh, sw, ctypes.byref(out))
        if st != 0:
            raise _fail(st)
        A = _download(out)
    if fn is not None:
        A = np.asarray(fn(A), dtype=np.float32)
    return A


def conv_backward(dZ, A_prev, W, b, padding="same", stride=(1, 1)):
    """(dA_prev, dW, db) from dZ, the gradient at the un-activated output."""
    pad = _padding(padding)
    sh, sw = _pair("stride", stride)
    ctx = _context()
    with _Tensors() as ts:
        dz, x = ts.upload("dZ", dZ), ts.upload("A_prev", A_prev)
        w, bb = ts.upload("W", W), ts.upload("b", b)
        dx, dw, db = ts.slot(), ts.slot(), ts.slot()
        st = _conv_backward(ctx, dz, x, w, bb, pad, sh, sw, ctypes.byref(dx), ctypes.byref(dw), ctypes.byref(db))
        if st != 0:
            raise _fail(st)
        return _download(dx), _download(dw), _download(db)


def pool_forward(A_prev, kernel_shape, stride=(1, 1), mode="max"):
    """Max or mean of each (kh, kw) window, no padding."""
    kh, kw = _pair("kernel_shape", kernel_shape)
    sh, sw = _pair("stride", stride)
    md = _mode(mode)
    ctx = _context()
    with _Tensors() as ts:
        x = ts.upload("A_prev", A_prev)
        out = ts.slot()
        st = _pool_forward(ctx, x, kh, kw, sh, sw, md, ctypes.byref(out))
        if st != 0:
            raise _fail(st)
        return _download(out)


def pool_backward(dA, A_prev, kernel_shape, stride=(1, 1), mode="max"):
    """dA_prev; max gives dA to every cell equal to its window's maximum,
    avg spreads dA / (kh * kw); overlapping windows add up."""
    kh, kw = _pair("kernel_shape", kernel_shape)
    sh, sw = _pair("stride", stride)
    md = _mode(mode)
    ctx = _context()
    with _Tensors() as ts:
        da, x = ts.upload("dA", dA), ts.upload("A_prev", A_prev)
        out = ts.slot()
        st = _pool_backward(ctx, da, x, kh, kw, sh, sw, md, ctypes.byref(out))
        if st != 0:
            raise _fail(st)
        return _download(out)


# ------------------------------------------------------------------ dropout

_dropout_forward = _fn("clcnn_dropout_forward", _int, _vp, _vp, ctypes.c_float, ctypes.c_uint64, _pvp, _pvp)


def dropout_forward(A_prev, rate, seed):
    """(A, mask): inverted dropout of A_prev (any shape of rank 1..4), each
    element kept with probability 1 - rate and scaled by 1 / (1 - rate), or
    zeroed; mask holds each element's multiplier (0 or 1 / (1 - rate)), so
    A == A_prev * mask.  The mask is a function of seed (an integer in
    [0, 2**64)) and the element's index alone: the same on every backend
    (docs/api.md, "Dropout").  rate lies in [0, 0.999]."""
    if isinstance(seed, (bool, np.bool_)):
        raise ValueError("seed must be an integer in [0, 2**64), not %r" % (seed,))
    try:
        s = operator.index(seed)
    except TypeError:
        raise ValueError("seed must be an integer in [0, 2**64), not %r" % (seed,)) from None
    if not 0 <= s < 2 ** 64:
        raise ValueError("seed %r is out of range [0, 2**64)" % (seed,))
    try:
        r = float(rate)
    except (TypeError, ValueError):
        raise ValueError("rate must be a number in [0, 0.999], not %r" % (rate,)) from None
    ctx = _context()
    with _Tensors() as ts:
        x = ts.upload("A_prev", A_prev)
        out, mask = ts.slot(), ts.slot()
        st = _dropout_forward(ctx, x, r, s, ctypes.byref(out), ctypes.byref(mask))
        if st != 0:
            raise _fail(st)
        return _download(out), _download(mask)
