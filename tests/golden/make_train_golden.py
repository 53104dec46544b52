#!/usr/bin/python3
"""Golden data for clcnn's model/training engine (DESIGN.md section 2).

An independent float64 numpy reference of full training steps: forward
through a layer list, softmax cross-entropy (mean over the batch, computed
stably), backward to every parameter gradient, and Adam in TensorFlow's form.
It shares no code with the library nor with make_golden.py.

    /usr/bin/python3 tests/golden/make_train_golden.py   # rewrites tests/golden/train/

Inputs are drawn with a fixed seed and rounded to float32 (what the library
sees); everything is then computed in float64 and stored as float32 (labels
as int32).  Files, under tests/golden/train/, for each case <c>:

  <c>_x.npy, <c>_y.npy          batch of step 1 (NHWC images, int labels)
  <c>_x2.npy, <c>_y2.npy        batch of step 2
  <c>_probs.npy                 softmax output for x before any update
  <c>_loss.npy, <c>_acc.npy     step-1 loss and accuracy (shape (1,))
  <c>_loss2.npy, <c>_acc2.npy   step-2 loss and accuracy (after step 1)
  <c>_L<i>_<p>.npy              initial parameter p (W or b) of layer i (0-based)
  <c>_L<i>_d<p>.npy             its gradient at step 1
  <c>_L<i>_u<p>.npy             the step-1 Adam update (w1 - w0, in float64;
                                the parameter after step 1 is w0 + u)
  <c>_L<i>_<p>2.npy             the parameter after step 2
The layer lists are in CASES below (and mirrored in tests/test_model.c).

Max pooling follows DESIGN.md: every cell equal to its window's maximum gets
the full gradient (ReLU can make all-zero windows, i.e. ties).
"""

import os
import sys

import numpy as np

LR, BETA1, BETA2, EPS = 0.001, 0.9, 0.999, 1e-7


# ---------------------------------------------------------------- helpers

