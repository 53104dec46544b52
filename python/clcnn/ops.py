"""numpy binding of clcnn's operations, through ctypes.

    import numpy as np, clcnn
    A = clcnn.conv_forward(A_prev, W, b, "relu", padding="same", stride=(1, 1))
    P = clcnn.pool_forward(A, (2, 2), stride=(2, 2), mode="max")
    dA_prev, dW, db = clcnn.conv_backward(dZ, A_prev, W, b, padding="same")
    dA_prev = clcnn.pool_backward(dP, A, (2, 2), stride=(2, 2), mode="max")

and beyond the seed (issue 13): conv_* take padding=((top, bottom), (left,
right)), dilation=(dh, dw) and groups=g (clcnn_conv2d_*); pool_* take
padding=((top, bottom), (left, right)), ceil_mode and count_include_pad
(clcnn_pool2d_*); lrn_forward/lrn_backward (size, alpha, beta, k in the
paper's form, docs/alexnet.md).  Their defaults are the seed's calls.

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

__all__ = ["conv_forward", "pool_forward", "conv_backward", "pool_backward", "lrn_forward", "lrn_backward", "device",
           "DeviceError"]
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


class _ConvParams(ctypes.Structure):  # clcnn_conv_params
    _fields_ = [(n, ctypes.c_int) for n in ("padding", "pad_top", "pad_bottom", "pad_left", "pad_right", "stride_h",
                                             "stride_w", "dilation_h", "dilation_w", "groups")]


class _PoolParams(ctypes.Structure):  # clcnn_pool_params
    _fields_ = [(n, ctypes.c_int) for n in ("pad_top", "pad_bottom", "pad_left", "pad_right", "ceil_mode",
                                             "count_include_pad")]


_conv2d_forward = _fn("clcnn_conv2d_forward", _int, _vp, _vp, _vp, _vp, _int, ctypes.POINTER(_ConvParams), _pvp)
_conv2d_backward = _fn("clcnn_conv2d_backward", _int, _vp, _vp, _vp, _vp, _vp, ctypes.POINTER(_ConvParams), _pvp,
                       _pvp, _pvp)
_pool2d_forward = _fn("clcnn_pool2d_forward", _int, _vp, _vp, _int, _int, _int, _int, _int,
                      ctypes.POINTER(_PoolParams), _pvp)
_pool2d_backward = _fn("clcnn_pool2d_backward", _int, _vp, _vp, _vp, _int, _int, _int, _int, _int,
                       ctypes.POINTER(_PoolParams), _pvp)
_lrn_forward = _fn("clcnn_lrn_forward", _int, _vp, _vp, _int, ctypes.c_float, ctypes.c_float, ctypes.c_float, _pvp)
_lrn_backward = _fn("clcnn_lrn_backward", _int, _vp, _vp, _vp, _int, ctypes.c_float, ctypes.c_float,
                    ctypes.c_float, _pvp)


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


_PAD_EXPLICIT = 2  # CLCNN_PAD_EXPLICIT


def _pads(name, padding):
    """((top, bottom), (left, right)) as [top, bottom, left, right]."""
    try:
        rows, cols = padding
    except (TypeError, ValueError):
        raise ValueError("%s must be ((top, bottom), (left, right)), not %r" % (name, padding)) from None
    return _pair(name + " rows", rows) + _pair(name + " columns", cols)


def _conv_params(padding, stride, dilation, groups):
    """The clcnn_conv_params of the keywords, or None where the seed call
    (clcnn_conv_forward/backward) does the same."""
    sh, sw = _pair("stride", stride)
    dh, dw = _pair("dilation", dilation)
    if isinstance(groups, (bool, np.bool_)):
        raise ValueError("groups must be an integer, not %r" % (groups,))
    try:
        g = operator.index(groups)
    except TypeError:
        raise ValueError("groups must be an integer, not %r" % (groups,)) from None
    if not -_C_INT_MAX <= g <= _C_INT_MAX:
        raise ValueError("groups %r is out of range" % (groups,))
    if isinstance(padding, str):
        pad, pads = _padding(padding), [0, 0, 0, 0]
    else:
        pad, pads = _PAD_EXPLICIT, _pads("padding", padding)
    if pad != _PAD_EXPLICIT and (dh, dw, g) == (1, 1, 1):
        return None, pad, sh, sw
    # A 0 in the struct means 1 to the library: pass 0 on as an error.
    for what, v in (("dilation", dh), ("dilation", dw), ("groups", g)):
        if v == 0:
            raise ValueError("%s must be at least 1, not 0" % what)
    if sh == 0 or sw == 0:
        raise ValueError("stride must be at least 1, not 0")
    return _ConvParams(pad, *pads, sh, sw, dh, dw, g), pad, sh, sw


def _pool_params(padding, ceil_mode, count_include_pad):
    """The clcnn_pool_params of the keywords, or None for the seed's pooling."""
    pads = _pads("padding", padding)
    flags = []
    for name, v in (("ceil_mode", ceil_mode), ("count_include_pad", count_include_pad)):
        if not isinstance(v, (bool, np.bool_, int, np.integer)) or v not in (0, 1):
            raise ValueError("%s must be True or False, not %r" % (name, v))
        flags.append(int(v))
    if pads == [0, 0, 0, 0] and flags == [0, 0]:
        return None
    return _PoolParams(*pads, *flags)


