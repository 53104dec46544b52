#!/usr/bin/python3
"""clcnn against PyTorch on the same machine, in one run.

Trains the LeNet-5 recipe of DESIGN.md in PyTorch and measures, for PyTorch
and for clcnn on each backend (cpu, opencl):

  * training throughput at batch 32 (images/s, median over timed windows
    after warm-up);
  * single-image inference latency (median microseconds per call);
  * peak resident memory while training (ru_maxrss of a process that only
    loads the data and trains).

Each framework runs in its own subprocess.  clcnn's throughput and latency
come from `clcnn bench --json` (synthetic images, warm-up excluded, medians);
its peak memory from a `clcnn train` process on the same data as PyTorch
(os.wait4 gives its ru_maxrss), and that run's images/s is shown as a cross
check.  With --full, both frameworks train full epochs on the data and
clcnn's throughput comes from `clcnn train --metrics` instead.

Run with Debian's interpreter: /usr/bin/python3 bench/compare_pytorch.py
"""
import argparse
import csv
import importlib.util
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

TRAIN_COUNT = recipe.TRAIN_COUNT
DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
BATCH = 32
GNU_TIME = "/usr/bin/time"

# Targets of the "Performance" issue: (measure, backend) -> (kind, bound).
TARGETS = {
    ("train_ips", "cpu"): (">=", 2.0),
    ("train_ips", "opencl"): (">=", 1.0),
    ("latency_us", "cpu"): ("<=", 0.2),
    ("peak_rss_mib", "cpu"): ("<=", 0.25),
    ("peak_rss_mib", "opencl"): ("<=", 0.25),
}


def fail(msg):
    print("compare_pytorch: error: " + msg, file=sys.stderr)
    sys.exit(1)