def f32(a):
    """Round to float32 and come back to float64: the values the library sees."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def axis_geometry(size, k, s, padding):
    """(output size, padding before, padding after) along one axis."""
    if padding == "valid":
        assert k <= size
        return (size - k) // s + 1, 0, 0
    out = (size + s - 1) // s
    total = max((out - 1) * s + k - size, 0)
    return out, total // 2, total - total // 2


def act_fwd(z, act):
    if act == "identity":
        return z
    if act == "relu":
        return np.maximum(z, 0.0)
    if act == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if act == "tanh":
        return np.tanh(z)
    if act == "softmax":
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise ValueError(act)


def act_bwd(a, da, act):
    """Gradient at the pre-activation from the output a and its gradient da."""
    if act == "identity":
        return da
    if act == "relu":
        return da * (a > 0)
    if act == "sigmoid":
        return da * a * (1.0 - a)
    if act == "tanh":
        return da * (1.0 - a * a)
    if act == "softmax":
        return a * (da - (da * a).sum(axis=-1, keepdims=True))
    raise ValueError(act)


# ----------------------------------------------------------------- layers

class Conv:
    def __init__(self, filters, kh, kw, sh, sw, padding, act):
        self.k, self.kh, self.kw, self.sh, self.sw = filters, kh, kw, sh, sw
        self.padding, self.act = padding, act

    def shape(self, in_shape):
        h, w, c = in_shape
        self.c = c
        oh, self.pt, self.pb = axis_geometry(h, self.kh, self.sh, self.padding)
        ow, self.pl, self.pr = axis_geometry(w, self.kw, self.sw, self.padding)
        return (oh, ow, self.k)

    def param_shapes(self):
        return {"W": (self.kh, self.kw, self.c, self.k), "b": (self.k,)}, self.kh * self.kw * self.c

    def _padded(self, x):
        return np.pad(x, ((0, 0), (self.pt, self.pb), (self.pl, self.pr), (0, 0)))

    def _window(self, xp, p, q, oh, ow):
        return xp[:, p:p + self.sh * (oh - 1) + 1:self.sh, q:q + self.sw * (ow - 1) + 1:self.sw, :]

    def forward(self, x, P):
        xp = self._padded(x)
        oh, ow = self.out[0], self.out[1]
        z = np.zeros((x.shape[0], oh, ow, self.k)) + P["b"]
        for p in range(self.kh):
            for q in range(self.kw):
                z += np.einsum("nhwc,ck->nhwk", self._window(xp, p, q, oh, ow), P["W"][p, q])
        return z

    def backward(self, x, dz, P):
        xp = self._padded(x)
        dxp = np.zeros_like(xp)
        oh, ow = self.out[0], self.out[1]
        dW = np.zeros_like(P["W"])
        for p in range(self.kh):
            for q in range(self.kw):
                dW[p, q] = np.einsum("nhwc,nhwk->ck", self._window(xp, p, q, oh, ow), dz)
                self._window(dxp, p, q, oh, ow)[...] += np.einsum("nhwk,ck->nhwc", dz, P["W"][p, q])
        h, w = x.shape[1], x.shape[2]
        dx = dxp[:, self.pt:self.pt + h, self.pl:self.pl + w, :]  # gradient on padding dropped
        return dx, {"W": dW, "b": dz.sum(axis=(0, 1, 2))}


class Pool:
    act = None
    ties = 0  # windows of the last backward with more than one maximum

    def __init__(self, kh, kw, sh, sw, mode):
        self.kh, self.kw, self.sh, self.sw, self.mode = kh, kw, sh, sw, mode

    def shape(self, in_shape):
        h, w, c = in_shape
        return ((h - self.kh) // self.sh + 1, (w - self.kw) // self.sw + 1, c)

    def param_shapes(self):
        return {}, 0

    def _cells(self):
        for i in range(self.out[0]):
            for j in range(self.out[1]):
                yield i, j, np.s_[:, i * self.sh:i * self.sh + self.kh, j * self.sw:j * self.sw + self.kw, :]

    def forward(self, x, P):
        a = np.zeros((x.shape[0],) + self.out)
        for i, j, win in self._cells():
            a[:, i, j, :] = x[win].max(axis=(1, 2)) if self.mode == "max" else x[win].mean(axis=(1, 2))
        return a

    def backward(self, x, da, P):
        dx = np.zeros_like(x)
        self.ties = 0
        for i, j, win in self._cells():
            g = da[:, i, j, :][:, None, None, :]
            if self.mode == "max":
                mx = x[win].max(axis=(1, 2), keepdims=True)
                dx[win] += (x[win] == mx) * g  # every tied maximum gets the full gradient
                self.ties += int(((x[win] == mx).sum(axis=(1, 2)) > 1).sum())
            else:
                dx[win] += g / (self.kh * self.kw)
        return dx, {}


class Flatten:
    act = None

    def shape(self, in_shape):
        return (1, 1, in_shape[0] * in_shape[1] * in_shape[2])

    def param_shapes(self):
        return {}, 0

    def forward(self, x, P):
        return x.reshape(x.shape[0], 1, 1, -1)  # C order of NHWC

    def backward(self, x, da, P):
        return da.reshape(x.shape), {}


class Dense:
    def __init__(self, units, act):
        self.units, self.act = units, act

    def shape(self, in_shape):
        assert in_shape[0] == 1 and in_shape[1] == 1
        self.n_in = in_shape[2]
        return (1, 1, self.units)

    def param_shapes(self):
        return {"W": (self.n_in, self.units), "b": (self.units,)}, self.n_in

    def forward(self, x, P):
        z = x.reshape(x.shape[0], -1) @ P["W"] + P["b"]
        return z.reshape(x.shape[0], 1, 1, -1)

    def backward(self, x, dz, P):
        x2, dz2 = x.reshape(x.shape[0], -1), dz.reshape(dz.shape[0], -1)
        return (dz2 @ P["W"].T).reshape(x.shape), {"W": x2.T @ dz2, "b": dz2.sum(axis=0)}


class Activation:
    def __init__(self, act):
        self.act = act

    def shape(self, in_shape):
        return in_shape

    def param_shapes(self):
        return {}, 0

    def forward(self, x, P):
        return x  # the activation is applied by the model, as for conv/dense

    def backward(self, x, dz, P):
        return dz, {}


# ------------------------------------------------------------------ model

class Model:
    def __init__(self, in_shape, layers):
        self.layers = layers
        shape = in_shape
        for l in layers:
            shape = l.shape(shape)
            l.out = shape

    def forward(self, x, params):
        """Activations of every layer; the last layer's pre-softmax logits too."""
        outs, a = [], x
        for i, l in enumerate(self.layers):
            z = l.forward(a, params[i])
            a = act_fwd(z, l.act) if l.act else z
            outs.append(a)
        return outs, z

    def step(self, x, y, params):
        """Loss, accuracy, probabilities and gradients for batch (x, y)."""
        outs, logits = self.forward(x, params)
        m = x.shape[0]
        logits = logits.reshape(m, -1)
        zmax = logits.max(axis=1, keepdims=True)
        logsum = zmax[:, 0] + np.log(np.exp(logits - zmax).sum(axis=1))
        loss = float(np.mean(logsum - logits[np.arange(m), y]))
        probs = np.exp(logits - logsum[:, None])
        acc = float(np.mean(probs.argmax(axis=1) == y))
        onehot = np.zeros_like(probs)
        onehot[np.arange(m), y] = 1.0
        dz = ((probs - onehot) / m).reshape(outs[-1].shape)  # gradient at the logits
        grads = [None] * len(self.layers)
        for i in reversed(range(len(self.layers))):
            l = self.layers[i]
            if i + 1 < len(self.layers) and l.act:
                dz = act_bwd(outs[i], dz, l.act)
            a_prev = outs[i - 1] if i else x
            dz, grads[i] = l.backward(a_prev, dz, params[i])
        return loss, acc, probs, grads


