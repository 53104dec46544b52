#!/usr/bin/env python3
"""Tests of the pip-installed clcnn package (python/test_package.sh installs
it and runs this from a directory outside the source tree):

  - the package imported is the installed one, and the libclcnn.so loaded
    into the process is the copy inside it;
  - on each backend (cpu; opencl when a device is found, else skipped):
    fit's history is the figures `clcnn train` prints for the same data,
    seed and batch size (its --metrics CSV), val_* equal evaluate() after
    the last epoch, evaluate() equals `clcnn eval` on the saved model and
    what predict()'s probabilities give, the CLI's model predicts exactly
    as the Python one, save/load round-trips, summary() prints the table
    of `clcnn info`;
  - from_spec models, one-hot labels, the progress output, and errors as
    exceptions with the library's message.

    test_package.py --venv DIR --cli PATH/clcnn --source SRC
"""

import argparse
import contextlib
import importlib.util
import io
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

ARGS = None
BACKENDS = ("cpu", "opencl")


def synthetic(rng, n, classes=10, size=28):
    """uint8 images whose class is where a bright block lies, over noise, so
    that a few steps of training lower the loss."""
    y = rng.integers(0, classes, n)
    x = rng.integers(0, 120, (n, size, size)).astype(np.uint8)
    for i, k in enumerate(y):
        r, c = divmod(int(k), 5)
        x[i, 2 + r * 12:2 + r * 12 + 10, 1 + c * 5:1 + c * 5 + 5] += 100
    return x, y.astype(np.uint8)


def cli(*args):
    out = subprocess.run([ARGS.cli] + list(args), capture_output=True, text=True)
    if out.returncode != 0:
        raise AssertionError("clcnn %s failed (%d): %s" % (" ".join(args), out.returncode, out.stderr))
    return out.stdout


class Installed(unittest.TestCase):
    def test_the_installed_package_and_its_library(self):
        import clcnn
        pkg = os.path.dirname(os.path.realpath(clcnn.__file__))
        self.assertTrue(pkg.startswith(os.path.realpath(ARGS.venv) + os.sep), pkg)
        self.assertFalse(pkg.startswith(os.path.realpath(ARGS.source) + os.sep + "python"), pkg)
        self.assertEqual(os.path.realpath(clcnn.library_path), os.path.join(pkg, "libclcnn.so"))
        with open("/proc/self/maps") as f:
            loaded = {line.split()[-1] for line in f if "libclcnn" in line}
        self.assertEqual(loaded, {os.path.join(pkg, "libclcnn.so")})
        self.assertRegex(clcnn.__version__, r"^\d+\.\d+\.\d+$")

    def test_the_example(self):
        data = "/usr/share/datasets/fashion-mnist"
        if not os.path.isdir(data):
            self.skipTest("%s is not installed (dataset-fashion-mnist)" % data)
        with tempfile.TemporaryDirectory() as d:
            out = subprocess.run([sys.executable, os.path.join(ARGS.source, "examples", "train_lenet5.py"),
                                  "--epochs", "2", "--limit", "1200", "--device", "cpu",
                                  "--save", os.path.join(d, "m.model"), "--plot", os.path.join(d, "h.png")],
                                 capture_output=True, text=True, cwd=d, env=dict(os.environ, MPLBACKEND="Agg"))
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertRegex(out.stdout, r"Epoch 2/2 - [0-9.]+s - loss: [0-9.]+ - accuracy: [0-9.]+ - val_loss: ")
            self.assertRegex(out.stdout, r"test: loss [0-9.]+ accuracy [0-9.]+ \(10000 images\)")
            self.assertTrue(os.path.exists(os.path.join(d, "m.model")))
            if importlib.util.find_spec("matplotlib"):
                self.assertTrue(os.path.exists(os.path.join(d, "h.png")))
            else:
                self.assertIn("matplotlib is not installed: the history as a table", out.stdout)