def note(msg):
    print("compare_pytorch: " + msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------- data


def load_data(args):
    """uint8 images (n, 28, 28, 1) NHWC and int64 labels: the training part
    (first 50,000) plus the test images, held as uint8 like clcnn holds them."""
    import numpy as np

    if args.synthetic:
        rng = np.random.default_rng(1)
        x = rng.integers(0, 256, size=(TRAIN_COUNT, 28, 28, 1), dtype=np.uint8)
        y = rng.integers(0, 10, size=TRAIN_COUNT).astype(np.int64)
        xt = rng.integers(0, 256, size=(10000, 28, 28, 1), dtype=np.uint8)
        return x, y, xt
    x, y, xt, _ = recipe.load_fashion(args.data)
    return x, y, xt


def write_synthetic_npz(path):
    """The synthetic set in the MNIST.npz layout, for `clcnn train --data`."""
    import numpy as np

    rng = np.random.default_rng(1)
    parts = {}
    for name, n in (("train", 50000), ("valid", 10000), ("test", 10000)):
        parts["X_" + name] = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        parts["Y_" + name] = rng.integers(0, 10, size=n).astype(np.int32)
    np.savez(path, **parts)


# ----------------------------------------------------------- PyTorch worker


def torch_worker(args):
    """Runs in its own process; prints one JSON object on stdout."""
    import numpy as np
    import torch
    from torch import nn

    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    torch.manual_seed(1)

    model = recipe.lenet5()
    opt = recipe.adam(model)
    loss_fn = nn.CrossEntropyLoss()

    x_all, y_all, x_test = load_data(args)
    x_train = torch.from_numpy(np.ascontiguousarray(x_all))  # uint8 NHWC
    y_train = torch.from_numpy(np.ascontiguousarray(y_all))
    x_test = torch.from_numpy(np.ascontiguousarray(x_test))
    n = x_train.shape[0]
    gen = torch.Generator().manual_seed(1)

    def batches():
        while True:
            perm = torch.randperm(n, generator=gen)
            for i in range(0, n, BATCH):
                yield perm[i : i + BATCH]

    it = batches()
    losses = []

    def train_steps(count):
        model.train()
        images = 0
        for _ in range(count):
            idx = next(it)
            # NHWC uint8 -> NCHW float in [0, 1], per batch, as clcnn gathers.
            xb = x_train[idx].permute(0, 3, 1, 2).float().div_(255.0)
            yb = y_train[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            images += idx.numel()
        losses.append(float(loss))
        return images

    rates = []
    steps_per_epoch = (n + BATCH - 1) // BATCH
    if args.full:
        train_steps(steps_per_epoch)  # warm-up epoch
        for _ in range(args.epochs - 1):
            t0 = time.perf_counter()
            images = train_steps(steps_per_epoch)
            rates.append(images / (time.perf_counter() - t0))
    else:
        train_steps(args.warmup_steps)
        for _ in range(args.windows):
            t0 = time.perf_counter()
            images = train_steps(args.window_steps)
            rates.append(images / (time.perf_counter() - t0))
    rss_after_training = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    model.eval()
    lat = []
    with torch.no_grad():
        ones = [x_test[i : i + 1].permute(0, 3, 1, 2).float().div_(255.0) for i in range(64)]
        for i in range(20):
            model(ones[i % 64])
        for i in range(args.latency_calls):
            t0 = time.perf_counter_ns()
            model(ones[i % 64])
            lat.append((time.perf_counter_ns() - t0) / 1e3)
    print(
        json.dumps(
            {
                "torch_version": torch.__version__,
                "threads": torch.get_num_threads(),
                "train_ips": statistics.median(rates),
                "train_ips_windows": rates,
                "last_loss": losses[-1],
                "latency_us": statistics.median(lat),
                "peak_rss_training_kib": rss_after_training,
            }
        ),
        flush=True,
    )


# ------------------------------------------------------------- processes


def run_measured(cmd, env=None):
    """Runs cmd; returns (rc, stdout text, peak RSS in KiB, seconds).

    Linux carries a process's ru_maxrss over fork and execve, so a child
    started straight from this interpreter would never report less than the
    interpreter's own RSS.  GNU time (a small C program) forks the command
    and reports its ru_maxrss; without it, os.wait4 gives an upper bound."""
    t0 = time.perf_counter()
    rss_file = None
    if os.access(GNU_TIME, os.X_OK):
        fd, rss_file = tempfile.mkstemp(prefix="clcnn-rss-")
        os.close(fd)
        cmd = [GNU_TIME, "-f", "%M", "-o", rss_file] + cmd
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, env=env)
    out = p.stdout.read()
    p.stdout.close()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    maxrss = ru.ru_maxrss
    if rss_file:
        try:
            with open(rss_file) as f:
                maxrss = int(f.read().strip().splitlines()[-1])
        except (OSError, ValueError, IndexError):
            pass
        os.unlink(rss_file)
    return p.returncode, out.decode("utf-8", "replace"), maxrss, time.perf_counter() - t0


def run_torch(args):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "torch"] + worker_args(args)
    note("PyTorch: training and inference in a subprocess")
    rc, out, maxrss, secs = run_measured(cmd)
    if rc != 0:
        fail("the PyTorch worker failed (exit status %d)" % rc)
    res = json.loads(out.strip().splitlines()[-1])
    res["peak_rss_process_kib"] = maxrss
    res["seconds"] = secs
    return res


def worker_args(args):
    a = ["--data", args.data, "--warmup-steps", str(args.warmup_steps), "--windows", str(args.windows),
         "--window-steps", str(args.window_steps), "--latency-calls", str(args.latency_calls),
         "--epochs", str(args.epochs)]
    if args.synthetic:
        a.append("--synthetic")
    if args.full:
        a.append("--full")
    if args.torch_threads:
        a += ["--torch-threads", str(args.torch_threads)]
    return a