def _mode(mode):
    return _enum("mode", _pool_mode_from_name, mode, ("max", "avg"))


# --------------------------------------------------------------- operations

def conv_forward(A_prev, W, b, activation, padding="same", stride=(1, 1), dilation=(1, 1), groups=1):
    """activation(b + conv(A_prev, W)); A_prev (m, h, w, c_prev), W (kh, kw,
    c_prev / groups, c_new), b (1, 1, 1, c_new).  activation: a name, None,
    or a callable applied in Python to Z (float32) computed with no
    activation.  padding: "same", "valid" or ((top, bottom), (left, right))
    zero rows and columns; dilation (dh, dw); groups splitting the channels
    (include/clcnn.h, clcnn_conv_params)."""
    act, fn = _activation(activation)
    params, pad, sh, sw = _conv_params(padding, stride, dilation, groups)
    ctx = _context()
    with _Tensors() as ts:
        x, w, bb = ts.upload("A_prev", A_prev), ts.upload("W", W), ts.upload("b", b)
        out = ts.slot()
        if params is None:
            st = _conv_forward(ctx, x, w, bb, act, pad, sh, sw, ctypes.byref(out))
        else:
            st = _conv2d_forward(ctx, x, w, bb, act, ctypes.byref(params), ctypes.byref(out))
        if st != 0:
            raise _fail(st)
        A = _download(out)
    if fn is not None:
        A = np.asarray(fn(A), dtype=np.float32)
    return A


def conv_backward(dZ, A_prev, W, b, padding="same", stride=(1, 1), dilation=(1, 1), groups=1):
    """(dA_prev, dW, db) from dZ, the gradient at the un-activated output;
    the keywords as conv_forward's."""
    params, pad, sh, sw = _conv_params(padding, stride, dilation, groups)
    ctx = _context()
    with _Tensors() as ts:
        dz, x = ts.upload("dZ", dZ), ts.upload("A_prev", A_prev)
        w, bb = ts.upload("W", W), ts.upload("b", b)
        dx, dw, db = ts.slot(), ts.slot(), ts.slot()
        if params is None:
            st = _conv_backward(ctx, dz, x, w, bb, pad, sh, sw, ctypes.byref(dx), ctypes.byref(dw),
                                ctypes.byref(db))
        else:
            st = _conv2d_backward(ctx, dz, x, w, bb, ctypes.byref(params), ctypes.byref(dx), ctypes.byref(dw),
                                  ctypes.byref(db))
        if st != 0:
            raise _fail(st)
        return _download(dx), _download(dw), _download(db)