class Adam:
    """TensorFlow's form: bias correction folded into the step size."""

    def __init__(self, params):
        self.t = 0
        self.m = [{k: np.zeros_like(v) for k, v in p.items()} for p in params]
        self.v = [{k: np.zeros_like(v) for k, v in p.items()} for p in params]

    def update(self, params, grads):
        self.t += 1
        lr_t = LR * np.sqrt(1.0 - BETA2 ** self.t) / (1.0 - BETA1 ** self.t)
        new = []
        for i, (p, g) in enumerate(zip(params, grads)):
            q = {}
            for k in p:
                self.m[i][k] = BETA1 * self.m[i][k] + (1.0 - BETA1) * g[k]
                self.v[i][k] = BETA2 * self.v[i][k] + (1.0 - BETA2) * g[k] ** 2
                q[k] = p[k] - lr_t * self.m[i][k] / (np.sqrt(self.v[i][k]) + EPS)
            new.append(q)
        return new


# ------------------------------------------------------------------ cases

def lenet5():
    return (28, 28, 1), [
        Conv(6, 5, 5, 1, 1, "same", "relu"),
        Pool(2, 2, 2, 2, "max"),
        Conv(16, 5, 5, 1, 1, "valid", "relu"),
        Pool(2, 2, 2, 2, "max"),
        Flatten(),
        Dense(120, "relu"),
        Dense(84, "relu"),
        Dense(10, "softmax"),
    ], 10, 4


def small():
    """Sigmoid/tanh, avg pooling, a stride-2 conv and activation layers."""
    return (10, 9, 2), [
        Conv(4, 3, 3, 2, 2, "same", "identity"),  # 5x5x4
        Activation("tanh"),
        Pool(2, 2, 1, 1, "avg"),                  # 4x4x4
        Conv(3, 2, 3, 1, 1, "valid", "sigmoid"),  # 3x2x3
        Pool(3, 1, 1, 1, "avg"),                  # 1x2x3 (a window taller than wide)
        Flatten(),                                # 6
        Dense(8, "tanh"),
        Dense(7, "identity"),
        Activation("sigmoid"),
        Dense(5, "softmax"),
    ], 5, 3