class Backend:
    """The checks that run on one backend (subclasses set DEVICE)."""
    DEVICE = None

    @classmethod
    def setUpClass(cls):
        import clcnn
        cls.tmp = tempfile.TemporaryDirectory()
        rng = np.random.default_rng(5)
        cls.data = {}
        for split, n in (("train", 256), ("valid", 64), ("test", 96)):
            cls.data[split] = synthetic(rng, n)
        cls.npz = os.path.join(cls.tmp.name, "d.npz")
        np.savez(cls.npz, X_train=cls.data["train"][0], Y_train=cls.data["train"][1],
                 X_valid=cls.data["valid"][0], Y_valid=cls.data["valid"][1],
                 X_test=cls.data["test"][0], Y_test=cls.data["test"][1])
        cls.model = clcnn.Model.lenet5(device=cls.DEVICE, seed=3)
        cls.history = cls.model.fit(*cls.data["train"], epochs=2, batch_size=32,
                                    validation_data=cls.data["valid"], verbose=0)

    @classmethod
    def tearDownClass(cls):
        cls.model.close()
        cls.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def test_device(self):
        self.assertEqual(self.model.backend, self.DEVICE)
        self.assertTrue(self.model.device.startswith(self.DEVICE + ": "), self.model.device)

    def test_history_is_clcnn_train_s(self):
        h = self.history
        self.assertEqual(sorted(h), ["accuracy", "loss", "val_accuracy", "val_loss"])
        self.assertIs(h.history, h)
        for k in h:
            self.assertEqual(len(h[k]), 2, k)
            self.assertTrue(all(np.isfinite(v) for v in h[k]), k)
        self.assertLess(h["loss"][1], h["loss"][0])
        for k in ("accuracy", "val_accuracy"):
            self.assertTrue(all(0 <= v <= 1 for v in h[k]), k)
        # val_* of the last epoch: evaluate on the same data, same batches
        vloss, vacc = self.model.evaluate(*self.data["valid"])
        self.assertEqual(h["val_loss"][-1], vloss)
        self.assertEqual(h["val_accuracy"][-1], vacc)
        # the same run through the program: --metrics has 6 decimals
        csv, saved = self.path("metrics.csv"), self.path("cli.model")
        cli("train", "--data", self.npz, "--device", self.DEVICE, "--seed", "3", "--epochs", "2",
            "--batch-size", "32", "--metrics", csv, "--save", saved, "--quiet")
        with open(csv) as f:
            rows = [line.strip().split(",") for line in f][1:]
        self.assertEqual(len(rows), 2)
        for e, row in enumerate(rows):
            for col, key in enumerate(("loss", "accuracy", "val_loss", "val_accuracy"), start=1):
                self.assertAlmostEqual(h[key][e], float(row[col]), delta=5.1e-7,
                                       msg="epoch %d %s: fit %r, clcnn train %s" % (e + 1, key, h[key][e], row[col]))
        # and the program's model predicts as this one does (same steps)
        import clcnn
        with clcnn.Model.load(saved, device=self.DEVICE) as theirs:
            x = self.data["test"][0]
            np.testing.assert_array_equal(theirs.predict(x), self.model.predict(x))

    def test_evaluate_predict_and_clcnn_eval(self):
        x, y = self.data["test"]
        loss, acc = self.model.evaluate(x, y)
        self.assertEqual(self.model.evaluate(x, y, return_dict=True), {"loss": loss, "accuracy": acc})
        # other batches: the same up to float32 summation order on the device
        loss20, acc20 = self.model.evaluate(x, y, batch_size=20)
        self.assertEqual(acc20, acc)
        self.assertAlmostEqual(loss20, loss, delta=1e-6 * loss)
        p = self.model.predict(x, batch_size=7)  # ragged last batch
        self.assertEqual(p.dtype, np.float32)
        self.assertEqual(p.shape, (len(x), 10))
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
        np.testing.assert_array_equal(p, self.model.predict(x, batch_size=96))
        self.assertEqual(acc, float(np.mean(p.argmax(axis=1) == y)))
        # cross-entropy from the probabilities (float32 softmax, float64 mean)
        self.assertAlmostEqual(loss, float(-np.mean(np.log(p[np.arange(len(y)), y].astype(np.float64)))),
                               delta=1e-5)
        # float images in [0, 1] are the uint8 ones scaled by 1/255
        np.testing.assert_array_equal(self.model.predict(x.astype(np.float32) / np.float32(255)), p)
        np.testing.assert_array_equal(self.model.predict(x[..., np.newaxis]), p)
        # the program's figures for the saved model
        saved = self.path("py.model")
        self.model.save(saved)
        out = cli("eval", "--model", saved, "--data", self.npz, "--split", "test", "--device", self.DEVICE)
        first = out.splitlines()[0]
        self.assertEqual(first, "test: loss %.4f accuracy %.4f (%d images)" % (loss, acc, len(x)))

    def test_one_hot_labels(self):
        x, y = self.data["test"]
        self.assertEqual(self.model.evaluate(x, np.eye(10, dtype=np.float32)[y]), self.model.evaluate(x, y))
        self.assertEqual(self.model.evaluate(x, y.astype(np.int64)), self.model.evaluate(x, y))

    def test_save_load_round_trip(self):
        import clcnn
        saved = self.path("round.model")
        self.model.save(saved)
        with clcnn.Model.load(saved, device=self.DEVICE) as back:
            x, y = self.data["test"]
            np.testing.assert_array_equal(back.predict(x), self.model.predict(x))
            self.assertEqual(back.evaluate(x, y), self.model.evaluate(x, y))
            self.assertEqual(back.layers, self.model.layers)
            self.assertEqual(back.input_shape, (28, 28, 1))
            self.assertEqual(back.count_params, 61706)

    def test_summary_is_clcnn_info_s(self):
        lines = []
        self.model.summary(print_fn=lines.append)
        self.assertEqual(lines[0], 'Model: "lenet5"')
        saved = self.path("info.model")
        self.model.save(saved)
        info = cli("info", saved).splitlines()
        # from "Input shape" through the closing rule after the totals
        start = next(i for i, line in enumerate(info) if line.startswith("Input shape:"))
        end = next(i for i, line in enumerate(info) if line.startswith("Non-trainable params")) + 2
        self.assertEqual(lines[1:1 + end - start], info[start:end])
        self.assertIn(" dense_3 (Dense)              (None, 10)                850", lines)
        self.assertEqual(lines[-1], "Classes: 10")

    def test_fit_is_repeatable_and_continues(self):
        import clcnn
        x, y = self.data["train"]
        with clcnn.Model.lenet5(device=self.DEVICE, seed=3) as a, clcnn.Model.lenet5(device=self.DEVICE, seed=3) as b:
            ha = a.fit(x[:64], y[:64], epochs=1, verbose=0)
            self.assertEqual(ha, b.fit(x[:64], y[:64], epochs=1, verbose=0, seed=3))
            self.assertEqual(sorted(ha), ["accuracy", "loss"])
            # a second fit goes on from the trained weights with the next seed
            h2 = a.fit(x[:64], y[:64], epochs=1, verbose=0)
            self.assertEqual(h2, b.fit(x[:64], y[:64], epochs=1, verbose=0, seed=4))
            self.assertLess(h2["loss"][0], ha["loss"][0])
            # validation_split: the last quarter, as validation_data would give it
            hs = a.fit(x[:64], y[:64], epochs=1, verbose=0, validation_split=0.25, seed=9)
            hd = b.fit(x[:48], y[:48], epochs=1, verbose=0, validation_data=(x[48:64], y[48:64]), seed=9)
            self.assertEqual(hs, hd)

    def test_from_spec(self):
        import clcnn
        spec = [{"type": "conv", "filters": 4, "kernel": 3, "padding": "valid", "activation": "relu"},
                {"type": "MaxPooling2D", "pool": 2},
                {"type": "lrn", "size": 3},
                {"type": "flatten"},
                {"type": "Dense", "units": 16, "activation": "tanh"},
                {"type": "dense", "units": 10},
                {"type": "activation", "activation": "softmax"}]
        x, y = self.data["train"]
        with clcnn.Model.from_spec((28, 28), spec, device=self.DEVICE, seed=2) as m:
            self.assertEqual(m.input_shape, (28, 28, 1))
            self.assertEqual(m.count_params, (9 * 4 + 4) + (13 * 13 * 4 * 16 + 16) + (16 * 10 + 10))
            layers = m.layers
            self.assertEqual(layers[0], {"type": "conv", "filters": 4, "kernel": (3, 3), "stride": (1, 1),
                                         "padding": "valid", "activation": "relu"})
            self.assertEqual(layers[1], {"type": "pool", "pool": (2, 2), "stride": (2, 2), "mode": "max"})
            h = m.fit(x, y, epochs=2, verbose=0)
            self.assertLess(h["loss"][1], h["loss"][0])
            # the layer list rebuilds the same model (same seed, same weights)
            with clcnn.Model.from_spec(m.input_shape, layers, device=self.DEVICE, seed=2) as again:
                self.assertEqual(again.layers, layers)
                self.assertEqual(again.fit(x, y, epochs=2, verbose=0), h)

    def test_progress_output(self):
        x, y = self.data["train"]

        class Tty(io.StringIO):
            def isatty(self):
                return True

        import clcnn
        with clcnn.Model.lenet5(device=self.DEVICE) as m:
            for verbose, stream, want in ((0, io.StringIO(), None), (1, io.StringIO(), "line"),
                                          (2, Tty(), "line"), (1, Tty(), "bar")):
                with contextlib.redirect_stdout(stream):
                    m.fit(x[:64], y[:64], epochs=2, verbose=verbose, validation_data=(x[64:96], y[64:96]))
                out = stream.getvalue()
                if want is None:
                    self.assertEqual(out, "")
                elif want == "line":
                    lines = out.splitlines()
                    self.assertEqual(len(lines), 2, out)
                    self.assertRegex(lines[1], r"^Epoch 2/2 - [0-9.]+s - loss: [0-9.]+ - accuracy: [0-9.]+ - "
                                               r"val_loss: [0-9.]+ - val_accuracy: [0-9.]+$")
                else:
                    self.assertIn("Epoch 1/2\n", out)
                    self.assertIn("\r64/64 [==============================] - ", out)
                    self.assertIn(" - val_accuracy: ", out)

    def test_a_failing_callback_stops_fit_and_raises(self):
        import clcnn
        import clcnn.model as cm
        x, y = self.data["train"]

        class Boom(Exception):
            pass

        def boom(*_):
            raise Boom("from the progress bar")

        class Tty(io.StringIO):
            def isatty(self):
                return True

        saved = cm.Progress.update
        cm.Progress.update = boom
        try:
            with clcnn.Model.lenet5(device=self.DEVICE) as m, contextlib.redirect_stdout(Tty()):
                with self.assertRaisesRegex(Boom, "from the progress bar"):
                    m.fit(x, y, epochs=3, verbose=1)
                self.assertEqual(len(m.predict(x[:2])), 2)  # still usable
        finally:
            cm.Progress.update = saved

    def test_errors(self):
        import clcnn
        m = self.model
        x, y = self.data["test"]
        cases = [
            (lambda: m.fit(x[:, :27], y), ValueError, r"\(27, 28, 1\) do not fit the model's input shape \(28, 28, 1\)"),
            (lambda: m.predict(np.zeros((2, 28, 28, 3), np.float32)), ValueError, "input shape"),
            (lambda: m.predict(np.zeros((28, 28))), ValueError, r"images \(n, h, w, c\)"),
            (lambda: m.predict(np.zeros((1, 28, 28), np.int32)), ValueError, "uint8 pixels or floats"),
            (lambda: m.predict(np.full((1, 28, 28), np.nan, np.float32)), ValueError, "NaN"),
            (lambda: m.evaluate(x, np.where(y == 3, 10, y)), ValueError, r"y\[\d+\] = 10 is not a class id"),
            (lambda: m.evaluate(x, -np.ones_like(y, dtype=np.int64)), ValueError, r"y\[0\] = -1 is not a class id"),
            (lambda: m.evaluate(x, y[:-1]), ValueError, "95 labels for 96 images"),
            (lambda: m.evaluate(x, np.ones((96, 10))), ValueError, "single 1 in each row"),
            (lambda: m.evaluate(x, np.eye(3)[y % 3]), ValueError, "3 columns for a model of 10 classes"),
            (lambda: m.evaluate(x, y + 0.5), ValueError, "whole numbers"),
            (lambda: m.fit(x, y, epochs=0), ValueError, "epochs must be"),
            (lambda: m.fit(x, y, batch_size=-1), ValueError, "batch_size must be"),
            (lambda: m.fit(x, y, verbose=3), ValueError, "verbose must be"),
            (lambda: m.fit(x, y, validation_data=x), ValueError, "validation_data must be a pair"),
            (lambda: m.fit(x, y, validation_split=1.5), ValueError, "validation_split"),
            (lambda: clcnn.Model.from_spec((28, 28, 1), [{"type": "conv2", "filters": 2}]), ValueError,
             r"layer 0: unknown type 'conv2'"),
            (lambda: clcnn.Model.from_spec((28, 28, 1), [{"type": "flatten"}, {"type": "dense", "unit": 3}]),
             ValueError, r"layer 1 \(dense\): unknown setting 'unit'"),
            (lambda: clcnn.Model.from_spec((28, 28, 1), [{"type": "conv", "filters": 2, "kernel": 3,
                                                          "activation": "gelu"}]),
             ValueError, "unknown layer 0 \\(conv\\) activation 'gelu'"),
            (lambda: clcnn.Model.from_spec((28, 28, 1), [{"type": "conv", "filters": 2}]), ValueError,
             "needs \"filters\" and \"kernel\""),
            (lambda: clcnn.Model.from_spec((28, 28, 1), []), ValueError, "must not be empty"),
            (lambda: clcnn.Model.from_spec((28, 28, 1, 1), [{"type": "flatten"}]), ValueError, "input_shape"),
            (lambda: clcnn.Model.lenet5(seed=-1), ValueError, "seed must be"),
        ]
        for fn, cls, pattern in cases:
            with self.subTest(pattern=pattern):
                with self.assertRaisesRegex(cls, pattern):
                    fn()

    def test_library_errors_carry_its_message(self):
        import clcnn
        # the library refuses the shape: ArgumentError, a ValueError and a clcnn.Error
        with self.assertRaises(clcnn.ArgumentError) as e:
            clcnn.Model.from_spec((4, 4), [{"type": "conv", "filters": 2, "kernel": 5, "padding": "valid"}],
                                  device=self.DEVICE)
        self.assertIsInstance(e.exception, ValueError)
        self.assertIsInstance(e.exception, clcnn.Error)
        self.assertEqual(e.exception.status, -2)
        self.assertRegex(str(e.exception), r"^layer 0 \(conv\): .*5x5.*4x4")
        # training a model that does not end in softmax
        x, y = self.data["test"]
        with clcnn.Model.from_spec((28, 28), [{"type": "flatten"}, {"type": "dense", "units": 10}],
                                   device=self.DEVICE) as m:
            with self.assertRaisesRegex(clcnn.ArgumentError, "softmax"):
                m.fit(x, y, epochs=1, verbose=0)
        # files
        missing = self.path("no-such.model")
        with self.assertRaises(clcnn.Error) as e:
            clcnn.Model.load(missing, device=self.DEVICE)
        self.assertIn(missing, str(e.exception))
        self.assertEqual(e.exception.status, -4)
        junk = self.path("junk.model")
        with open(junk, "wb") as f:
            f.write(b"not a model file at all\n" * 4)
        with self.assertRaises(clcnn.Error) as e:
            clcnn.Model.load(junk, device=self.DEVICE)
        self.assertEqual(e.exception.status, -5)
        self.assertIn(junk, str(e.exception))
        with self.assertRaises(clcnn.Error) as e:
            self.model.save(self.path("no-such-dir/m.model"))
        self.assertIn("no-such-dir", str(e.exception))
        # devices and closed models
        with self.assertRaisesRegex(clcnn.DeviceError, "gpu7"):
            clcnn.Model.lenet5(device="gpu7")
        m = clcnn.Model.lenet5(device=self.DEVICE)
        m.close()
        m.close()
        with self.assertRaisesRegex(ValueError, "closed"):
            m.predict(x)


class Cpu(Backend, unittest.TestCase):
    DEVICE = "cpu"


class OpenCL(Backend, unittest.TestCase):
    DEVICE = "opencl"

    @classmethod
    def setUpClass(cls):
        import clcnn
        try:
            clcnn.Model.lenet5(device="opencl").close()
        except clcnn.DeviceError as e:
            if e.status == -6:  # CLCNN_ERR_NO_DEVICE
                raise unittest.SkipTest("no OpenCL device: %s" % e)
            raise
        super().setUpClass()


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--venv", required=True)
    p.add_argument("--cli", required=True)
    p.add_argument("--source", required=True)
    ARGS, rest = p.parse_known_args()
    prog = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2)
    r = prog.result
    for test, reason in r.skipped:
        print("skipped: %s: %s" % (test, reason))
    return 0 if r.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
