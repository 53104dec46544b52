#!/usr/bin/python3
"""Draws the first convolution layer of a clcnn model as a PNG.

Reads a model file written by `clcnn train --save` (the format of
docs/model-format.md, parsed here with numpy alone) and writes a picture of

  top row:    the layer's kernels (input channel 0), each upscaled with
              nearest-neighbour and grey-scale normalised on its own
              (black = most negative weight, white = most positive);
  bottom row: one test image, then the layer's feature maps for that image
              (after the layer's activation), each normalised on its own;
              feature map k sits under kernel k.

The PNG is written with zlib and struct, so nothing beyond numpy is needed.

    /usr/bin/python3 docs/make_figure.py /tmp/lenet5.model
    /usr/bin/python3 docs/make_figure.py MODEL --out docs/lenet5-conv1.png --image 0
"""
import argparse
import gzip
import os
import struct
import sys
import zlib

import numpy as np

KINDS = {1: "conv", 2: "pool", 3: "flatten", 4: "dense", 5: "activation", 6: "lrn"}
# Format versions 2 and 3: each kind's fields in order ("f:" float32, else
# u32); version 1: these eight u32 columns for every kind.
FIELDS = {
    "conv": ["units", "kh", "kw", "sh", "sw", "padding", "act"],
    "pool": ["kh", "kw", "sh", "sw", "mode"],
    "flatten": [],
    "dense": ["units", "act"],
    "activation": ["act"],
    "lrn": ["size", "f:alpha", "f:beta", "f:k"],
}
V1_COLUMNS = ["units", "kh", "kw", "sh", "sw", "padding", "act", "mode"]
BACKGROUND = (205, 214, 228)  # light grey-blue: tells tiles from black and white weights


