"""clcnn.Model: a model in the Keras manner over the C API (clcnn_model_*).

    import clcnn
    model = clcnn.Model.lenet5(device="auto", seed=1)
    history = model.fit(x_train, y_train, epochs=5, batch_size=32, validation_data=(x_val, y_val))
    loss, accuracy = model.evaluate(x_test, y_test)
    probs = model.predict(x_test)            # (n, classes) float32
    model.save("lenet5.model"); model.summary()

Images are numpy arrays NHWC (n, h, w, c), or (n, h, w) for one channel:
uint8 pixels are scaled by 1/255 as the library's loaders scale them, float
arrays are taken as they are (meant to lie in [0, 1]).  Labels are integer
class ids (n,) or one-hot rows (n, classes).  docs/python.md has the whole
API.
"""

import ctypes
import sys
import time

import numpy as np

from . import _native as N
from ._progress import Progress
from .ops import _enum, _pair, _padding, _mode

__all__ = ["Model", "History"]

_LAYER_TYPES = {  # spec "type" (clcnn's kind name, or the Keras class name) -> kind
    "conv": "conv", "conv2d": "conv",
    "pool": "pool", "maxpooling2d": "pool", "averagepooling2d": "pool",
    "flatten": "flatten",
    "dense": "dense",
    "activation": "activation",
    "lrn": "lrn",
}
_LAYER_KEYS = {
    "conv": {"filters", "kernel", "stride", "padding", "activation"},
    "pool": {"pool", "stride", "mode"},
    "flatten": set(),
    "dense": {"units", "activation"},
    "activation": {"activation"},
    "lrn": {"size", "alpha", "beta", "k"},
}
_ACT_NAMES = ("identity", "relu", "sigmoid", "tanh", "softmax")  # by clcnn_activation code
_PAD_NAMES = ("same", "valid")
_MODE_NAMES = ("max", "avg")
_KIND_NAMES = {1: "conv", 2: "pool", 3: "flatten", 4: "dense", 5: "activation", 6: "lrn"}


class History(dict):
    """fit's result: {"loss": [...], "accuracy": [...], "val_loss": [...],
    "val_accuracy": [...]}, one value per epoch (val_* only with validation
    data).  .history is the dict itself, as with Keras's History object."""

    @property
    def history(self):
        return self


def _activation_code(value, where):
    if value is None:
        return 0
    return _enum("%s activation" % where, N.activation_from_name, value, _ACT_NAMES + ("linear",))


def _positive_int(value, what):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError("%s must be a whole number from 1, not %r" % (what, value))
    return int(value)


