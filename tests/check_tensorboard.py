"""Reads `clcnn train --logdir`'s event file back with TensorBoard's own
reader and checks every value against the run's other outputs, for
tests/test_tensorboard.sh.  Runs in the tests' TensorBoard virtual
environment (scripts/setup.sh makes build/tensorboard-venv).

  check_tensorboard.py LOGDIR METRICS.csv MODEL LIB TRAIN BATCH EPOCHS LR

LOGDIR must hold the run's one event file; METRICS.csv is its --metrics
file, MODEL its --save file, TRAIN the training-set size, BATCH the batch
size, EPOCHS the epochs and LR the --lr of the run.  LIB is libclcnn.so,
through which (ctypes, the public API) the saved model's parameters are
read for the histogram and image checks; "-" leaves those out (a sanitizer
build, which python cannot load), saying so.  TB_IMAGES=0 in the
environment: a build without libpng, whose logs must hold no image.

Exit status 0 when every check passes; each failure is printed."""
import csv, ctypes, io, math, os, re, struct, sys

import numpy as np
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.compat.proto import event_pb2
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c

failures = 0
U32 = 2.0 ** -24  # float32's unit roundoff: TensorBoard scalars are floats


def expect(what, ok, detail=""):
    global failures
    if not ok:
        failures += 1
        print("FAIL - %s%s" % (what, ": " + detail if detail else ""))