def pool_forward(A_prev, kernel_shape, stride=(1, 1), mode="max", padding=((0, 0), (0, 0)), ceil_mode=False,
                 count_include_pad=False):
    """Max or mean of each (kh, kw) window; padding ((top, bottom), (left,
    right)) cells that never win a max, ceil_mode counting the partial last
    window, count_include_pad dividing an avg by the padded window's cells
    (include/clcnn.h, clcnn_pool_params).  The defaults: no padding."""
    kh, kw = _pair("kernel_shape", kernel_shape)
    sh, sw = _pair("stride", stride)
    md = _mode(mode)
    params = _pool_params(padding, ceil_mode, count_include_pad)
    ctx = _context()
    with _Tensors() as ts:
        x = ts.upload("A_prev", A_prev)
        out = ts.slot()
        if params is None:
            st = _pool_forward(ctx, x, kh, kw, sh, sw, md, ctypes.byref(out))
        else:
            st = _pool2d_forward(ctx, x, kh, kw, sh, sw, md, ctypes.byref(params), ctypes.byref(out))
        if st != 0:
            raise _fail(st)
        return _download(out)


def pool_backward(dA, A_prev, kernel_shape, stride=(1, 1), mode="max", padding=((0, 0), (0, 0)), ceil_mode=False,
                  count_include_pad=False):
    """dA_prev; max gives dA to every cell equal to its window's maximum,
    avg spreads dA over the window's cells (by pool_forward's divisor);
    overlapping windows add up.  The keywords as pool_forward's."""
    kh, kw = _pair("kernel_shape", kernel_shape)
    sh, sw = _pair("stride", stride)
    md = _mode(mode)
    params = _pool_params(padding, ceil_mode, count_include_pad)
    ctx = _context()
    with _Tensors() as ts:
        da, x = ts.upload("dA", dA), ts.upload("A_prev", A_prev)
        out = ts.slot()
        if params is None:
            st = _pool_backward(ctx, da, x, kh, kw, sh, sw, md, ctypes.byref(out))
        else:
            st = _pool2d_backward(ctx, da, x, kh, kw, sh, sw, md, ctypes.byref(params), ctypes.byref(out))
        if st != 0:
            raise _fail(st)
        return _download(out)


def _lrn_settings(size, alpha, beta, k):
    if isinstance(size, (bool, np.bool_)):
        raise ValueError("size must be an integer, not %r" % (size,))
    try:
        n = operator.index(size)
    except TypeError:
        raise ValueError("size must be an integer, not %r" % (size,)) from None
    if not -_C_INT_MAX <= n <= _C_INT_MAX:
        raise ValueError("size %r is out of range" % (size,))
    out = [n]
    for name, v in (("alpha", alpha), ("beta", beta), ("k", k)):
        try:
            out.append(float(v))
        except (TypeError, ValueError):
            raise ValueError("%s must be a number, not %r" % (name, v)) from None
    return out


def lrn_forward(A_prev, size=5, alpha=1e-4, beta=0.75, k=2.0):
    """Local response normalisation across channels in the paper's form,
    A_prev[c] / (k + alpha * sum of A_prev[c']^2 over the size channels
    around c)^beta (PyTorch's alpha is size times this one; docs/alexnet.md)."""
    n, a, bt, kk = _lrn_settings(size, alpha, beta, k)
    ctx = _context()
    with _Tensors() as ts:
        x = ts.upload("A_prev", A_prev)
        out = ts.slot()
        st = _lrn_forward(ctx, x, n, a, bt, kk, ctypes.byref(out))
        if st != 0:
            raise _fail(st)
        return _download(out)


def lrn_backward(dA, A_prev, size=5, alpha=1e-4, beta=0.75, k=2.0):
    """dA_prev (the shape of A_prev) from dA, the gradient at lrn_forward's
    output."""
    n, a, bt, kk = _lrn_settings(size, alpha, beta, k)
    ctx = _context()
    with _Tensors() as ts:
        da, x = ts.upload("dA", dA), ts.upload("A_prev", A_prev)
        out = ts.slot()
        st = _lrn_backward(ctx, da, x, n, a, bt, kk, ctypes.byref(out))
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
