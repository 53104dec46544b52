#!/usr/bin/python3
"""clcnn against every framework a user would pick instead, in one run.

The anchors train (or, for ONNX Runtime, only run) the LeNet-5 recipe of
DESIGN.md §2 (bench/recipe.py) on the same Fashion-MNIST images, each in its
own process, in interleaved rounds: round 1 runs every anchor once, then
round 2 does, and so on, so that a change in the machine's load falls on
all of them alike.  Each anchor reports, per round:

  train32, train256  training images/s at batch 32 and 256 (the median of
                     timed windows after warm-up; batch assembly included)
  latency            batch-1 inference, median microseconds per call
  infer256           batch-256 inference images/s
  rss                peak resident memory of a process that loaded the data
                     and trained (MiB)

The table gives, per figure and anchor, the median over the rounds and the
spread ((max - min) / median), and for each clcnn figure its ratio to the
best anchor of that figure (> 1 is better for clcnn in every row: for
latency and memory the ratio is anchor / clcnn).

Anchors: clcnn cpu and opencl (`clcnn bench --json`, and `clcnn train` for
the memory), PyTorch eager with Debian's OpenBLAS at 1 and 2 threads, ONNX
Runtime (the PyTorch model exported with torch.onnx.export) at 1 and 2
threads, TensorFlow/Keras at 1 and 2 threads, tinygrad on OpenCL (PoCL) and
on its CPU device.  The last three come from build/bench-venv, which
`bash bench/setup.sh` makes.

Run with Debian's interpreter: /usr/bin/python3 bench/compare.py
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import recipe  # noqa: E402  (torch-free until its functions run)

DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
VENV_PY = os.path.join(ROOT, "build", "bench-venv", "bin", "python")
GNU_TIME = "/usr/bin/time"
FIGURES = [  # key, label, format, larger is better
    ("train32", "training, batch 32 (images/s)", "%.0f", True),
    ("train256", "training, batch 256 (images/s)", "%.0f", True),
    ("latency", "inference latency, batch 1 (us)", "%.1f", False),
    ("infer256", "inference, batch 256 (images/s)", "%.0f", True),
    ("rss", "peak memory while training (MiB)", "%.0f", False),
]
# Issue 17's targets: (clcnn anchor, figure) -> ratio to the best other anchor
# (oriented so that larger is better), and which anchors count as "best".
TARGETS = {
    ("clcnn-cpu", "train32"): 1.5,
    ("clcnn-cpu", "train256"): 1.2,
    ("clcnn-cpu", "latency"): 1 / 0.7,
    ("clcnn-cpu", "infer256"): 1.0,
    ("clcnn-cpu", "rss"): 3.0,
    ("clcnn-opencl", "train32"): 1.0,
}


def note(msg):
    print("compare: " + msg, file=sys.stderr, flush=True)


def fail(msg):
    print("compare: error: " + msg, file=sys.stderr)
    sys.exit(1)


# ------------------------------------------------------------ worker helpers


def load_data(data_dir):
    """uint8 NHWC training images and labels, the test images."""
    x, y, xt, _ = recipe.load_fashion(data_dir)
    return x, y, xt


def batch_order(n, batch, rng):
    """An endless stream of shuffled index batches."""
    while True:
        perm = rng.permutation(n)
        for i in range(0, n - batch + 1, batch):
            yield perm[i : i + batch]


def timed_rate(step, batch, warmup, windows, steps):
    """images/s of step(), the median of windows after warm-up."""
    for _ in range(warmup):
        step()
    rates = []
    for _ in range(windows):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        rates.append(batch * steps / (time.perf_counter() - t0))
    return statistics.median(rates)


def timed_latency(call, calls):
    for _ in range(20):
        call()
    lat = []
    for _ in range(calls):
        t0 = time.perf_counter_ns()
        call()
        lat.append((time.perf_counter_ns() - t0) / 1e3)
    return statistics.median(lat)


def rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def train_figures(args, make_step, batch_sizes=(32, 256)):
    """make_step(batch) -> a function running one training step; returns
    train32/train256 and the peak RSS right after training."""
    out = {}
    for b in batch_sizes:
        steps = args.steps if b == 32 else max(2, args.steps // 8)
        out["train%d" % b] = timed_rate(make_step(b), b, args.warmup, args.windows, steps)
    out["rss"] = rss_mib()
    return out


def infer_figures(args, predict, xt):
    """predict(uint8 NHWC batch) -> logits; latency and batch-256 rate."""
    ones = [xt[i : i + 1] for i in range(64)]
    k = [0]

    def one():
        k[0] += 1
        predict(ones[k[0] % 64])

    big = xt[:256]
    calls = max(4, args.steps // 4)
    return {"latency": timed_latency(one, args.latency_calls),
            "infer256": timed_rate(lambda: predict(big), 256, 2, args.windows, calls)}


def blas_library():
    """The BLAS this process has loaded (from /proc/self/maps)."""
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            p = line.split()[-1]
            if "blas" in os.path.basename(p).lower():
                libs.add(os.path.realpath(p))
    return ", ".join(sorted(libs)) or "none loaded"


# ------------------------------------------------------------------ workers


def worker_torch(args):
    import numpy as np
    import torch
    from torch import nn

    import warnings

    warnings.filterwarnings("ignore", message="The given NumPy array is not writable")  # never written
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(1)
    x, y, xt = load_data(args.data)
    xs, ys = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(np.ascontiguousarray(y))
    model = recipe.lenet5()
    opt = recipe.adam(model)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(1)

    def make_step(batch):
        order = batch_order(len(xs), batch, rng)

        def step():
            idx = torch.from_numpy(next(order))
            xb = xs[idx].permute(0, 3, 1, 2).float().div_(255.0)
            opt.zero_grad(set_to_none=True)
            loss_fn(model(xb), ys[idx]).backward()
            opt.step()

        return step

    model.train()
    res = train_figures(args, make_step)
    model.eval()

    def predict(u8):
        with torch.no_grad():
            return model(torch.from_numpy(u8).permute(0, 3, 1, 2).float().div_(255.0))

    res.update(infer_figures(args, predict, xt))
    res["version"] = "PyTorch %s, BLAS %s" % (torch.__version__, blas_library())
    if args.export:
        model.eval()
        torch.onnx.export(model, torch.zeros(1, 1, 28, 28), args.export, input_names=["x"], output_names=["logits"],
                          dynamic_axes={"x": {0: "n"}, "logits": {0: "n"}}, opset_version=13)
    return res


def worker_onnxruntime(args):
    import numpy as np
    import onnxruntime as ort

    _, _, xt = load_data(args.data)
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(args.model, so, providers=["CPUExecutionProvider"])

    def predict(u8):
        xb = np.ascontiguousarray(u8.transpose(0, 3, 1, 2), dtype=np.float32) * np.float32(1 / 255.0)
        return sess.run(None, {"x": xb})[0]

    res = infer_figures(args, predict, xt)
    res["version"] = "ONNX Runtime %s" % ort.__version__
    return res


def worker_tensorflow(args):
    import numpy as np

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.random.set_seed(1)
    x, y, xt = load_data(args.data)
    init = tf.keras.initializers.HeNormal(seed=1)  # truncated normal, std sqrt(2/fan_in)
    L = tf.keras.layers
    model = tf.keras.Sequential([
        tf.keras.Input((28, 28, 1)),
        L.Conv2D(6, 5, padding="same", activation="relu", kernel_initializer=init),
        L.MaxPooling2D(2),
        L.Conv2D(16, 5, activation="relu", kernel_initializer=init),
        L.MaxPooling2D(2),
        L.Flatten(),
        L.Dense(120, activation="relu", kernel_initializer=init),
        L.Dense(84, activation="relu", kernel_initializer=init),
        L.Dense(10, kernel_initializer=init),
    ])
    opt = tf.keras.optimizers.Adam(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    # Fixed signatures: one trace each, whatever array is passed.
    @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.uint8), tf.TensorSpec([None], tf.int64)])
    def train_step(u8, labels):
        xb = tf.cast(u8, tf.float32) / 255.0
        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(xb, training=True))
        opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.uint8)])
    def infer(u8):
        return model(tf.cast(u8, tf.float32) / 255.0, training=False)

    rng = np.random.default_rng(1)

    def make_step(batch):
        order = batch_order(len(x), batch, rng)

        def step():
            idx = next(order)
            train_step(tf.convert_to_tensor(x[idx]), tf.convert_to_tensor(y[idx]))

        return step

    res = train_figures(args, make_step)
    res.update(infer_figures(args, lambda u8: infer(tf.convert_to_tensor(u8)).numpy(), xt))
    res["version"] = "TensorFlow %s (Keras %s)" % (tf.__version__, tf.keras.__version__)
    return res


def worker_tinygrad(args):
    import numpy as np

    os.environ["DEV"] = args.tiny_device  # read when tinygrad is imported
    from tinygrad import Device, Tensor, TinyJit, nn
    from tinygrad.helpers import Context

    x, y, xt = load_data(args.data)
    x, xt = np.array(x), np.array(xt)  # writable copies: tinygrad's OpenCL upload refuses read-only buffers
    Tensor.manual_seed(1)

    class LeNet5:
        def __init__(self):
            self.c1, self.c2 = nn.Conv2d(1, 6, 5, padding=2), nn.Conv2d(6, 16, 5)
            self.l1, self.l2, self.l3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

        def __call__(self, u8):  # uint8 NHWC
            h = u8.permute(0, 3, 1, 2).float() / 255.0
            h = self.c1(h).relu().max_pool2d(2)
            h = self.c2(h).relu().max_pool2d(2)
            h = h.permute(0, 2, 3, 1).flatten(1)
            return self.l3(self.l2(self.l1(h).relu()).relu())

    model = LeNet5()
    params = nn.state.get_parameters(model)
    opt = nn.optim.Adam(params, lr=1e-3, b1=0.9, b2=0.999, eps=1e-7)
    xs, ys = Tensor(x), Tensor(y.astype(np.int32))
    rng = np.random.default_rng(1)

    def make_step(batch):
        @TinyJit
        @Context(TRAINING=1)
        def jstep(idx):
            opt.zero_grad()
            loss = model(xs[idx]).sparse_categorical_crossentropy(ys[idx]).backward()
            opt.step()
            return loss.realize()

        order = batch_order(len(x), batch, rng)
        return lambda: jstep(Tensor(next(order).astype(np.int32))).item()

    res = train_figures(args, make_step)
    jits = {}

    def predict(u8):
        n = u8.shape[0]
        if n not in jits:
            jits[n] = TinyJit(lambda t: model(t).realize())
        return jits[n](Tensor(np.array(u8))).numpy()

    res.update(infer_figures(args, predict, xt))
    from importlib.metadata import version

    res["version"] = "tinygrad %s on %s" % (version("tinygrad"), Device.DEFAULT)
    return res


WORKERS = {"torch": worker_torch, "onnxruntime": worker_onnxruntime, "tensorflow": worker_tensorflow,
           "tinygrad": worker_tinygrad}


# ---------------------------------------------------------------- anchors


def worker_cmd(python, kind, args, threads=1, extra=()):
    return [python, os.path.abspath(__file__), "--worker", kind, "--data", args.data, "--threads", str(threads),
            "--warmup", str(args.warmup), "--windows", str(args.windows), "--steps", str(args.steps),
            "--latency-calls", str(args.latency_calls)] + list(extra)


def anchors(args, tmp):
    """name -> function running one round of it, returning its figures."""
    onnx_path = os.path.join(tmp, "lenet5.onnx")
    env1 = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    env2 = dict(os.environ, OPENBLAS_NUM_THREADS="2", OMP_NUM_THREADS="2")
    out = {}
    for dev in args.clcnn_devices:
        out["clcnn-" + dev] = lambda r, dev=dev: run_clcnn(args, tmp, dev, r)
    for t, env in ((1, env1), (2, env2)):
        extra = ("--export", onnx_path) if t == 1 else ()
        out["pytorch-%dt" % t] = lambda r, t=t, env=env, extra=extra: run_worker(
            worker_cmd("/usr/bin/python3", "torch", args, t, extra), env)
    if os.access(VENV_PY, os.X_OK):
        for t, env in ((1, env1), (2, env2)):
            out["onnxruntime-%dt" % t] = lambda r, t=t, env=env: run_worker(
                worker_cmd(VENV_PY, "onnxruntime", args, t, ("--model", onnx_path)), env)
        for t, env in ((1, env1), (2, env2)):
            out["tensorflow-%dt" % t] = lambda r, t=t, env=env: run_worker(
                worker_cmd(VENV_PY, "tensorflow", args, t), env)
        for dev, name in (("CL", "tinygrad-opencl"), ("CPU", "tinygrad-cpu")):
            out[name] = lambda r, dev=dev: run_worker(
                worker_cmd(VENV_PY, "tinygrad", args, 1, ("--tiny-device", dev)), env1)
    else:
        note("%s is missing (bash bench/setup.sh): ONNX Runtime, TensorFlow and tinygrad left out" % VENV_PY)
    return {k: v for k, v in out.items() if not args.only or any(k.startswith(o) for o in args.only)}


def run_measured(cmd, env=None):
    """(rc, stdout, peak RSS MiB of cmd itself): through GNU time, since
    Linux carries ru_maxrss over fork and execve from this interpreter."""
    fd, rss_file = tempfile.mkstemp(prefix="clcnn-rss-")
    os.close(fd)
    full = ([GNU_TIME, "-f", "%M", "-o", rss_file] if os.access(GNU_TIME, os.X_OK) else []) + cmd
    p = subprocess.run(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    rss = None
    try:
        with open(rss_file) as f:
            rss = int(f.read().strip().splitlines()[-1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    os.unlink(rss_file)
    if p.returncode != 0:
        sys.stderr.write(p.stderr.decode("utf-8", "replace")[-3000:])
    return p.returncode, p.stdout.decode("utf-8", "replace"), rss


def run_worker(cmd, env):
    rc, out, _ = run_measured(cmd, env)
    if rc != 0:
        return {"error": "exit status %d" % rc}
    return json.loads(out.strip().splitlines()[-1])


def run_clcnn(args, tmp, dev, rnd):
    path = os.path.join(tmp, "bench-%s.json" % dev)
    cmd = [args.clcnn, "bench", "--device", dev, "--json", path, "--repeats", str(args.clcnn_repeats),
           "--images", "2048"]
    rc, _, _ = run_measured(cmd)
    if rc != 0:
        return {"error": "'%s' exit status %d" % (" ".join(cmd), rc)}
    with open(path) as f:
        b = json.load(f)["backends"][0]
    res = {"train32": b["train_images_per_s_batch32"], "train256": b["train_images_per_s_batch256"],
           "latency": b["latency_us_batch1"], "infer256": b["infer_images_per_s_batch256"],
           "version": "clcnn %s, %s" % (args.clcnn_version, b["device"])}
    for k in ("launches_per_step", "waits_per_step", "launches_per_predict", "waits_per_predict"):
        if k in b:
            res[k] = b[k]
    # Each multiply-adding layer's GFLOP/s at batch 32, forward and backward.
    res["layers"] = {l["name"]: [l[d + "_flop"] / (l[d + "_ms"] * 1e6) for d in ("forward", "backward")]
                     for l in b["layers"] if l.get("forward_flop")}
    if rnd == 0:  # memory does not move with the load: one training run
        cmd = [args.clcnn, "train", "--device", dev, "--data", args.data, "--epochs", "1", "--quiet"]
        rc, _, rss = run_measured(cmd)
        res["rss"] = rss if rc == 0 else None
    return res


# ------------------------------------------------------------------ report


def summarise(rounds):
    """name -> figure -> (median, spread, values)."""
    out = {}
    for name, runs in rounds.items():
        out[name] = {}
        for key, *_ in FIGURES:
            vals = [r[key] for r in runs if r.get(key) is not None]
            if vals:
                med = statistics.median(vals)
                out[name][key] = (med, (max(vals) - min(vals)) / med if med else 0.0, vals)
    return out


def report(args, rounds, summ, peak):
    names = list(rounds)
    print()
    print("LeNet-5 (DESIGN.md §2), Fashion-MNIST, up to %d interleaved rounds; median (spread = (max-min)/median)"
          % args.rounds)
    for n in names:
        v = next((r.get("version") for r in rounds[n] if r.get("version")), None)
        errs = [r["error"] for r in rounds[n] if "error" in r]
        print("  %-16s %d round(s): %s%s" % (n, len(rounds[n]), v or "-", ("  [failed: %s]" % errs[0]) if errs else ""))
    print()
    w = 18
    print("%-34s" % "figure" + "".join("%*s" % (w, n) for n in names))
    for key, label, fmt, _ in FIGURES:
        row = "%-34s" % label
        for n in names:
            s = summ[n].get(key)
            row += "%*s" % (w, (fmt % s[0] + " (%.0f%%)" % (100 * s[1])) if s else "-")
        print(row)
    print()
    print("clcnn / best anchor (oriented: > 1 means clcnn is ahead; latency and memory are best / clcnn)")
    others = [n for n in names if not n.startswith("clcnn")]
    for key, label, fmt, larger in FIGURES:
        cands = [(summ[n][key][0], n) for n in others if key in summ[n]]
        if not cands:
            continue
        best_v, best_n = max(cands) if larger else min(cands)
        for n in names:
            if not n.startswith("clcnn") or key not in summ[n]:
                continue
            v = summ[n][key][0]
            ratio = v / best_v if larger else best_v / v
            t = TARGETS.get((n, key))
            tgt = " target >= %.2f: %s" % (t, "met" if ratio >= t else "NOT met") if t else ""
            print("  %-34s %-13s %10s vs %-16s %10s  ratio %.2f%s" % (label, n, fmt % v, best_n, fmt % best_v,
                                                                     ratio, tgt))
    tiny = summ.get("tinygrad-opencl", {}).get("train32")
    ocl = summ.get("clcnn-opencl", {}).get("train32")
    if tiny and ocl:
        r = ocl[0] / tiny[0]
        print("  %-34s %-13s %10.0f vs %-16s %10.0f  ratio %.2f target >= 4.00: %s" % (
            "training, batch 32, same PoCL device", "clcnn-opencl", ocl[0], "tinygrad-opencl", tiny[0], r,
            "met" if r >= 4 else "NOT met"))
    ort = summ.get("onnxruntime-1t", {}).get("latency")
    if ort and "clcnn-opencl" in summ and "latency" in summ["clcnn-opencl"]:
        r = summ["clcnn-opencl"]["latency"][0] / ort[0]
        print("  %-34s %-13s latency / ONNX Runtime 1t %.2f target <= 2.00: %s" % (
            "inference latency, batch 1", "clcnn-opencl", r, "met" if r <= 2 else "NOT met"))
    if peak:
        print()
        print("FP32 peak of this machine (FMA loop, %s): %.1f GFLOP/s per core, %.1f on all %d cores" % (
            peak["isa"], peak["per_core"], peak["all"], peak["cores"]))
        for n in names:
            s = summ[n].get("train32")
            if s:
                g = s[0] * recipe_train_flops() / 1e9
                print("  %-16s training at batch 32: %.2f GFLOP/s = %.1f%% of one core, %.1f%% of all" % (
                    n, g, 100 * g / peak["per_core"], 100 * g / peak["all"]))
        for n in names:
            per_round = [r["layers"] for r in rounds[n] if r.get("layers")]
            if not per_round:
                continue
            print("  %s per layer at batch 32 (clcnn bench; median GFLOP/s, %% of one core's peak):" % n)
            for layer in per_round[0]:
                cells = []
                for d, what in enumerate(("forward", "backward")):
                    g = statistics.median(r[layer][d] for r in per_round if layer in r)
                    cells.append("%s %.2f (%.1f%%)" % (what, g, 100 * g / peak["per_core"]))
                print("    %-8s %s" % (layer, ", ".join(cells)))
    for n in names:
        c = next((r for r in rounds[n] if r.get("launches_per_step") is not None), None)
        if c:
            print("%s: %s kernel launches and %s host waits per training step (batch 32); %s and %s per batch-1 "
                  "prediction" % (n, c["launches_per_step"], c["waits_per_step"], c["launches_per_predict"],
                                  c["waits_per_predict"]))


def recipe_train_flops():
    """FLOPs of one LeNet-5 training image: 3x the forward multiply-adds
    (forward, input gradient, weight gradient) less conv1's input gradient
    (the first layer needs none), 2 FLOPs each: 2.26 MFLOP."""
    conv1 = 28 * 28 * 6 * 25
    macs = conv1 + 10 * 10 * 16 * 150 + 400 * 120 + 120 * 84 + 84 * 10
    return 2 * (3 * macs - conv1)


def measure_peak(args):
    exe = os.path.join(ROOT, "build", "fma_peak")
    if not os.access(exe, os.X_OK):
        return None
    p = subprocess.run([exe], stdout=subprocess.PIPE, text=True)
    if p.returncode != 0:
        return None
    return json.loads(p.stdout)


def main():
    ap = argparse.ArgumentParser(description="clcnn against PyTorch, ONNX Runtime, TensorFlow and tinygrad")
    ap.add_argument("--clcnn", default=os.path.join(ROOT, "build", "clcnn"))
    ap.add_argument("--data", default=DEFAULT_DATA, help="directory of MNIST-named IDX files")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    ap.add_argument("--warmup", type=int, default=30, help="warm-up steps per figure (default 30)")
    ap.add_argument("--windows", type=int, default=3, help="timed windows per figure and round (default 3)")
    ap.add_argument("--steps", type=int, default=80, help="batch-32 steps per window (batch 256: 1/8)")
    ap.add_argument("--latency-calls", type=int, default=300)
    ap.add_argument("--clcnn-repeats", type=int, default=3, help="clcnn bench --repeats (default 3)")
    ap.add_argument("--clcnn-devices", default="cpu,opencl", help="clcnn backends (default cpu,opencl)")
    ap.add_argument("--only", default="", help="comma-separated anchor name prefixes to run")
    ap.add_argument("--json", help="also write every round's figures to this file (rewritten after each run)")
    ap.add_argument("--report", metavar="JSON", help="print the table of an earlier --json file (complete or not)")
    ap.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--export", help=argparse.SUPPRESS)
    ap.add_argument("--model", help=argparse.SUPPRESS)
    ap.add_argument("--tiny-device", default="CL", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(WORKERS[args.worker](args)), flush=True)
        return
    if args.report:
        with open(args.report) as f:
            saved = json.load(f)
        args.rounds = saved["rounds_run"]
        report(args, saved["rounds"], summarise(saved["rounds"]), saved["peak"])
        return
    args.clcnn_devices = [d for d in args.clcnn_devices.split(",") if d]
    args.only = [o for o in args.only.split(",") if o]
    if not os.access(args.clcnn, os.X_OK):
        fail("%s is not an executable; build clcnn first or pass --clcnn" % args.clcnn)
    if not os.path.isdir(args.data):
        fail("%s is missing; install dataset-fashion-mnist or pass --data" % args.data)
    args.clcnn_version = subprocess.run([args.clcnn, "--version"], stdout=subprocess.PIPE,
                                        text=True).stdout.strip().split()[-1]
    peak = measure_peak(args)
    with tempfile.TemporaryDirectory(prefix="clcnn-compare-") as tmp:
        todo = anchors(args, tmp)
        if any(k.startswith("onnxruntime") for k in todo) and "pytorch-1t" not in todo:
            fail("ONNX Runtime runs the model pytorch-1t exports: keep pytorch-1t in --only")
        rounds = {k: [] for k in todo}
        for r in range(args.rounds):
            for name, fn in todo.items():
                t0 = time.perf_counter()
                res = fn(r)
                rounds[name].append(res)
                if args.json:  # after every run, so that a cut-short run still has its figures
                    with open(args.json, "w") as f:
                        json.dump({"rounds": rounds, "rounds_run": r + 1, "peak": peak}, f, indent=1)
                note("round %d/%d %-16s %5.0f s  %s" % (r + 1, args.rounds, name, time.perf_counter() - t0,
                                                        res.get("error") or " ".join(
                                                            "%s=%.4g" % (k, res[k]) for k, *_ in FIGURES
                                                            if res.get(k) is not None)))
    report(args, rounds, summarise(rounds), peak)


if __name__ == "__main__":
    main()
