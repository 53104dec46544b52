"""The LeNet-5 recipe in clcnn and in PyTorch from the same initial weights
(clcnn's, copied into PyTorch) on the same batches, step by step: the losses
side by side, then each epoch's test accuracy.  Usage:
    /usr/bin/python3 bench/trajectory_pytorch.py [SEED [EPOCHS [ADAM]]]
(ADAM: tf, the form DESIGN.md and clcnn use and the default here, or torch)
(libclcnn.so from build/, or CLCNN_LIB; data from
/usr/share/datasets/fashion-mnist, or CLCNN_DATA).  The first loss agrees
to the last digit; later ones drift apart as float rounding differs (Adam
turns tiny differences in near-zero gradients into full-size steps), so
compare the accuracies, not the last digits."""
import ctypes as C
import os
import pathlib
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import recipe  # noqa: E402

seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 1
form = sys.argv[3] if len(sys.argv) > 3 else "tf"
torch.set_num_threads(1)

lib = C.CDLL(os.environ.get("CLCNN_LIB", str(HERE.parent / "build" / "libclcnn.so")))
P = C.c_void_p
lib.clcnn_ctx_create.argtypes = [C.POINTER(P), C.c_char_p]
lib.clcnn_model_lenet5.argtypes = [P, C.POINTER(P)]
lib.clcnn_model_init.argtypes = [P, C.c_uint64]
lib.clcnn_model_param_size.argtypes = [P, C.c_size_t, C.c_int]
lib.clcnn_model_param_size.restype = C.c_size_t
lib.clcnn_model_read_param.argtypes = [P, C.c_size_t, C.c_int, P, C.c_size_t]
lib.clcnn_model_train_step.argtypes = [P, P, P, C.c_size_t, C.POINTER(C.c_float), C.POINTER(C.c_float)]
lib.clcnn_model_predict.argtypes = [P, P, C.c_size_t, P]
ctx, m = P(), P()
assert lib.clcnn_ctx_create(C.byref(ctx), b"cpu") == 0
assert lib.clcnn_model_lenet5(ctx, C.byref(m)) == 0
assert lib.clcnn_model_init(m, seed) == 0


def param(layer, which):
    n = lib.clcnn_model_param_size(m, layer, which)
    a = np.empty(n, np.float32)
    assert lib.clcnn_model_read_param(m, layer, which, a.ctypes.data, n) == 0
    return torch.from_numpy(a)


# clcnn's weights into PyTorch: conv (kh, kw, c, k) -> (k, c, kh, kw), dense (in, out) -> (out, in).
t = recipe.lenet5()
with torch.no_grad():
    for layer, mod in [(0, t.conv1), (2, t.conv2)]:
        mod.weight.copy_(param(layer, 0).reshape(5, 5, mod.in_channels, mod.out_channels).permute(3, 2, 0, 1))
        mod.bias.copy_(param(layer, 1))
    for layer, mod in [(5, t.fc1), (6, t.fc2), (7, t.fc3)]:
        mod.weight.copy_(param(layer, 0).reshape(mod.in_features, mod.out_features).T)
        mod.bias.copy_(param(layer, 1))
opt = recipe.adam(t, form)

x, y, xt, yt = recipe.load_fashion(os.environ.get("CLCNN_DATA", "/usr/share/datasets/fashion-mnist"))
X = np.ascontiguousarray(x, dtype=np.float32) / 255  # NHWC for clcnn
Y = y.astype(np.int32)
Xt = np.ascontiguousarray(xt, dtype=np.float32) / 255
XT = torch.from_numpy(X.transpose(0, 3, 1, 2).copy())  # NCHW for PyTorch
YT = torch.from_numpy(y)


def accuracy_clcnn():
    p = np.empty((len(Xt), 10), np.float32)
    assert lib.clcnn_model_predict(m, Xt.ctypes.data, len(Xt), p.ctypes.data) == 0
    return (p.argmax(1) == yt).mean()


def accuracy_torch():
    with torch.no_grad():
        return (t(torch.from_numpy(Xt.transpose(0, 3, 1, 2).copy())).argmax(1).numpy() == yt).mean()


rng = np.random.default_rng(seed)
step = 0
for e in range(epochs):
    perm = rng.permutation(len(X))
    for i in range(0, len(X), 32):
        b = perm[i : i + 32]
        xb, yb = np.ascontiguousarray(X[b]), np.ascontiguousarray(Y[b])
        loss_c = C.c_float()
        assert lib.clcnn_model_train_step(m, xb.ctypes.data, yb.ctypes.data, len(b), C.byref(loss_c), None) == 0
        opt.zero_grad()
        loss_t = F.cross_entropy(t(XT[b]), YT[b])
        loss_t.backward()
        opt.step()
        if step in (0, 1, 2, 5, 10, 50, 100, 500, 1000) or step % 1563 == 0:
            print(f"step {step}: loss clcnn {loss_c.value:.6f} torch {loss_t.item():.6f} "
                  f"difference {loss_c.value - loss_t.item():+.2e}", flush=True)
        step += 1
    print(f"epoch {e + 1}: test accuracy clcnn {accuracy_clcnn():.4f} torch {accuracy_torch():.4f}", flush=True)
