"""Test accuracy of the LeNet-5 recipe (DESIGN.md §2) in PyTorch: TF-same padding,
truncated He-normal init, Adam 1e-3/0.9/0.999/1e-7, batch 32, 5 epochs on the
first 50,000 Fashion-MNIST training images; compare with `clcnn train --seed S`.
Usage: /usr/bin/python3 bench/accuracy_pytorch.py [SEED]"""
import gzip, sys, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
seed = int(sys.argv[1]) if len(sys.argv) > 1 else 1
torch.manual_seed(seed); np.random.seed(seed)
def idx(p):
    d = gzip.open(p).read()
    n = int.from_bytes(d[4:8], 'big')
    if d[3] == 3:
        return np.frombuffer(d, np.uint8, offset=16).reshape(n, 28, 28)
    return np.frombuffer(d, np.uint8, offset=8)
D = '/usr/share/datasets/fashion-mnist/'
X = idx(D + 'train-images-idx3-ubyte.gz').astype(np.float32) / 255; Y = idx(D + 'train-labels-idx1-ubyte.gz').astype(np.int64)
Xt = idx(D + 't10k-images-idx3-ubyte.gz').astype(np.float32) / 255; Yt = idx(D + 't10k-labels-idx1-ubyte.gz').astype(np.int64)
X, Y = torch.tensor(X[:50000, None]), torch.tensor(Y[:50000])
Xt, Yt = torch.tensor(Xt[:, None]), torch.tensor(Yt)
class L(nn.Module):
    def __init__(s):
        super().__init__()
        s.c1 = nn.Conv2d(1, 6, 5, padding=2); s.c2 = nn.Conv2d(6, 16, 5)
        s.f1 = nn.Linear(400, 120); s.f2 = nn.Linear(120, 84); s.f3 = nn.Linear(84, 10)
        for m in [s.c1, s.c2, s.f1, s.f2, s.f3]:
            fan = m.weight[0].numel(); std = (2 / fan) ** 0.5 / 0.87962566103423978
            nn.init.trunc_normal_(m.weight, 0, std, -2 * std, 2 * std); nn.init.zeros_(m.bias)
    def forward(s, x):
        x = F.max_pool2d(F.relu(s.c1(x)), 2); x = F.max_pool2d(F.relu(s.c2(x)), 2)
        x = x.permute(0, 2, 3, 1).flatten(1)
        return s.f3(F.relu(s.f2(F.relu(s.f1(x)))))
m = L(); opt = torch.optim.Adam(m.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
for e in range(5):
    perm = torch.randperm(50000)
    for i in range(0, 50000, 32):
        b = perm[i:i + 32]; opt.zero_grad(); loss = F.cross_entropy(m(X[b]), Y[b]); loss.backward(); opt.step()
with torch.no_grad():
    acc = (m(Xt).argmax(1) == Yt).float().mean().item()
print(f"torch seed {seed}: test accuracy {acc:.4f}")
