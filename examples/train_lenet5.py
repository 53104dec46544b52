#!/usr/bin/env python3
"""Trains LeNet-5 on Fashion-MNIST from numpy arrays with clcnn's Python
package, then plots the training history (matplotlib, if installed) or
prints it.

    pip install .                                    # from the repository
    python3 examples/train_lenet5.py                 # 5 epochs, as `clcnn train`
    python3 examples/train_lenet5.py --epochs 1 --limit 6000 --device cpu --save lenet5.model

The data are the IDX files Debian's dataset-fashion-mnist installs in
/usr/share/datasets/fashion-mnist (the clcnn program's default data), read
here with numpy alone.  As `clcnn train` does, the last sixth of the
training images is held out for validation, and with the same --seed the
figures are the same as the program's.
"""

import argparse
import gzip
import os
import sys

import numpy as np

import clcnn

DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    """An IDX file (raw or .gz) as a uint8 array: (n, rows, cols) images or (n,) labels."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 8 or data[:2] != b"\0\0" or data[2] != 0x08:
        sys.exit("%s: not an IDX file of unsigned bytes" % path)
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank)
    if body.size != int(np.prod(dims)):
        sys.exit("%s: %d bytes of data for a shape of %s" % (path, body.size, dims))
    return body.reshape(dims)


def load(directory, split):
    def path(kind):
        base = os.path.join(directory, "%s-%s-idx%d-ubyte" % (split, kind, 3 if kind == "images" else 1))
        return base if os.path.exists(base) else base + ".gz"
    return read_idx(path("images")), read_idx(path("labels"))


def show(history):
    try:
        import matplotlib
        matplotlib.use("Agg")  # a file, whatever the display
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: the history as a table")
        keys = list(history)
        print("epoch  " + "  ".join("%12s" % k for k in keys))
        for e in range(len(history["loss"])):
            print("%5d  " % (e + 1) + "  ".join("%12.4f" % history[k][e] for k in keys))
        return None
    epochs = range(1, len(history["loss"]) + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for ax, key in ((left, "loss"), (right, "accuracy")):
        ax.plot(epochs, history[key], "o-", label="training")
        if "val_" + key in history:
            ax.plot(epochs, history["val_" + key], "o-", label="validation")
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.legend()
    return fig


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=DEFAULT_DATA, help="directory of the MNIST-named IDX files")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--limit", type=int, default=0, help="use only the first N training images (0: all)")
    p.add_argument("--device", default="auto", help="auto, cpu, opencl or opencl:P:D")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--save", help="save the trained model to this file")
    p.add_argument("--plot", default="lenet5-history.png", help="where the history plot goes")
    args = p.parse_args()
    if not os.path.isdir(args.data):
        sys.exit("%s not found: apt-get install dataset-fashion-mnist, or pass --data DIR" % args.data)

    x_train, y_train = load(args.data, "train")
    x_test, y_test = load(args.data, "t10k")
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]

    with clcnn.Model.lenet5(device=args.device, seed=args.seed) as model:
        print("device:", model.device)
        model.summary()
        history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                            validation_split=1 / 6)
        loss, accuracy = model.evaluate(x_test, y_test)
        print("test: loss %.4f accuracy %.4f (%d images)" % (loss, accuracy, len(x_test)))
        probs = model.predict(x_test[:5])
        print("first test images: predicted", probs.argmax(axis=1).tolist(), "true", y_test[:5].tolist())
        if args.save:
            model.save(args.save)
            print("saved the model to", args.save)
    fig = show(history)
    if fig is not None:
        fig.savefig(args.plot)
        print("plotted the history to", args.plot)


if __name__ == "__main__":
    main()