CASES = {"lenet5": lenet5, "small": small}


def make_case(name, seed, outdir):
    in_shape, layers, classes, batch = CASES[name]()
    model = Model(in_shape, layers)
    rng = np.random.default_rng(seed)
    files = {}
    params = []
    for i, l in enumerate(layers):
        shapes, fan_in = l.param_shapes()
        p = {}
        if shapes:
            p["W"] = f32(rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shapes["W"]))
            p["b"] = f32(rng.uniform(-0.2, 0.2, size=shapes["b"]))  # nonzero: bias paths count
        params.append(p)
    x = f32(rng.uniform(0.0, 1.0, size=(batch,) + in_shape))
    y = rng.integers(0, classes, size=batch)
    x2 = f32(rng.uniform(0.0, 1.0, size=(batch,) + in_shape))
    y2 = rng.integers(0, classes, size=batch)

    loss, acc, probs, grads = model.step(x, y, params)
    adam = Adam(params)
    params1 = adam.update(params, grads)
    loss2, acc2, _, grads2 = model.step(x2, y2, params1)
    params2 = adam.update(params1, grads2)

    files["x"], files["y"] = x, y.astype(np.int32)
    files["x2"], files["y2"] = x2, y2.astype(np.int32)
    files["probs"] = probs
    files["loss"], files["acc"] = np.array([loss]), np.array([acc])
    files["loss2"], files["acc2"] = np.array([loss2]), np.array([acc2])
    for i, p in enumerate(params):
        for k in p:
            files["L%d_%s" % (i, k)] = p[k]
            files["L%d_d%s" % (i, k)] = grads[i][k]
            files["L%d_u%s" % (i, k)] = params1[i][k] - p[k]
            files["L%d_%s2" % (i, k)] = params2[i][k]
    for k, v in files.items():
        dtype = np.int32 if v.dtype.kind in "iu" else np.float32
        np.save(os.path.join(outdir, "%s_%s.npy" % (name, k)), np.ascontiguousarray(v, dtype=dtype))
    ties = sum(l.ties for l in layers if isinstance(l, Pool))
    print("%s: loss %.6f acc %.2f, loss2 %.6f, %d tied max-pool windows in step 2, %d files"
          % (name, loss, acc, loss2, ties, len(files)))
    return model, params, x, y


def self_check(model, params, x, y):
    """Central finite differences of the loss against the analytic gradients."""
    rng = np.random.default_rng(1)
    _, _, _, grads = model.step(x, y, params)
    worst = 0.0
    for i, p in enumerate(params):
        for k in p:
            for _ in range(6):
                idx = tuple(rng.integers(0, s) for s in p[k].shape)
                h = 1e-6
                saved = p[k][idx]
                p[k][idx] = saved + h
                lp = model.step(x, y, params)[0]
                p[k][idx] = saved - h
                lm = model.step(x, y, params)[0]
                p[k][idx] = saved
                fd = (lp - lm) / (2 * h)
                err = abs(fd - grads[i][k][idx]) / max(1e-8, abs(fd) + abs(grads[i][k][idx]))
                if abs(fd) + abs(grads[i][k][idx]) > 1e-9:
                    worst = max(worst, err)
    print("  finite-difference check: worst relative error %.2e" % worst)
    if worst > 1e-5:
        sys.exit("reference gradients disagree with finite differences")


def main():
    outdir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "train")
    os.makedirs(outdir, exist_ok=True)
    for name, seed in (("lenet5", 4), ("small", 7)):
        self_check(*make_case(name, seed, outdir))


if __name__ == "__main__":
    main()