def run_clcnn_bench(args, tmp):
    path = os.path.join(tmp, "bench.json")
    cmd = [args.clcnn, "bench", "--json", path] + args.bench_args.split()
    if args.backends == "cpu":
        cmd += ["--device", "cpu"]
    elif args.backends == "opencl":
        cmd += ["--device", "opencl"]
    note("clcnn: " + " ".join(cmd))
    rc, out, _, _ = run_measured(cmd)
    sys.stderr.write(out)
    if rc != 0:
        fail("'%s' failed (exit status %d)" % (" ".join(cmd), rc))
    with open(path) as f:
        return json.load(f)


def run_clcnn_train(args, tmp, device, data):
    metrics = os.path.join(tmp, "metrics-%s.csv" % device)
    epochs = args.epochs if args.full else 1
    cmd = [args.clcnn, "train", "--device", device, "--data", data, "--epochs", str(epochs),
           "--batch-size", str(BATCH), "--metrics", metrics, "--quiet"]
    note("clcnn: " + " ".join(cmd))
    rc, out, maxrss, secs = run_measured(cmd)
    if rc != 0:
        fail("'%s' failed (exit status %d)" % (" ".join(cmd), rc))
    with open(metrics) as f:
        rows = list(csv.DictReader(f))
    rates = [float(r["images_per_second"]) for r in rows]
    return {"peak_rss_kib": maxrss, "epoch_ips": rates, "seconds": secs, "command": " ".join(cmd)}


# ------------------------------------------------------------------ report


def ratio_cell(measure, backend, clcnn_v, torch_v):
    if clcnn_v is None or torch_v is None or torch_v == 0:
        return "-", "-"
    r = clcnn_v / torch_v
    t = TARGETS.get((measure, backend))
    if not t:
        return "%.2f" % r, "(no target)"
    ok = r >= t[1] if t[0] == ">=" else r <= t[1]
    return "%.2f" % r, "%s %s: %s" % (t[0], fmt_bound(t[1]), "met" if ok else "NOT met")


def fmt_bound(b):
    return {0.2: "1/5", 0.25: "1/4"}.get(b, "%gx" % b)


def report(args, torch_res, bench, trains):
    mib = 1.0 / 1024.0
    print()
    print("clcnn vs PyTorch, LeNet-5, batch %d, %s data, %s" % (
        BATCH, "synthetic" if args.synthetic else "Fashion-MNIST", "full epochs" if args.full else
        "%d warm-up steps then %d windows of %d steps" % (args.warmup_steps, args.windows, args.window_steps)))
    print("PyTorch %s, %d thread(s) (torch.get_num_threads()%s); last training loss %.3f" % (
        torch_res["torch_version"], torch_res["threads"], ", set by --torch-threads" if args.torch_threads
        else ", default", torch_res["last_loss"]))
    for b in bench["backends"]:
        print("clcnn %s on %s: %s" % (bench["clcnn_version"], b["backend"], b["device"]))
    print()
    hdr = "%-34s %-7s %12s %12s %8s  %s" % ("measure", "backend", "clcnn", "PyTorch", "ratio", "target")
    print(hdr)
    print("-" * len(hdr))
    for b in bench["backends"]:
        be = b["backend"]
        tr = trains.get(be)
        if args.full and tr and len(tr["epoch_ips"]) > 1:
            c_ips = statistics.median(tr["epoch_ips"][1:])
        else:
            c_ips = b["train_images_per_s_batch32"]
        rows = [
            ("training throughput (images/s)", "train_ips", c_ips, torch_res["train_ips"], "%.0f"),
            ("single-image latency (us)", "latency_us", b["latency_us_batch1"], torch_res["latency_us"], "%.1f"),
            ("peak RSS while training (MiB)", "peak_rss_mib", tr["peak_rss_kib"] * mib if tr else None,
             torch_res["peak_rss_training_kib"] * mib, "%.1f"),
        ]
        for label, key, cv, tv, f in rows:
            r, t = ratio_cell(key, be, cv, tv)
            print("%-34s %-7s %12s %12s %8s  %s" % (label, be, f % cv if cv is not None else "-", f % tv, r, t))
    print()
    print("clcnn throughput and latency: %s; clcnn peak RSS: ru_maxrss of `clcnn train` (GNU time)." % (
        "`clcnn train --metrics`, median of epochs 2.." if args.full else
        "`clcnn bench --json` (synthetic data, medians after warm-up)"))
    print("PyTorch peak RSS: ru_maxrss of its worker right after training (its whole process: %.1f MiB)." % (
        torch_res["peak_rss_process_kib"] * mib))
    for be, tr in trains.items():
        print("cross-check: `clcnn train` on %s ran at %s images/s per epoch (warm-up included), %.0f s in all" % (
            be, ", ".join("%.0f" % r for r in tr["epoch_ips"]), tr["seconds"]))


