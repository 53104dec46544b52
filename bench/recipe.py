"""The LeNet-5 recipe of DESIGN.md §2 for the PyTorch scripts beside this
file: Fashion-MNIST IDX reading, the network (TF-same padding, NHWC flatten
order, truncated He-normal init, zero biases) and its Adam.  Importing this
module does not import torch (compare.py's parent process stays small
without it); the functions that need torch import it."""
import gzip
import math
import os

TRAIN_COUNT = 50000  # the first 50,000 training images; the rest validate


def read_idx(path):
    """An IDX file (raw or .gz) as a numpy array."""
    import numpy as np

    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 8:
        raise ValueError(path + ": not a uint8 IDX file")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find_idx(data_dir, stem):
    for name in (stem, stem + ".gz"):
        p = os.path.join(data_dir, name)
        if os.path.exists(p):
            return p
    raise FileNotFoundError(os.path.join(data_dir, stem) + "[.gz]")


def load_fashion(data_dir):
    """uint8 images (n, 28, 28, 1) NHWC and int64 labels: the training part
    (first TRAIN_COUNT), then the test set."""
    import numpy as np

    x = read_idx(find_idx(data_dir, "train-images-idx3-ubyte"))[:TRAIN_COUNT, ..., None]
    y = read_idx(find_idx(data_dir, "train-labels-idx1-ubyte"))[:TRAIN_COUNT].astype(np.int64)
    xt = read_idx(find_idx(data_dir, "t10k-images-idx3-ubyte"))[..., None]
    yt = read_idx(find_idx(data_dir, "t10k-labels-idx1-ubyte")).astype(np.int64)
    return x, y, xt, yt


def lenet5():
    """LeNet-5 in PyTorch, initialised as DESIGN.md §2 says (torch's RNG)."""
    import torch
    from torch import nn

    class LeNet5(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5, padding=2)  # TF "same" for 28x28, 5x5, stride 1
            self.pool = nn.MaxPool2d(2, 2)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(400, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = self.pool(torch.relu(self.conv1(x)))
            x = self.pool(torch.relu(self.conv2(x)))
            x = x.permute(0, 2, 3, 1).flatten(1)  # NHWC flatten order, as clcnn
            x = torch.relu(self.fc1(x))
            x = torch.relu(self.fc2(x))
            return self.fc3(x)  # logits; the loss applies the softmax

    model = LeNet5()
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, (nn.Conv2d, nn.Linear)):
                fan_in = mod.weight[0].numel()
                std = math.sqrt(2.0 / fan_in) / 0.87962566103423978
                nn.init.trunc_normal_(mod.weight, std=std, a=-2 * std, b=2 * std)
                nn.init.zeros_(mod.bias)
    return model


def adam(model, form="torch"):
    """Adam with the recipe's settings, in PyTorch's form of the update
    (epsilon added to the bias-corrected root of v) or, with form="tf", in
    TensorFlow's as DESIGN.md §2 and clcnn have it (epsilon added to the
    root of v, the correction folded into the step size)."""
    import torch

    if form == "torch":
        return torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    if form != "tf":
        raise ValueError("Adam form: torch or tf, not " + repr(form))

    class AdamTF(torch.optim.Optimizer):
        def __init__(self, params, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7):
            super().__init__(params, dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps))

        @torch.no_grad()
        def step(self):
            for g in self.param_groups:
                for p in g["params"]:
                    st = self.state[p]
                    if not st:
                        st["t"], st["m"], st["v"] = 0, torch.zeros_like(p), torch.zeros_like(p)
                    st["t"] += 1
                    t, b1, b2 = st["t"], g["beta1"], g["beta2"]
                    st["m"].mul_(b1).add_(p.grad, alpha=1 - b1)
                    st["v"].mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                    lr_t = g["lr"] * math.sqrt(1 - b2**t) / (1 - b1**t)
                    p.addcdiv_(st["m"], st["v"].sqrt().add_(g["eps"]), value=-lr_t)

    return AdamTF(model.parameters())