def _pair_of(value, what):
    """A pair from an int (k: (k, k)) or a pair of ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        value = (value, value)
    return _pair(what, value)


def _images(x, shape=None, what="x"):
    """float32 NHWC, contiguous, from uint8 (scaled by 1/255) or floats."""
    a = np.asarray(x)
    if a.dtype == np.uint8:
        a = a.astype(np.float32) / np.float32(255)
    elif a.dtype.kind == "f":
        a = np.ascontiguousarray(a, dtype=np.float32)
    else:
        raise ValueError("%s must be uint8 pixels or floats, not %s" % (what, a.dtype))
    if a.ndim == 3:
        a = a[..., np.newaxis]
    if a.ndim != 4 or a.shape[0] == 0:
        raise ValueError("%s must be images (n, h, w, c) or (n, h, w) with n >= 1, not shape %s" % (what, a.shape))
    if shape is not None and tuple(a.shape[1:]) != tuple(shape):
        raise ValueError("%s: images of shape %s do not fit the model's input shape %s"
                         % (what, tuple(a.shape[1:]), tuple(shape)))
    if not np.isfinite(a).all():
        raise ValueError("%s holds NaN or infinite values" % what)
    return np.ascontiguousarray(a)


def _labels(y, n, classes, what="y"):
    """int32 class ids from ids (n,) or one-hot rows (n, classes)."""
    a = np.asarray(y)
    if a.ndim == 2 and a.shape[1] > 1:
        if a.shape[1] != classes:
            raise ValueError("%s: one-hot labels of %d columns for a model of %d classes" % (what, a.shape[1], classes))
        if not (np.isin(a, (0, 1)).all() and (a.sum(axis=1) == 1).all()):
            raise ValueError("%s: one-hot labels must have a single 1 in each row, zeros elsewhere" % what)
        a = a.argmax(axis=1)
    elif a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise ValueError("%s must be class ids (n,) or one-hot rows (n, classes), not shape %s" % (what, a.shape))
    if a.dtype.kind == "f":
        if not (np.isfinite(a).all() and (a == np.round(a)).all()):
            raise ValueError("%s: class ids must be whole numbers" % what)
    elif a.dtype.kind not in "iub":
        raise ValueError("%s: class ids must be integers, not %s" % (what, a.dtype))
    if a.shape[0] != n:
        raise ValueError("%s has %d labels for %d images" % (what, a.shape[0], n))
    bad = (a < 0) | (a >= classes)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError("%s[%d] = %s is not a class id of this model (0 to %d)" % (what, i, a[i], classes - 1))
    return np.ascontiguousarray(a, dtype=np.int32)


class _Dataset:
    """A clcnn_dataset copied from numpy arrays, freed on exit."""

    def __init__(self, ctx, images, labels):
        self.ptr = ctypes.c_void_p()
        n, h, w, c = images.shape
        st = N.dataset_create(ctx, ctypes.byref(self.ptr), n, h, w, c, images.ctypes.data_as(N.fp),
                              labels.ctypes.data_as(N.i32p))
        if st != 0:
            raise N.error(ctx, st)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        N.dataset_free(self.ptr)
        self.ptr = None
        return False


class Model:
    """A clcnn model on a context of its own.  Make one with Model.lenet5,
    Model.from_spec or Model.load; free it with close() or a with block
    (or leave it to the garbage collector)."""

    def __init__(self, _ctx, _model, name, seed):
        # Private: use the class methods.  Takes ownership of both handles.
        self._ctx, self._model, self.name, self._seed, self._fits = _ctx, _model, name, seed, 0

    # ------------------------------------------------------------ making

    @classmethod
    def _make(cls, device, build, name, seed):
        """A context on device and the model build(ctx) returns, owned by
        the new Model (both freed if anything fails)."""
        ctx = N.create_context(device)
        model = ctypes.c_void_p()
        try:
            build(ctx, model)
        except BaseException:
            N.model_free(model)
            N.ctx_free(ctx)
            raise
        return cls(ctx, model, name, seed)

    @classmethod
    def lenet5(cls, device="auto", seed=1):
        """LeNet-5 of DESIGN.md section 2 (28x28x1 images, 10 classes), He
        initialised with seed, as `clcnn train --seed SEED` starts it."""
        seed = _seed(seed)

        def build(ctx, model):
            _check(ctx, N.model_lenet5(ctx, ctypes.byref(model)))
            _check(ctx, N.model_init(model, seed))
        return cls._make(device, build, "lenet5", seed)

    @classmethod
    def from_spec(cls, input_shape, layers, device="auto", seed=1, name="sequential"):
        """A model of the given layers over examples of input_shape (h, w, c)
        or (h, w), He initialised with seed.  Each layer is a dict with a
        "type" (clcnn's name or Keras's class name) and its settings:
          {"type": "conv", "filters": 6, "kernel": 5, "stride": 1, "padding": "same", "activation": "relu"}
          {"type": "pool", "pool": 2, "stride": 2, "mode": "max"}     (MaxPooling2D, AveragePooling2D)
          {"type": "flatten"}
          {"type": "dense", "units": 10, "activation": "softmax"}
          {"type": "activation", "activation": "tanh"}
          {"type": "lrn", "size": 5, "alpha": 1e-4, "beta": 0.75, "k": 2.0}
        kernel, pool and stride take an int or an (h, w) pair; stride
        defaults to 1 for conv and to the window for pool; padding to
        "same"; activation to none (identity).  The last layer must end in
        softmax for fit.  Model.layers gives a model's list in this form."""
        shape = _input_shape(input_shape)
        if isinstance(layers, (str, bytes, dict)) or not hasattr(layers, "__iter__"):
            raise ValueError("layers must be a list of layer dicts, not %r" % (layers,))
        layers = [_normalise_layer(i, spec) for i, spec in enumerate(layers)]
        if not layers:
            raise ValueError("layers must not be empty")
        seed = _seed(seed)

        def build(ctx, model):
            _check(ctx, N.model_create(ctx, ctypes.byref(model), *shape))
            for i, spec in enumerate(layers):
                _add_layer(ctx, model, i, spec)
            _check(ctx, N.model_init(model, seed))
        return cls._make(device, build, name, seed)

    @classmethod
    def load(cls, path, device="auto"):
        """A model (or a checkpoint's model) saved by save() or `clcnn train
        --save`."""
        path_b = _path(path)

        def build(ctx, model):
            _check(ctx, N.model_load(ctx, ctypes.byref(model), path_b))
        return cls._make(device, build, str(path), 1)

    # ---------------------------------------------------------- lifetime

    def close(self):
        """Frees the model and its context (again: nothing)."""
        if getattr(self, "_model", None) is not None:
            N.model_free(self._model)
            self._model = None
        if getattr(self, "_ctx", None) is not None:
            N.ctx_free(self._ctx)
            self._ctx = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        self.close()

    def _live(self):
        if self._model is None:
            raise ValueError("the model is closed")
        return self._model

    # -------------------------------------------------------- properties

    @property
    def device(self):
        """The backend and device in use, e.g. "cpu: CPU backend (C)"."""
        self._live()
        return "%s: %s" % (N.text(N.ctx_backend(self._ctx)), N.text(N.ctx_device_name(self._ctx)))

    @property
    def backend(self):
        """"cpu" or "opencl"."""
        self._live()
        return N.text(N.ctx_backend(self._ctx))

    @property
    def input_shape(self):
        """(h, w, c) of one example."""
        s = (ctypes.c_size_t * 3)()
        N.model_input_shape(self._live(), s)
        return tuple(s)

    @property
    def classes(self):
        return int(N.model_classes(self._live()))

    @property
    def count_params(self):
        return int(N.model_param_count(self._live()))

    @property
    def learning_rate(self):
        """Adam's learning rate (default 0.001); settable."""
        lr = ctypes.c_float()
        N.model_get_adam(self._live(), ctypes.byref(lr), None, None, None)
        return float(lr.value)

    @learning_rate.setter
    def learning_rate(self, value):
        b1, b2, eps = ctypes.c_float(), ctypes.c_float(), ctypes.c_float()
        N.model_get_adam(self._live(), None, ctypes.byref(b1), ctypes.byref(b2), ctypes.byref(eps))
        _check(self._ctx, N.model_set_adam(self._model, float(value), b1, b2, eps))

    def _configs(self):
        m = self._live()
        out = []
        for i in range(N.model_layer_count(m)):
            c = N.LayerConfig()
            if N.model_layer_config(m, i, ctypes.byref(c)) != 0:
                raise N.Error("cannot read layer %d's settings" % i, N.STATUS_ARGUMENT)
            params = N.model_param_size(m, i, 0) + N.model_param_size(m, i, 1)
            out.append((c, int(params)))
        return out

    @property
    def layers(self):
        """The layer list as from_spec takes it (dicts)."""
        out = []
        for c, _ in self._configs():
            kind = _KIND_NAMES.get(c.kind, N.text(c.name))
            d = {"type": kind}
            if kind == "conv":
                d.update(filters=int(c.units), kernel=(c.kernel_h, c.kernel_w), stride=(c.stride_h, c.stride_w),
                         padding=_PAD_NAMES[c.padding], activation=_ACT_NAMES[c.activation])
            elif kind == "pool":
                d.update(pool=(c.kernel_h, c.kernel_w), stride=(c.stride_h, c.stride_w), mode=_MODE_NAMES[c.mode])
            elif kind == "dense":
                d.update(units=int(c.units), activation=_ACT_NAMES[c.activation])
            elif kind == "activation":
                d.update(activation=_ACT_NAMES[c.activation])
            elif kind == "lrn":
                d.update(size=c.lrn_size, alpha=c.lrn_alpha, beta=c.lrn_beta, k=c.lrn_k)
            out.append(d)
        return out

    def summary(self, print_fn=None):
        """Prints the layer table as `clcnn info` (and Keras's summary())
        prints it; print_fn (default print) receives each line."""
        print_fn = print_fn or print
        rule, double_rule = "_" * 65, "=" * 65
        h, w, c = self.input_shape
        lines = ['Model: "%s"' % self.name, "Input shape: (None, %d, %d, %d)" % (h, w, c), rule,
                 " %-28s %-25s %s" % ("Layer (type)", "Output Shape", "Param #"), double_rule]
        counts = {}
        for cfg, params in self._configs():
            counts[cfg.kind] = counts.get(cfg.kind, 0) + 1
            name = "%s_%d (%s)" % (N.text(cfg.name), counts[cfg.kind], N.text(cfg.type))
            s = cfg.out_shape
            shape = "(None, %d)" % s[2] if s[0] == 1 and s[1] == 1 else "(None, %d, %d, %d)" % (s[0], s[1], s[2])
            lines.append(" %-28s %-25s %s" % (name, shape, "{:,}".format(params)))
        total = "{:,}".format(self.count_params)
        lines += [double_rule, "Total params: " + total, "Trainable params: " + total, "Non-trainable params: 0",
                  rule, "Classes: %d" % self.classes]
        for line in lines:
            print_fn(line)

    # ----------------------------------------------------------- running

    def fit(self, x, y, epochs=5, batch_size=32, validation_data=None, validation_split=0.0, verbose=1, seed=None):
        """Trains on (x, y) for epochs, shuffled in batches of batch_size by
        the library (clcnn_model_train_run, as `clcnn train` does).
        validation_data=(x_val, y_val), or validation_split, a fraction of
        (x, y) taken from its end, is evaluated after every epoch.  seed:
        the shuffles' seed; None takes the model's seed (so the first fit
        of Model.lenet5(seed=S) repeats `clcnn train --seed S`), plus one
        for each earlier fit.  verbose: 0 silent, 1 a progress bar when
        stdout is a terminal (else as 2), 2 one line per epoch.
        Returns a History dict of per-epoch lists."""
        m = self._live()
        epochs = _positive_int(epochs, "epochs")
        batch_size = _positive_int(batch_size, "batch_size")
        if verbose not in (0, 1, 2):
            raise ValueError("verbose must be 0, 1 or 2, not %r" % (verbose,))
        shape, classes = self.input_shape, self.classes
        x = _images(x, shape)
        y = _labels(y, x.shape[0], classes)
        val = None
        if validation_data is not None:
            if validation_split:
                raise ValueError("give validation_data or validation_split, not both")
            try:
                xv, yv = validation_data
            except (TypeError, ValueError):
                raise ValueError("validation_data must be a pair (x_val, y_val)") from None
            xv = _images(xv, shape, "validation x")
            val = (xv, _labels(yv, xv.shape[0], classes, "validation y"))
        elif validation_split:
            if not 0.0 < validation_split < 1.0:
                raise ValueError("validation_split must lie between 0 and 1, not %r" % (validation_split,))
            # Keras's rule: the first floor(n * (1 - split)) examples train
            nv = x.shape[0] - int(x.shape[0] * (1.0 - validation_split))
            if nv < 1 or nv >= x.shape[0]:
                raise ValueError("validation_split %r leaves no validation or no training examples of %d"
                                 % (validation_split, x.shape[0]))
            x, y, val = x[:-nv], y[:-nv], (x[-nv:], y[-nv:])
        seed = _seed(self._seed + self._fits if seed is None else seed)
        self._fits += 1
        history = History(loss=[], accuracy=[])
        if val is not None:
            history.update(val_loss=[], val_accuracy=[])
        with _Dataset(self._ctx, x, y) as ds, \
                (_Dataset(self._ctx, *val) if val is not None else _Nothing()) as vds:
            state = N.TrainState()
            _check(self._ctx, N.train_state_init(ctypes.byref(state), ds.ptr, seed, batch_size))
            show = verbose if verbose != 1 or sys.stdout.isatty() else 2
            progress = Progress(epochs, x.shape[0], sys.stdout) if show == 1 else None
            failure = []

            def on_event(_user, event, s):
                try:
                    s = s.contents
                    if event == N.EVENT_BEGIN:
                        self._epoch_start = time.monotonic()
                    elif event == N.EVENT_PROGRESS and progress:
                        progress.update(s.epoch, s.done, s.loss_sum / s.done, s.correct / s.done)
                    elif event == N.EVENT_END:
                        self._end_epoch(s, epochs, history, vds, progress, show)
                    return 0
                except BaseException as e:  # ctypes would swallow it: stop the run, raise it below
                    failure.append(e)
                    return 1

            options = N.TrainOptions(epochs=epochs, callback=N.TRAIN_FN(on_event))
            st = N.model_train_run(m, ds.ptr, ctypes.byref(state), ctypes.byref(options))
            if failure:
                raise failure[0]
            _check(self._ctx, st)
        return history

    def _end_epoch(self, s, epochs, history, vds, progress, show):
        secs = time.monotonic() - self._epoch_start
        history["loss"].append(s.loss_sum / s.done)
        history["accuracy"].append(s.correct / s.done)
        figures = "loss: %.4f - accuracy: %.4f" % (history["loss"][-1], history["accuracy"][-1])
        if vds.ptr is not None:
            vloss, vacc = ctypes.c_double(), ctypes.c_double()
            _check(self._ctx, N.model_evaluate(self._model, vds.ptr, 0, ctypes.byref(vloss), ctypes.byref(vacc)))
            history["val_loss"].append(vloss.value)
            history["val_accuracy"].append(vacc.value)
            figures += " - val_loss: %.4f - val_accuracy: %.4f" % (vloss.value, vacc.value)
        if progress:
            progress.finish(s.epoch, figures, secs)
        elif show == 2:
            print("Epoch %d/%d - %.1fs - %s" % (s.epoch, epochs, secs, figures), flush=True)

    def evaluate(self, x, y, batch_size=64, return_dict=False):
        """(loss, accuracy) over (x, y): the mean softmax cross-entropy and
        the fraction classified right (clcnn_model_evaluate).  Keras returns
        a list [loss, accuracy]; this is a tuple, or with return_dict
        {"loss": ..., "accuracy": ...}."""
        m = self._live()
        batch_size = _positive_int(batch_size, "batch_size")
        x = _images(x, self.input_shape)
        y = _labels(y, x.shape[0], self.classes)
        loss, acc = ctypes.c_double(), ctypes.c_double()
        with _Dataset(self._ctx, x, y) as ds:
            _check(self._ctx, N.model_evaluate(m, ds.ptr, batch_size, ctypes.byref(loss), ctypes.byref(acc)))
        if return_dict:
            return {"loss": loss.value, "accuracy": acc.value}
        return loss.value, acc.value

    def predict(self, x, batch_size=32):
        """Class probabilities (n, classes), float32."""
        m = self._live()
        batch_size = _positive_int(batch_size, "batch_size")
        x = _images(x, self.input_shape)
        out = np.empty((x.shape[0], self.classes), dtype=np.float32)
        for i in range(0, x.shape[0], batch_size):
            xb, ob = x[i:i + batch_size], out[i:i + batch_size]
            _check(self._ctx, N.model_predict(m, xb.ctypes.data_as(N.fp), xb.shape[0], ob.ctypes.data_as(N.fp)))
        return out

    def save(self, path):
        """Writes the model file (docs/model-format.md), atomically."""
        _check(self._ctx, N.model_save(self._live(), _path(path)))


