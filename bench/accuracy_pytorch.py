"""Test accuracy of the LeNet-5 recipe (DESIGN.md §2, bench/recipe.py) in
PyTorch: 5 epochs at batch 32 on the first 50,000 Fashion-MNIST training
images; compare the spread of several seeds with `clcnn train --seed S`.
Usage: /usr/bin/python3 bench/accuracy_pytorch.py [SEED [ADAM]] with ADAM
torch (PyTorch's form of Adam, the default) or tf (TensorFlow's, as
DESIGN.md and clcnn have it); data from /usr/share/datasets/fashion-mnist,
or CLCNN_DATA"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import recipe  # noqa: E402

seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
form = sys.argv[2] if len(sys.argv) > 2 else "torch"
torch.manual_seed(seed)
x, y, xt, yt = recipe.load_fashion(os.environ.get("CLCNN_DATA", "/usr/share/datasets/fashion-mnist"))
X = torch.from_numpy(x.transpose(0, 3, 1, 2).astype("float32") / 255)
Y = torch.from_numpy(y)
m = recipe.lenet5()
opt = recipe.adam(m, form)
for e in range(5):
    perm = torch.randperm(len(X))
    for i in range(0, len(X), 32):
        b = perm[i : i + 32]
        opt.zero_grad()
        F.cross_entropy(m(X[b]), Y[b]).backward()
        opt.step()
with torch.no_grad():
    Xt = torch.from_numpy(xt.transpose(0, 3, 1, 2).astype("float32") / 255)
    acc = (m(Xt).argmax(1) == torch.from_numpy(yt)).float().mean().item()
print(f"torch seed {seed} (Adam, {form} form): test accuracy {acc:.4f}")
