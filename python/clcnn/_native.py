"""Finding and loading libclcnn, its function prototypes and structures,
and the exceptions its statuses become.

The shared library is found through, in order: the environment variable
CLCNN_LIBRARY (a path to libclcnn.so), the copy inside this package (what
`pip install .` puts there), the build tree (build/libclcnn.so beside the
python/ folder of a source checkout), the system (ctypes.util.find_library).
"""

import ctypes
import ctypes.util
import os

_HERE = os.path.dirname(os.path.abspath(__file__))


class Error(RuntimeError):
    """A failure the library reported; the message is clcnn_errmsg's line and
    .status the clcnn status code (negative)."""

    def __init__(self, message, status):
        super().__init__(message)
        self.status = status


class ArgumentError(Error, ValueError):
    """The library refused an argument or a shape (CLCNN_ERR_ARGUMENT or
    CLCNN_ERR_SHAPE): both a clcnn.Error and a ValueError."""


class DeviceError(Error):
    """The context could not be created; .status is the clcnn status code."""


STATUS_ARGUMENT = -1
STATUS_SHAPE = -2
STATUS_NO_DEVICE = -6


def _candidates():
    env = os.environ.get("CLCNN_LIBRARY")
    if env:
        return [("CLCNN_LIBRARY", env)]
    found = []
    for where, path in (("package", os.path.join(_HERE, "libclcnn.so")),
                        ("build tree", os.path.join(os.path.dirname(os.path.dirname(_HERE)), "build",
                                                    "libclcnn.so"))):
        if os.path.exists(path):
            found.append((where, path))
    system = ctypes.util.find_library("clcnn")
    if system:
        found.append(("system", system))
    return found


def _load():
    tried = []
    for where, path in _candidates():
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            tried.append("%s (%s): %s" % (path, where, e))
    if os.environ.get("CLCNN_LIBRARY"):
        raise ImportError("clcnn: cannot load the library named by CLCNN_LIBRARY: " + "; ".join(tried))
    raise ImportError(
        "clcnn: libclcnn.so not found. Install the package (pip install .), set CLCNN_LIBRARY to its path, "
        "build it into build/ (meson setup build && ninja -C build), or install it. "
        + ("Tried: " + "; ".join(tried) if tried else ""))


lib, library_path = _load()

vp = ctypes.c_void_p
c_int = ctypes.c_int
pvp = ctypes.POINTER(ctypes.c_void_p)
size_arr = ctypes.POINTER(ctypes.c_size_t)
fp = ctypes.POINTER(ctypes.c_float)
i32p = ctypes.POINTER(ctypes.c_int32)
dp = ctypes.POINTER(ctypes.c_double)
sz = ctypes.c_size_t
u64 = ctypes.c_uint64
cstr = ctypes.c_char_p