def read_model(path):
    """(input shape, layer list, [(layer index, weights, bias), ...])."""
    data = open(path, "rb").read()
    if len(data) < 40 or data[:8] != b"CLCNNMOD":
        raise ValueError(f"{path}: not a clcnn model file")
    version, flags, h, w, c, nlayers = struct.unpack_from("<6I", data, 8)
    if version not in (1, 2, 3):
        raise ValueError(f"{path}: model format version {version} (this script reads 1 to 3)")
    if struct.unpack_from("<I", data, len(data) - 4)[0] != zlib.crc32(data[:-4]):
        raise ValueError(f"{path}: checksum mismatch")
    if flags != 0:
        raise ValueError(f"{path}: unknown flags {flags:#x}")
    layers, pos = [], 32
    for _ in range(nlayers):
        layer = {"kind": KINDS[struct.unpack_from("<I", data, pos)[0]]}
        if version == 1:
            layer.update(zip(V1_COLUMNS, struct.unpack_from("<8I", data, pos + 4)))
            pos += 36
        else:
            names = FIELDS[layer["kind"]]
            if struct.unpack_from("<I", data, pos + 4)[0] != len(names):
                raise ValueError(f"{path}: a {layer['kind']} layer with another field count")
            for i, name in enumerate(names):
                fmt, name = ("<f", name[2:]) if name.startswith("f:") else ("<I", name)
                layer[name] = struct.unpack_from(fmt, data, pos + 8 + 4 * i)[0]
            pos += 8 + 4 * len(names)
        layers.append(layer)
    if version >= 3:  # the class names: a count, then each as a length and its bytes
        count = struct.unpack_from("<I", data, pos)[0]
        pos += 4
        for _ in range(count):
            pos += 4 + struct.unpack_from("<I", data, pos)[0]
    shape, params = (h, w, c), []
    for i, L in enumerate(layers):
        if L["kind"] == "conv":
            wshape = (L["kh"], L["kw"], shape[2], L["units"])
            if L["padding"] == 0:  # same
                oh, ow = -(-shape[0] // L["sh"]), -(-shape[1] // L["sw"])
            else:  # valid
                oh, ow = (shape[0] - L["kh"]) // L["sh"] + 1, (shape[1] - L["kw"]) // L["sw"] + 1
            shape = (oh, ow, L["units"])
        elif L["kind"] == "dense":
            wshape, shape = (shape[2], L["units"]), (1, 1, L["units"])
        elif L["kind"] == "pool":
            shape = ((shape[0] - L["kh"]) // L["sh"] + 1, (shape[1] - L["kw"]) // L["sw"] + 1, shape[2])
            continue
        elif L["kind"] == "flatten":
            shape = (1, 1, shape[0] * shape[1] * shape[2])
            continue
        else:
            continue
        pair = []
        for s in (wshape, (L["units"],)):
            n = int(np.prod(s))
            pair.append(np.frombuffer(data, "<f4", n, pos).reshape(s).astype(np.float64))
            pos += 4 * n
        params.append((i, pair[0], pair[1]))
    if pos != len(data) - 4:
        raise ValueError(f"{path}: the file size does not match its layer list")
    return (h, w, c), layers, params


def read_idx_images(path):
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    magic, n, rows, cols = struct.unpack_from(">4I", raw, 0)
    if magic != 0x803:
        raise ValueError(f"{path}: not an IDX image file")
    return np.frombuffer(raw, np.uint8, n * rows * cols, 16).reshape(n, rows, cols)


def conv_forward(a, W, b, layer):
    """One example (h, w, c) through a conv layer, DESIGN.md section 1."""
    kh, kw, _, _ = W.shape
    sh, sw = layer["sh"], layer["sw"]
    h, w = a.shape[:2]
    if layer["padding"] == 0:  # TensorFlow's SAME
        oh, ow = -(-h // sh), -(-w // sw)
        ph, pw = max((oh - 1) * sh + kh - h, 0), max((ow - 1) * sw + kw - w, 0)
        a = np.pad(a, ((ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    else:
        oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    z = np.zeros((oh, ow, W.shape[3])) + b
    for p in range(kh):
        for q in range(kw):
            z += a[p : p + (oh - 1) * sh + 1 : sh, q : q + (ow - 1) * sw + 1 : sw, :] @ W[p, q]
    act = layer["act"]
    if act == 1:
        return np.maximum(z, 0)
    if act == 2:
        return 1 / (1 + np.exp(-z))
    if act == 3:
        return np.tanh(z)
    if act == 4:
        e = np.exp(z - z.max(axis=2, keepdims=True))
        return e / e.sum(axis=2, keepdims=True)
    return z


def to_grey(x, scale):
    """Normalise to 0..255 (a constant tile is mid-grey) and upscale."""
    lo, hi = float(x.min()), float(x.max())
    g = np.full(x.shape, 128.0) if hi <= lo else (x - lo) / (hi - lo) * 255.0
    g = np.kron(np.rint(g), np.ones((scale, scale)))
    return g.astype(np.uint8)


def write_png(path, rgb):
    h, w, _ = rgb.shape
    rows = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(tag, body):
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">2I5B", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(png)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", help="a model file from `clcnn train --save`")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "lenet5-conv1.png"))
    ap.add_argument("--images", default="/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")
    ap.add_argument("--image", type=int, default=0, help="index of the test image (default 0)")
    ap.add_argument("--kernel-scale", type=int, default=10, help="upscaling of each kernel (default 10)")
    ap.add_argument("--map-scale", type=int, default=2, help="upscaling of the image and maps (default 2)")
    ap.add_argument("--gap", type=int, default=8, help="pixels between tiles (default 8)")
    args = ap.parse_args()

    in_shape, layers, params = read_model(args.model)
    if not params or layers[params[0][0]]["kind"] != "conv":
        sys.exit(f"{args.model}: the first layer with weights is not a convolution")
    li, W, b = params[0]
    layer = layers[li]
    images = read_idx_images(args.images)
    if images.shape[1:] != in_shape[:2] or in_shape[2] != 1:
        sys.exit(f"{args.images}: images {images.shape[1:]} do not fit the model's input {in_shape}")
    x = images[args.image].astype(np.float64)[:, :, None] / 255.0
    if li != 0:
        sys.exit(f"{args.model}: the first layer is not a convolution")
    a = conv_forward(x, W, b, layer)

    k = W.shape[3]
    kernels = [to_grey(W[:, :, 0, j], args.kernel_scale) for j in range(k)]
    maps = [to_grey(a[:, :, j], args.map_scale) for j in range(k)]
    source = to_grey(x[:, :, 0], args.map_scale)
    cell = max(max(t.shape[0] for t in kernels + maps + [source]), max(t.shape[1] for t in kernels + maps + [source]))
    g = args.gap
    cols = k + 1  # column 0: the input image (bottom row only)
    H, Wd = g + 2 * (cell + g), g + cols * (cell + g)
    canvas = np.empty((H, Wd, 3), np.uint8)
    canvas[:] = BACKGROUND

    def place(tile, row, col):
        y = g + row * (cell + g) + (cell - tile.shape[0]) // 2
        xx = g + col * (cell + g) + (cell - tile.shape[1]) // 2
        canvas[y : y + tile.shape[0], xx : xx + tile.shape[1], :] = tile[:, :, None]

    for j in range(k):
        place(kernels[j], 0, j + 1)
        place(maps[j], 1, j + 1)
    place(source, 1, 0)
    write_png(args.out, canvas)
    print(f"{args.out}: {k} kernels {W.shape[0]}x{W.shape[1]} of layer {li + 1}, feature maps of test image "
          f"{args.image}; {Wd}x{H} pixels")


if __name__ == "__main__":
    main()