# -------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description="clcnn against PyTorch: training throughput, latency, peak memory")
    ap.add_argument("--clcnn", default=os.path.join(ROOT, "build", "clcnn"), help="the clcnn program (default build/clcnn)")
    ap.add_argument("--data", default=DEFAULT_DATA, help="directory of MNIST-named IDX files (default %(default)s)")
    ap.add_argument("--synthetic", action="store_true", help="random images of the same shape instead of the data")
    ap.add_argument("--full", action="store_true", help="time full epochs (slow) instead of fixed step windows")
    ap.add_argument("--epochs", type=int, default=3, help="with --full: epochs, the first is warm-up (default 3)")
    ap.add_argument("--warmup-steps", type=int, default=50)
    ap.add_argument("--windows", type=int, default=5, help="timed windows (default 5)")
    ap.add_argument("--window-steps", type=int, default=100, help="training steps per window (default 100)")
    ap.add_argument("--latency-calls", type=int, default=200)
    ap.add_argument("--backends", choices=["all", "cpu", "opencl"], default="all",
                    help="clcnn backends to measure (all: cpu, and opencl when available)")
    ap.add_argument("--bench-args", default=None,
                    help="extra arguments for clcnn bench (default '--repeats 3 --images 2048'; --full: none)")
    ap.add_argument("--torch-threads", type=int, default=0, help="torch.set_num_threads (default: leave it)")
    ap.add_argument("--json", help="also write every figure as JSON to this file")
    ap.add_argument("--worker", choices=["torch"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.bench_args is None:
        args.bench_args = "" if args.full else "--repeats 3 --images 2048"
    if args.full and args.epochs < 2:
        fail("--full needs --epochs of at least 2 (the first is warm-up)")

    if args.worker == "torch":
        torch_worker(args)
        return
    if not os.access(args.clcnn, os.X_OK):
        fail("%s is not an executable; build clcnn first (bash scripts/setup.sh) or pass --clcnn" % args.clcnn)
    if not args.synthetic and not os.path.isdir(args.data):
        fail("%s is missing; install dataset-fashion-mnist or use --synthetic" % args.data)
    # Not imported here: this process should stay small (see run_measured).
    if importlib.util.find_spec("torch") is None:
        fail("PyTorch is missing: run with /usr/bin/python3 after 'bash scripts/setup.sh python3-torch'")

    with tempfile.TemporaryDirectory(prefix="clcnn-compare-") as tmp:
        data = args.data
        if args.synthetic:
            data = os.path.join(tmp, "synthetic.npz")
            write_synthetic_npz(data)
        torch_res = run_torch(args)
        bench = run_clcnn_bench(args, tmp)
        trains = {}
        for b in bench["backends"]:
            trains[b["backend"]] = run_clcnn_train(args, tmp, b["backend"], data)
    report(args, torch_res, bench, trains)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch": torch_res, "clcnn_bench": bench, "clcnn_train": trains,
                       "synthetic": args.synthetic, "full": args.full}, f, indent=1)


if __name__ == "__main__":
    main()
