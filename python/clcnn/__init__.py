"""clcnn from Python: a model API in the Keras manner and the four seed
operations, over libclcnn through ctypes (docs/python.md).

    import clcnn
    model = clcnn.Model.lenet5(device="auto")
    history = model.fit(x_train, y_train, epochs=5, validation_data=(x_test, y_test))
    loss, accuracy = model.evaluate(x_test, y_test)
    probs = model.predict(x_test)

    A = clcnn.conv_forward(A_prev, W, b, "relu", padding="same", stride=(1, 1))

clcnn.library_path is the libclcnn.so in use (see clcnn._native for the
order in which it is looked for).
"""

from . import _native
from ._native import ArgumentError, DeviceError, Error, library_path
from .model import History, Model
from .ops import conv_backward, conv_forward, device, pool_backward, pool_forward
from .ops import dropout_forward  # issue 13: dropout
from .ops import lrn_backward, lrn_forward  # issue 13

_lib = _native.lib  # the ctypes library itself, for callers of functions not wrapped here
__version__ = _native.text(_native.version())

__all__ = ["Model", "History", "Error", "ArgumentError", "DeviceError", "conv_forward", "pool_forward",
           "conv_backward", "pool_backward", "device", "library_path"]
__all__ += ["dropout_forward"]
__all__ += ["lrn_forward", "lrn_backward"]
