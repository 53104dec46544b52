"""Trains two small networks briefly in PyTorch on Fashion-MNIST and exports
them to ONNX, for tests/test_onnx_torch.sh: LeNet-5 (DESIGN.md section 2, at
opsets 7, 13 and 17) and a convnet with clcnn's AlexNet ingredients
(BatchNormalization, grouped, dilated and padded convolution, LRN, padded
and ceil-mode pooling, dropout, BatchNorm1d).  Writes into OUT: NAME.onnx,
NAME.out.npy (PyTorch's outputs on the images) and images.npy, the first
COUNT test images as clcnn reads them (NHWC, floats in [0, 1]).

    /usr/bin/python3 tests/onnx_torch.py OUT [COUNT] [DATA_DIR]

Exit 77 when PyTorch or the data is missing."""
import gzip, os, sys

try:
    import numpy as np
    import torch
    import torch.nn as nn
except ImportError as e:
    print("skipping: %s (Debian: python3-torch)" % e)
    sys.exit(77)

out = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 500
data = sys.argv[3] if len(sys.argv) > 3 else "/usr/share/datasets/fashion-mnist"


def idx(name):
    for n in (name, name + ".gz"):
        p = os.path.join(data, n)
        if os.path.exists(p):
            raw = (gzip.open if n.endswith(".gz") else open)(p, "rb").read()
            dims = raw[3]
            shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
            return np.frombuffer(raw, np.uint8, offset=4 + 4 * dims).reshape(shape)
    print("skipping: no %s in %s (Debian: dataset-fashion-mnist)" % (name, data))
    sys.exit(77)


torch.manual_seed(0)
torch.set_num_threads(1)
x_train = torch.tensor(idx("train-images-idx3-ubyte")[:3000], dtype=torch.float32).unsqueeze(1) / 255
y_train = torch.tensor(idx("train-labels-idx1-ubyte")[:3000], dtype=torch.long)
x_test = torch.tensor(idx("t10k-images-idx3-ubyte")[:count], dtype=torch.float32).unsqueeze(1) / 255


class LRNFunction(torch.autograd.Function):
    """PyTorch's LocalResponseNorm, exported as ONNX's LRN (PyTorch 1.13
    exports the module as the composite of pads and pools it computes)."""

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        return nn.functional.local_response_norm(x, size, alpha, beta, k)

    @staticmethod
    def symbolic(g, x, size, alpha, beta, k):
        return g.op("LRN", x, size_i=size, alpha_f=alpha, beta_f=beta, bias_f=k)


class LRN(nn.LocalResponseNorm):
    def forward(self, x):
        if torch.onnx.is_in_onnx_export():
            return LRNFunction.apply(x, self.size, self.alpha, self.beta, self.k)
        return super().forward(x)


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2, 2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def convnet():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        LRN(5, alpha=1e-3, beta=0.75, k=2.0),
        nn.MaxPool2d(3, 2, padding=1),
        nn.Conv2d(16, 32, 3, padding=2, dilation=2, groups=4), nn.Tanh(),
        nn.AvgPool2d(3, 2, padding=1, ceil_mode=True, count_include_pad=False),
        nn.Conv2d(32, 32, (3, 2), stride=(2, 1), padding=(1, 0)), nn.Sigmoid(),
        nn.Dropout(0.3), nn.Flatten(), nn.Linear(32 * 4 * 7, 64), nn.BatchNorm1d(64), nn.ReLU(),
        nn.Dropout(0.3), nn.Linear(64, 10), nn.Softmax(dim=1))


def train(model):
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    model.train()
    for i in range(0, len(x_train), 50):
        opt.zero_grad()
        logits = model(x_train[i:i + 50])
        loss = nn.functional.nll_loss(torch.log(logits + 1e-9), y_train[i:i + 50]) \
            if isinstance(model[-1], nn.Softmax) else nn.functional.cross_entropy(logits, y_train[i:i + 50])
        loss.backward()
        opt.step()
    model.eval()
    return model


def export(model, name, opset):
    path = os.path.join(out, name + ".onnx")
    torch.onnx.export(model, x_test[:1], path, opset_version=opset, input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
    with torch.no_grad():
        np.save(os.path.join(out, name + ".out.npy"), model(x_test).numpy().astype(np.float32))


os.makedirs(out, exist_ok=True)
np.save(os.path.join(out, "images.npy"), x_test.permute(0, 2, 3, 1).contiguous().numpy())
net = train(lenet5())
for opset in (7, 13, 17):
    export(net, "lenet5_opset%d" % opset, opset)
export(train(convnet()), "convnet", 13)
print("wrote %s: lenet5_opset7/13/17.onnx, convnet.onnx, images.npy (%d images)" % (out, count))