def fn(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


# Structures the library fills or reads.  Each ends in spare zero bytes: a
# later version may append fields (the header promises zero defaults for
# them), and the library must never write past what Python allocated.
_SPARE = ("_spare", ctypes.c_char * 256)


class LayerConfig(ctypes.Structure):
    _fields_ = [("kind", c_int), ("name", cstr), ("type", cstr), ("units", sz),
                ("kernel_h", c_int), ("kernel_w", c_int), ("stride_h", c_int), ("stride_w", c_int),
                ("padding", c_int), ("activation", c_int), ("mode", c_int),
                ("in_shape", sz * 3), ("out_shape", sz * 3),
                ("lrn_size", c_int), ("lrn_alpha", ctypes.c_float), ("lrn_beta", ctypes.c_float),
                ("lrn_k", ctypes.c_float), _SPARE]


class TrainState(ctypes.Structure):
    _fields_ = [("seed", u64), ("epoch", ctypes.c_uint32), ("batch_size", ctypes.c_uint32), ("done", u64),
                ("loss_sum", ctypes.c_double), ("correct", ctypes.c_double), ("data_count", u64),
                ("data_crc", ctypes.c_uint32), ("step", u64), _SPARE]


TRAIN_FN = ctypes.CFUNCTYPE(c_int, vp, c_int, ctypes.POINTER(TrainState))


class TrainOptions(ctypes.Structure):
    _fields_ = [("epochs", ctypes.c_uint32), ("report_every", sz), ("callback", TRAIN_FN), ("user", vp),
                ("checkpoint", cstr), ("checkpoint_every", u64), _SPARE]


EVENT_BEGIN, EVENT_PROGRESS, EVENT_END = 0, 1, 2

status_str = fn("clcnn_status_str", cstr, c_int)
version = fn("clcnn_version", cstr)
ctx_create = fn("clcnn_ctx_create", c_int, pvp, cstr)
ctx_free = fn("clcnn_ctx_free", None, vp)
errmsg = fn("clcnn_errmsg", cstr, vp)
ctx_backend = fn("clcnn_ctx_backend", cstr, vp)
ctx_device_name = fn("clcnn_ctx_device_name", cstr, vp)
activation_from_name = fn("clcnn_activation_from_name", c_int, cstr)
padding_from_name = fn("clcnn_padding_from_name", c_int, cstr)
pool_mode_from_name = fn("clcnn_pool_mode_from_name", c_int, cstr)

dataset_create = fn("clcnn_dataset_create", c_int, vp, pvp, sz, sz, sz, sz, fp, i32p)
dataset_free = fn("clcnn_dataset_free", None, vp)

model_create = fn("clcnn_model_create", c_int, vp, pvp, sz, sz, sz)
model_free = fn("clcnn_model_free", None, vp)
model_lenet5 = fn("clcnn_model_lenet5", c_int, vp, pvp)
model_add_conv = fn("clcnn_model_add_conv", c_int, vp, sz, c_int, c_int, c_int, c_int, c_int, c_int)
model_add_pool = fn("clcnn_model_add_pool", c_int, vp, c_int, c_int, c_int, c_int, c_int)
model_add_flatten = fn("clcnn_model_add_flatten", c_int, vp)
model_add_dense = fn("clcnn_model_add_dense", c_int, vp, sz, c_int)
model_add_activation = fn("clcnn_model_add_activation", c_int, vp, c_int)
model_add_lrn = fn("clcnn_model_add_lrn", c_int, vp, c_int, ctypes.c_float, ctypes.c_float, ctypes.c_float)
model_init = fn("clcnn_model_init", c_int, vp, u64)
model_input_shape = fn("clcnn_model_input_shape", None, vp, size_arr)
model_layer_count = fn("clcnn_model_layer_count", sz, vp)
model_layer_config = fn("clcnn_model_layer_config", c_int, vp, sz, ctypes.POINTER(LayerConfig))
model_param_count = fn("clcnn_model_param_count", sz, vp)
model_param_size = fn("clcnn_model_param_size", sz, vp, sz, c_int)
model_classes = fn("clcnn_model_classes", sz, vp)
model_set_adam = fn("clcnn_model_set_adam", c_int, vp, ctypes.c_float, ctypes.c_float, ctypes.c_float,
                    ctypes.c_float)
model_get_adam = fn("clcnn_model_get_adam", c_int, vp, fp, fp, fp, fp)
model_predict = fn("clcnn_model_predict", c_int, vp, fp, sz, fp)
train_state_init = fn("clcnn_train_state_init", c_int, ctypes.POINTER(TrainState), vp, u64, sz)
model_train_run = fn("clcnn_model_train_run", c_int, vp, vp, ctypes.POINTER(TrainState),
                     ctypes.POINTER(TrainOptions))
model_evaluate = fn("clcnn_model_evaluate", c_int, vp, vp, sz, dp, dp)
model_save = fn("clcnn_model_save", c_int, vp, cstr)
model_load = fn("clcnn_model_load", c_int, vp, pvp, cstr)


def text(b):
    return b.decode("utf-8", "replace") if b else ""


def error(ctx, st, what=None):
    """The exception for status st, with ctx's message (prefixed by what)."""
    msg = text(errmsg(ctx)) if ctx else ""
    msg = msg or text(status_str(st))
    if what:
        msg = "%s: %s" % (what, msg)
    cls = ArgumentError if st in (STATUS_ARGUMENT, STATUS_SHAPE) else Error
    return cls(msg, st)


def create_context(device):
    """A new context on device ("auto", "cpu", "opencl", "opencl:P:D" or
    None for $CLCNN_DEVICE/auto); DeviceError when it cannot be made."""
    if device is not None and not isinstance(device, str):
        raise ValueError("device must be a name such as 'auto', 'cpu', 'opencl' or 'opencl:0:0', not %r" % (device,))
    out = ctypes.c_void_p()
    st = ctx_create(ctypes.byref(out), device.encode("utf-8") if device else None)
    if st != 0:
        msg = text(errmsg(out)) if out.value else ""
        ctx_free(out)
        raise DeviceError("clcnn: cannot create a context (%s): %s" % (text(status_str(st)), msg or "out of memory"), st)
    return out