class _Nothing:
    """A stand-in for a data set that is not there (no validation)."""
    ptr = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _check(ctx, st):
    if st != 0:
        raise N.error(ctx, st)


def _seed(seed):
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2 ** 64:
        raise ValueError("seed must be a whole number from 0 to 2**64 - 1, not %r" % (seed,))
    return int(seed)


def _path(path):
    import os
    try:
        return os.fsencode(path)
    except TypeError:
        raise ValueError("path must be a str or a path, not %r" % (path,)) from None


def _input_shape(shape):
    try:
        dims = tuple(shape)
    except TypeError:
        dims = ()
    if len(dims) == 2:
        dims += (1,)
    if len(dims) != 3:
        raise ValueError("input_shape must be (h, w, c) or (h, w), not %r" % (shape,))
    return tuple(_positive_int(d, "input_shape %r: each size" % (shape,)) for d in dims)


def _normalise_layer(i, spec):
    """(kind, settings) of layer i's dict, every key checked."""
    where = "layer %d" % i
    if not isinstance(spec, dict):
        raise ValueError("%s must be a dict with a \"type\", not %r" % (where, spec))
    t = spec.get("type")
    kind = _LAYER_TYPES.get(t.lower()) if isinstance(t, str) else None
    if kind is None:
        raise ValueError("%s: unknown type %r (expected one of %s)" % (where, t, ", ".join(sorted(_LAYER_KEYS))))
    where = "layer %d (%s)" % (i, kind)
    extra = set(spec) - {"type"} - _LAYER_KEYS[kind]
    if extra:
        raise ValueError("%s: unknown setting %s (it takes %s)" % (where, ", ".join(sorted(map(repr, extra))),
                                                                    ", ".join(sorted(_LAYER_KEYS[kind])) or "none"))
    s = dict(spec)
    if kind == "pool" and t.lower() == "averagepooling2d":
        s.setdefault("mode", "avg")
    if kind == "conv":
        if "filters" not in s or "kernel" not in s:
            raise ValueError("%s needs \"filters\" and \"kernel\"" % where)
        return kind, dict(filters=_positive_int(s["filters"], where + " filters"),
                          kernel=_pair_of(s["kernel"], where + " kernel"),
                          stride=_pair_of(s.get("stride", 1), where + " stride"),
                          padding=_padding(s.get("padding", "same")),
                          activation=_activation_code(s.get("activation"), where))
    if kind == "pool":
        if "pool" not in s:
            raise ValueError("%s needs \"pool\" (the window, an int or (h, w))" % where)
        window = _pair_of(s["pool"], where + " pool")
        return kind, dict(pool=window, stride=_pair_of(s.get("stride", tuple(window)), where + " stride"),
                          mode=_mode(s.get("mode", "max")))
    if kind == "dense":
        if "units" not in s:
            raise ValueError("%s needs \"units\"" % where)
        return kind, dict(units=_positive_int(s["units"], where + " units"),
                          activation=_activation_code(s.get("activation"), where))
    if kind == "activation":
        if "activation" not in s:
            raise ValueError("%s needs \"activation\"" % where)
        return kind, dict(activation=_activation_code(s["activation"], where))
    if kind == "lrn":
        try:
            vals = dict(size=int(s.get("size", 5)), alpha=float(s.get("alpha", 1e-4)),
                        beta=float(s.get("beta", 0.75)), k=float(s.get("k", 2.0)))
        except (TypeError, ValueError):
            raise ValueError("%s: size must be an int, alpha, beta and k numbers" % where) from None
        return kind, vals
    return kind, {}


def _add_layer(ctx, model, i, layer):
    kind, s = layer
    if kind == "conv":
        st = N.model_add_conv(model, s["filters"], *s["kernel"], *s["stride"], s["padding"], s["activation"])
    elif kind == "pool":
        st = N.model_add_pool(model, *s["pool"], *s["stride"], s["mode"])
    elif kind == "flatten":
        st = N.model_add_flatten(model)
    elif kind == "dense":
        st = N.model_add_dense(model, s["units"], s["activation"])
    elif kind == "activation":
        st = N.model_add_activation(model, s["activation"])
    else:
        st = N.model_add_lrn(model, s["size"], s["alpha"], s["beta"], s["k"])
    if st != 0:
        raise N.error(ctx, st, "layer %d (%s)" % (i, kind))
