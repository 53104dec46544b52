"""Test accuracy of alexnet-mini (the built-in spec `clcnn train --model
alexnet-mini`, docs/spec-format.md) in PyTorch, with the recipe of issue 13:
SGD with momentum 0.9 and weight decay 5e-4 (weights only, not biases),
random crops after 4 zero pixels each side and horizontal flips, dropout 0.5
before the dense layers, on the first 50,000 Fashion-MNIST training images;
test accuracy on t10k.  The layers, their sizes and the He-normal init are
clcnn's (bench/recipe.py); LRN's alpha is converted to PyTorch's form
(lrn below; nn.LocalResponseNorm's alpha would be 5 * 1e-4).
Usage: /usr/bin/python3 bench/alexnet_mini_pytorch.py [SEED [EPOCHS
[TRAIN [LR]]]] (defaults 1, 2, 50000 training images, 0.01; batch 32): the
first TRAIN images of the training part; data from /usr/share/datasets/fashion-mnist
or CLCNN_DATA; CLCNN_TORCH_THREADS threads (default 1)."""
import math
import os
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import recipe  # noqa: E402


def lrn(x, size=5, alpha=1e-4, beta=0.75, k=2.0):
    """LRN across channels in the paper's (and clcnn's) form, alpha not
    divided by size: x / (k + alpha * sum of x^2 over the size channels
    centred on c)^beta; the same as nn.LocalResponseNorm(size, alpha *
    size, beta, k) for odd sizes, written with a cumulative sum because
    PyTorch's (avg_pool3d) took most of a training step here."""
    sq = F.pad(x * x, (0, 0, 0, 0, size // 2 + 1, size // 2)).cumsum(1)
    window = sq[:, size:] - sq[:, :-size]
    return x / (k + alpha * window).pow(beta)


class AlexNetMini(nn.Module):
    """The layers of the built-in spec alexnet-mini (src/model/spec_builtin.c)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 5, padding=2)  # same
        self.conv2 = nn.Conv2d(16, 32, 5, padding=2, groups=2)
        self.conv3 = nn.Conv2d(32, 48, 3, padding=1)
        self.conv4 = nn.Conv2d(48, 48, 3, padding=1, groups=2)
        self.conv5 = nn.Conv2d(48, 32, 3, padding=1, groups=2)
        self.pool = nn.MaxPool2d(3, 2)  # overlapping, valid: 28 -> 13 -> 6 -> 2
        self.fc1 = nn.Linear(128, 128)
        self.fc2 = nn.Linear(128, 128)
        self.fc3 = nn.Linear(128, 10)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        x = self.pool(lrn(torch.relu(self.conv1(x))))
        x = self.pool(lrn(torch.relu(self.conv2(x))))
        x = torch.relu(self.conv3(x))
        x = torch.relu(self.conv4(x))
        x = self.pool(torch.relu(self.conv5(x)))
        x = x.permute(0, 2, 3, 1).flatten(1)  # NHWC flatten order, as clcnn
        x = torch.relu(self.fc1(self.drop(x)))
        x = torch.relu(self.fc2(self.drop(x)))
        return self.fc3(x)


def init(model):
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, (nn.Conv2d, nn.Linear)):
                fan_in = mod.weight[0].numel()  # kh*kw*c_prev/groups, as clcnn's
                std = math.sqrt(2.0 / fan_in) / 0.87962566103423978
                nn.init.trunc_normal_(mod.weight, std=std, a=-2 * std, b=2 * std)
                nn.init.zeros_(mod.bias)


def augment(xb, gen):
    """Crop 28x28 at a random offset of the batch padded by 4 zeros, and
    flip half of the images left-right."""
    n = xb.shape[0]
    padded = F.pad(xb, (4, 4, 4, 4))
    dy = torch.randint(0, 9, (n,), generator=gen)
    dx = torch.randint(0, 9, (n,), generator=gen)
    out = torch.stack([padded[i, :, dy[i] : dy[i] + 28, dx[i] : dx[i] + 28] for i in range(n)])
    flip = torch.rand(n, generator=gen) < 0.5
    out[flip] = out[flip].flip(3)
    return out


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    count = int(sys.argv[3]) if len(sys.argv) > 3 else recipe.TRAIN_COUNT
    lr = float(sys.argv[4]) if len(sys.argv) > 4 else 0.01
    torch.set_num_threads(int(os.environ.get("CLCNN_TORCH_THREADS", "1")))
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1000)
    x, y, xt, yt = recipe.load_fashion(os.environ.get("CLCNN_DATA", "/usr/share/datasets/fashion-mnist"))
    X = torch.from_numpy(x[:count].transpose(0, 3, 1, 2).astype("float32") / 255)
    Y = torch.from_numpy(y[:count])
    m = AlexNetMini()
    init(m)
    weights = [p for n, p in m.named_parameters() if n.endswith("weight")]
    biases = [p for n, p in m.named_parameters() if n.endswith("bias")]
    opt = torch.optim.SGD(
        [dict(params=weights, weight_decay=5e-4), dict(params=biases, weight_decay=0.0)], lr=lr, momentum=0.9
    )
    t0 = time.time()
    for e in range(epochs):
        m.train()
        perm = torch.randperm(len(X))
        for i in range(0, len(X), 32):
            b = perm[i : i + 32]
            opt.zero_grad()
            F.cross_entropy(m(augment(X[b], gen)), Y[b]).backward()
            opt.step()
        print(f"seed {seed} epoch {e + 1}/{epochs} done, {time.time() - t0:.0f} s", flush=True)
    m.eval()
    with torch.no_grad():
        Xt = torch.from_numpy(xt.transpose(0, 3, 1, 2).astype("float32") / 255)
        acc = (m(Xt).argmax(1) == torch.from_numpy(yt)).float().mean().item()
    print(f"torch alexnet-mini seed {seed} epochs {epochs} train {len(X)} lr {lr}: test accuracy {acc:.4f}", flush=True)


if __name__ == "__main__":
    main()