def records(path):
    """The TFRecord records of path, each CRC checked here."""
    data, out, pos = open(path, "rb").read(), [], 0
    while pos < len(data):
        head = data[pos:pos + 8]
        (n,) = struct.unpack("<Q", head)
        (hcrc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        body = data[pos + 12:pos + 12 + n]
        (dcrc,) = struct.unpack("<I", data[pos + 12 + n:pos + 16 + n])
        expect("record %d's length CRC" % len(out), hcrc == masked_crc32c(head))
        expect("record %d's data CRC" % len(out), dcrc == masked_crc32c(body))
        out.append(body)
        pos += 16 + n
    expect("the file ends at a record's end", pos == len(data))
    return out


class LayerConfig(ctypes.Structure):  # clcnn_layer_config of include/clcnn.h
    _fields_ = [("kind", ctypes.c_int), ("name", ctypes.c_char_p), ("type", ctypes.c_char_p),
                ("units", ctypes.c_size_t), ("kernel_h", ctypes.c_int), ("kernel_w", ctypes.c_int),
                ("stride_h", ctypes.c_int), ("stride_w", ctypes.c_int), ("padding", ctypes.c_int),
                ("activation", ctypes.c_int), ("mode", ctypes.c_int), ("in_shape", ctypes.c_size_t * 3),
                ("out_shape", ctypes.c_size_t * 3), ("lrn", ctypes.c_int * 4),
                ("later_fields", ctypes.c_char * 512)]  # room for fields a later version adds at the end


def model_layers(libpath, path):
    """[(name as `clcnn info` numbers it, config, weights, bias)] for each
    layer with parameters, read through the public API."""
    lib = ctypes.CDLL(libpath)
    lib.clcnn_errmsg.restype = ctypes.c_char_p
    lib.clcnn_model_layer_count.restype = ctypes.c_size_t
    lib.clcnn_model_param_size.restype = ctypes.c_size_t
    ctx, m = ctypes.c_void_p(), ctypes.c_void_p()
    if lib.clcnn_ctx_create(ctypes.byref(ctx), b"cpu") or lib.clcnn_model_load(ctx, ctypes.byref(m), path.encode()):
        sys.exit("clcnn: " + lib.clcnn_errmsg(ctx).decode())
    layers, counts = [], {}
    for i in range(lib.clcnn_model_layer_count(m)):
        c = LayerConfig()
        lib.clcnn_model_layer_config(m, ctypes.c_size_t(i), ctypes.byref(c))
        kind = c.name.decode()
        counts[kind] = counts.get(kind, 0) + 1
        params = []
        for which in (0, 1):
            n = lib.clcnn_model_param_size(m, ctypes.c_size_t(i), which)
            a = np.zeros(n, dtype=np.float32)
            if n and lib.clcnn_model_read_param(m, ctypes.c_size_t(i), which,
                                                a.ctypes.data_as(ctypes.c_void_p), ctypes.c_size_t(n)):
                sys.exit("clcnn: " + lib.clcnn_errmsg(ctx).decode())
            params.append(a)
        if params[0].size:
            layers.append(("%s_%d" % (kind, counts[kind]), c, params[0], params[1]))
    return layers


def tf_buckets(values):
    """TensorFlow's histogram of values (docs/tensorboard.md's rule, written
    out here independently of the C code)."""
    pos, v = [], 1.0e-12
    while v < 1.0e20:
        pos.append(v)
        v *= 1.1
    limits = np.array([-sys.float_info.max] + [-p for p in reversed(pos)] + [0.0] + pos + [sys.float_info.max])
    idx = np.minimum(np.searchsorted(limits, values.astype(np.float64), side="right"), len(limits) - 1)
    counts = np.bincount(idx, minlength=len(limits)).astype(np.float64)
    out_l, out_c, i = [], [], 0
    while i < len(limits):
        end, count = limits[i], counts[i]
        i += 1
        if count <= 0:
            while i < len(limits) and counts[i] <= 0:
                end, count = limits[i], counts[i]
                i += 1
        out_l.append(end)
        out_c.append(count)
    return out_l, out_c


def filter_image(w, kh, kw, cin, cout):
    """The filter grid the CLI draws (docs/tensorboard.md), from weights w."""
    w = w.astype(np.float64).reshape(kh, kw, cin, cout)
    cols = cin if cin > 1 else int(math.ceil(math.sqrt(cout)))
    rows = (cin * cout + cols - 1) // cols
    big = max(kh, kw)
    scale = 40 // big if big < 40 else 1
    th, tw, pad = kh * scale, kw * scale, 2
    img = np.zeros((rows * th + (rows + 1) * pad, cols * tw + (cols + 1) * pad), dtype=np.uint8)
    for f in range(cout):
        lo, hi = w[:, :, :, f].min(), w[:, :, :, f].max()
        for c in range(cin):
            t = f * cin + c
            y0, x0 = pad + t // cols * (th + pad), pad + t % cols * (tw + pad)
            k = np.rint((w[:, :, c, f] - lo) / (hi - lo) * 255.0) if hi > lo else np.full((kh, kw), 128.0)
            img[y0:y0 + th, x0:x0 + tw] = np.kron(k, np.ones((scale, scale))).astype(np.uint8)
    return img


def close(got, want, tol):
    return abs(got - want) <= tol


def main(logdir, metrics, model, lib, train, batch, epochs, lr):
    train, batch, epochs, lr = int(train), int(batch), int(epochs), float(lr)
    files = os.listdir(logdir)
    expect("one event file in the log directory", len(files) == 1, repr(files))
    name = files[0]
    m = re.match(r"^events\.out\.tfevents\.(\d+)\..+\.(\d+)\.clcnn$", name)
    expect("the file name is events.out.tfevents.SECONDS.HOST.PID.clcnn", m is not None, name)

    # The framing and the first record, read raw.
    recs = records(os.path.join(logdir, name))
    first = event_pb2.Event.FromString(recs[0]) if recs else None
    expect("the first record is the file version", first is not None and first.file_version == "brain.Event:2",
           repr(first))
    expect("the first record has a wall time", first is not None and first.wall_time > 1e9)

    ea = EventAccumulator(logdir, size_guidance={"scalars": 0, "histograms": 0, "images": 0,
                                                 "compressedHistograms": 0, "tensors": 0})
    ea.Reload()
    tags = ea.Tags()
    rows = list(csv.DictReader(open(metrics, newline="")))
    expect("the metrics file has a row per epoch", len(rows) == epochs, "%d rows" % len(rows))
    has_valid = rows and rows[0]["val_loss"] != ""
    epoch_tags = ["epoch/loss", "epoch/accuracy"] + (["epoch/val_loss", "epoch/val_accuracy"] if has_valid else []) + \
        ["epoch/seconds", "epoch/images_per_second"]
    step_tags = ["step/loss", "step/accuracy", "step/learning_rate", "step/images_per_second"]
    expect("the scalar tags", sorted(tags["scalars"]) == sorted(step_tags + epoch_tags), repr(tags["scalars"]))

    # Per epoch: the CSV's figures, rounded there to the decimals it prints.
    csv_cols = {"epoch/loss": ("loss", 6), "epoch/accuracy": ("accuracy", 6), "epoch/val_loss": ("val_loss", 6),
                "epoch/val_accuracy": ("val_accuracy", 6), "epoch/seconds": ("seconds", 3),
                "epoch/images_per_second": ("images_per_second", 1)}
    for tag in epoch_tags:
        if tag not in tags["scalars"]:
            continue
        ev = ea.Scalars(tag)
        expect(tag + ": one value per epoch at steps 1..E", [e.step for e in ev] == list(range(1, epochs + 1)),
               repr([e.step for e in ev]))
        col, dec = csv_cols[tag]
        for e, row in zip(ev, rows):
            want = float(row[col])
            expect("%s at epoch %d is the CSV's %s" % (tag, e.step, want),
                   close(e.value, want, 0.5 * 10 ** -dec + abs(want) * U32), repr(e.value))

    # Per step: consecutive global steps; each epoch's steps add up to the
    # epoch's figures (loss: weighted by batch sizes; accuracy: whole counts).
    per_epoch = -(-train // batch)
    sizes = [batch] * (per_epoch - 1) + [train - batch * (per_epoch - 1)]
    steps = {t: ea.Scalars(t) for t in step_tags if t in tags["scalars"]}
    want_steps = list(range(1, epochs * per_epoch + 1))
    for t, ev in steps.items():
        expect(t + ": steps 1..%d" % want_steps[-1], [e.step for e in ev] == want_steps,
               "%d values, steps %s..%s" % (len(ev), ev[0].step if ev else None, ev[-1].step if ev else None))
    if all(len(ev) == len(want_steps) for ev in steps.values()) and len(steps) == 4:
        for k, row in enumerate(rows):
            span = slice(k * per_epoch, (k + 1) * per_epoch)
            loss = [e.value for e in steps["step/loss"][span]]
            acc = [e.value for e in steps["step/accuracy"][span]]
            total = sum(l * n for l, n in zip(loss, sizes))
            tol = 0.5e-6 + sum(abs(l) * n for l, n in zip(loss, sizes)) * U32 / train
            expect("epoch %d: the steps' losses average to the CSV's loss" % (k + 1),
                   close(total / train, float(row["loss"]), tol), "%r vs %s" % (total / train, row["loss"]))
            counts = [a * n for a, n in zip(acc, sizes)]
            expect("epoch %d: each step's accuracy is a count over its batch" % (k + 1),
                   all(abs(c - round(c)) <= n * U32 for c, n in zip(counts, sizes)))
            expect("epoch %d: the steps' correct counts add up to the CSV's accuracy" % (k + 1),
                   close(sum(round(c) for c in counts) / train, float(row["accuracy"]), 0.5e-6))
        lr32 = float(np.float32(lr))
        expect("step/learning_rate is --lr", all(e.value == lr32 for e in steps["step/learning_rate"]))
        expect("step/images_per_second is positive",
               all(math.isfinite(e.value) and e.value > 0 for e in steps["step/images_per_second"]))

    # Histograms and the filter image.
    hist_tags = sorted(tags["histograms"])
    expect("histogram tags", all(re.match(r"^[a-z]+_\d+/(weights|bias)$", t) for t in hist_tags) and hist_tags,
           repr(hist_tags))
    for t in hist_tags:
        ev = ea.Histograms(t)
        expect(t + ": one histogram per epoch", [e.step for e in ev] == list(range(1, epochs + 1)))
        for e in ev:
            h = e.histogram_value
            expect("%s at epoch %d: the buckets hold num values" % (t, e.step), sum(h.bucket) == h.num)
            expect("%s at epoch %d: as many limits as buckets" % (t, e.step), len(h.bucket) == len(h.bucket_limit))
    with_images = os.environ.get("TB_IMAGES") != "0"
    if with_images:
        expect("image tags", tags["images"] == ["conv_1/filters"], repr(tags["images"]))
        images = ea.Images("conv_1/filters") if tags["images"] == ["conv_1/filters"] else []
        expect("conv_1/filters: one image per epoch", [e.step for e in images] == list(range(1, epochs + 1)))
    else:  # a build without libpng
        expect("no images without libpng", tags["images"] == [], repr(tags["images"]))
        print("skip - the filter images (a build without libpng)")
        images = []
    decoded = []
    for e in images:
        img = Image.open(io.BytesIO(e.encoded_image_string))
        expect("conv_1/filters at epoch %d is a greyscale PNG" % e.step, img.format == "PNG" and img.mode == "L")
        expect("conv_1/filters at epoch %d: the PNG's size is the event's" % e.step,
               img.size == (e.width, e.height), "%r vs %r" % (img.size, (e.width, e.height)))
        decoded.append(np.asarray(img))

    if lib == "-":
        print("skip - the histograms and image against the saved model (a sanitizer build: "
              "python cannot load the library)")
        return
    layers = model_layers(lib, model)
    want_tags = sorted("%s/%s" % (name, p) for name, _, _, b in layers for p in (["weights", "bias"] if b.size else
                                                                                 ["weights"]))
    expect("a weights and a bias histogram per layer with parameters", hist_tags == want_tags,
           "%r vs %r" % (hist_tags, want_tags))
    for name, _, w, b in layers:
        for part, v in (("weights", w), ("bias", b)):
            tag = name + "/" + part
            if not v.size or tag not in hist_tags:
                continue
            ev = ea.Histograms(tag)
            for e in ev:
                expect("%s at epoch %d counts the layer's %d values" % (tag, e.step, v.size),
                       e.histogram_value.num == v.size, repr(e.histogram_value.num))
            h = ev[-1].histogram_value
            v64 = v.astype(np.float64)
            bound = 2 * v.size * 2.0 ** -53  # two sums of v.size terms, in any order
            expect(tag + ": min and max are the saved model's", h.min == v64.min() and h.max == v64.max(),
                   "%r %r vs %r %r" % (h.min, h.max, v64.min(), v64.max()))
            expect(tag + ": the sum is the saved model's", close(h.sum, v64.sum(), bound * np.abs(v64).sum()),
                   "%r vs %r" % (h.sum, v64.sum()))
            expect(tag + ": the sum of squares is the saved model's",
                   close(h.sum_squares, (v64 * v64).sum(), bound * (v64 * v64).sum()),
                   "%r vs %r" % (h.sum_squares, (v64 * v64).sum()))
            limits, counts = tf_buckets(v)
            expect(tag + ": TensorFlow's buckets of the saved model's values",
                   list(h.bucket_limit) == limits and list(h.bucket) == counts,
                   "%d buckets vs %d" % (len(h.bucket), len(counts)))
    convs = [(name, c, w) for name, c, w, _ in layers if c.kind == 1]
    expect("a convolution whose filters the image shows", convs or not with_images)
    if convs and decoded:
        name, c, w = convs[0]
        want = filter_image(w, c.kernel_h, c.kernel_w, c.in_shape[2], c.units)
        got = decoded[-1]
        expect("the last filter image is the saved model's %s filters" % name,
               got.shape == want.shape and (got == want).all(),
               "shape %r vs %r" % (got.shape, want.shape) if got.shape != want.shape else
               "%d pixels differ" % int((got != want).sum()))


if __name__ == "__main__":
    if len(sys.argv) != 9:
        sys.exit(__doc__)
    main(*sys.argv[1:])
    if failures:
        print("%d failure(s)" % failures)
        sys.exit(1)
    print("ok   - TensorBoard reads back every value written")
