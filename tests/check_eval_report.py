"""Independent checks of `clcnn eval`'s report and `clcnn info`, for
tests/test_cli.sh.  Standard library only.

  make SRC.npz OUT.npz OUT.idx   a data set whose test split has mistakes,
                                 ties and classes without examples or never
                                 predicted; its test images also as IDX
  eval LIB MODEL DATA.npz        loss and accuracy from clcnn_model_evaluate
                                 (ctypes, the public API), as "loss acc"
  params LIB MODEL               clcnn_model_param_count through ctypes
  check DATA.npz PREDICT.out EVAL.out REPORT.csv N
                                 the report against figures worked out here
                                 from the labels and `clcnn predict`'s classes

Exit status 0 when every check passes; each failure is printed."""
import ast, csv, ctypes, io, re, struct, sys, zipfile

def read_npy(data):
    hlen = struct.unpack_from("<H", data, 8)[0]
    header = ast.literal_eval(data[10:10 + hlen].decode())
    body, shape = data[10 + hlen:], header["shape"]
    if header["descr"] == "|u1":
        return shape, bytes(body)
    if header["descr"] == "<i8":
        return shape, list(struct.unpack("<%dq" % shape[0], body))
    raise ValueError("unexpected dtype " + header["descr"])

def npy(dtype, shape, payload):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        dtype, "".join("%d, " % s for s in shape))
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + payload

def test_split(path):
    with zipfile.ZipFile(path) as z:
        (n, h, w), pixels = read_npy(z.read("X_test.npy"))
        _, labels = read_npy(z.read("Y_test.npy"))
    return [pixels[i * h * w:(i + 1) * h * w] for i in range(n)], labels, h, w

# The test split: images of classes 0..7 only (so class 9 has no examples and
# is never predicted); every class-7 image labelled 8 (so class 7 has no
# examples but predictions, and class 8 examples but no predictions); every
# third class-0 image labelled 3 (confident mistakes); then copies of the
# first three mistakes (exact ties, which the index must order).
def make(src, out, idx):
    images, labels, h, w = test_split(src)
    keep = [(img, y) for img, y in zip(images, labels) if y <= 7]
    test, zeros = [], 0
    for img, y in keep:
        if y == 7:
            y = 8
        elif y == 0:
            zeros += 1
            if zeros % 3 == 1:
                y = 3
        test.append((img, y))
    mistakes = [t for t in test if t[1] in (3, 8)][:3]
    test += mistakes
    pixels = b"".join(img for img, _ in test)
    n = len(test)
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(out, "w") as o:
        for name in z.namelist():
            if name not in ("X_test.npy", "Y_test.npy"):
                o.writestr(name, z.read(name))
        o.writestr("X_test.npy", npy("|u1", (n, h, w), pixels))
        o.writestr("Y_test.npy", npy("<i8", (n,), struct.pack("<%dq" % n, *[y for _, y in test])))
    with open(idx, "wb") as f:
        f.write(struct.pack(">IIII", 0x803, n, h, w) + pixels)

def library(path):
    lib = ctypes.CDLL(path)
    lib.clcnn_model_param_count.restype = ctypes.c_size_t
    lib.clcnn_errmsg.restype = ctypes.c_char_p
    return lib

def load(lib, model):
    ctx, m = ctypes.c_void_p(), ctypes.c_void_p()
    if lib.clcnn_ctx_create(ctypes.byref(ctx), b"cpu") or lib.clcnn_model_load(ctx, ctypes.byref(m), model.encode()):
        sys.exit("clcnn: " + lib.clcnn_errmsg(ctx).decode())
    return ctx, m

def evaluate(libpath, model, data):
    lib = library(libpath)
    ctx, m = load(lib, model)
    sets = [ctypes.c_void_p() for _ in range(3)]
    loss, acc = ctypes.c_double(), ctypes.c_double()
    if (lib.clcnn_data_load(ctx, data.encode(), *[ctypes.byref(s) for s in sets]) or
            lib.clcnn_model_evaluate(m, sets[2], ctypes.c_size_t(64), ctypes.byref(loss), ctypes.byref(acc))):
        sys.exit("clcnn: " + lib.clcnn_errmsg(ctx).decode())
    print("%.17g %.17g" % (loss.value, acc.value))

def params(libpath, model):
    lib = library(libpath)
    _, m = load(lib, model)
    print(lib.clcnn_model_param_count(m))

failures = 0
def expect(what, got, want):
    global failures
    if got != want:
        failures += 1
        print("FAIL - %s: got %r, want %r" % (what, got, want))

def check(data, predict_out, eval_out, report_csv, nerrors):
    _, labels, _, _ = test_split(data)
    pred, prob = [], []
    for line in open(predict_out):
        m = re.match(r"^\S+\[(\d+)\]: (\d+) \(([0-9.]+)\)$", line.strip())
        expect("predict line %d" % len(pred), bool(m) and int(m.group(1)) == len(pred), True)
        pred.append(int(m.group(2)))
        prob.append(m.group(3))
    n, k = len(labels), 10
    expect("predictions", len(pred), n)
    matrix = [[0] * k for _ in range(k)]
    for y, p in zip(labels, pred):
        matrix[y][p] += 1
    # Figures: undefined -> None; macro averages over the defined ones.
    rows = []
    for c in range(k):
        support, predicted, tp = sum(matrix[c]), sum(matrix[r][c] for r in range(k)), matrix[c][c]
        rows.append((tp / predicted if predicted else None, tp / support if support else None,
                     2.0 * tp / (support + predicted) if support + predicted else None, support, predicted))
    macro = []
    for i in range(3):
        vals = [r[i] for r in rows if r[i] is not None]
        macro.append(sum(vals) / len(vals) if vals else None)
    fmt = lambda v, f: "" if v is None else f % v

    # The CSV: header, one row per class, the macro row.
    table = list(csv.reader(open(report_csv, newline="")))
    expect("CSV header", table[0],
           ["class", "label", "precision", "recall", "f1", "support", "predicted"] + ["pred_%d" % j for j in range(k)])
    expect("CSV rows", len(table), k + 2)
    for c in range(k):
        want = [str(c), str(c)] + [fmt(v, "%.6f") for v in rows[c][:3]] + [str(rows[c][3]), str(rows[c][4])] + \
            [str(x) for x in matrix[c]]
        expect("CSV row of class %d" % c, table[1 + c], want)
    expect("CSV macro row", table[k + 1], ["macro", "macro average"] + [fmt(v, "%.6f") for v in macro] +
           [str(n), str(n)] + [""] * k)

    # The text: the evaluation line, the table, the matrix, the mistakes.
    lines = open(eval_out).read().splitlines()
    acc = re.match(r"^test: loss [0-9.]+ accuracy ([0-9.]+) \(%d images\)$" % n, lines[0])
    expect("accuracy of the first line", acc and acc.group(1), "%.4f" % (sum(matrix[c][c] for c in range(k)) / n))
    text = {}
    for line in lines:
        f = line.split()
        if len(f) == 5 and f[0].isdigit():
            text[int(f[0])] = f[1:]
        elif line.startswith("macro average"):
            text["macro"] = f[2:]
    for c in range(k):
        expect("table row of class %d" % c, text.get(c), [fmt(v, "%.4f") or "-" for v in rows[c][:3]] + [str(rows[c][3])])
    expect("table macro row", text.get("macro"), [fmt(v, "%.4f") or "-" for v in macro] + [str(n)])
    start = lines.index("confusion matrix (rows: true class, columns: predicted class)")
    expect("matrix header", lines[start + 1].split(), ["true", "\\", "predicted"] + [str(j) for j in range(k)])
    for c in range(k):
        expect("matrix row %d" % c, lines[start + 2 + c].split(), [str(c)] + [str(x) for x in matrix[c]])

    # Mistakes: all the mistakes there are when N is larger; in order of
    # probability (as predict printed it), then index; exact ties (the
    # copies at the end) in index order.
    mistakes = [i for i in range(n) if pred[i] != labels[i]]
    shown = min(nerrors, len(mistakes))
    head = lines.index("most confident mistakes (%d of %d)" % (shown, len(mistakes))) if nerrors else None
    if nerrors == 0:
        expect("no mistakes section", any(l.startswith("most confident") for l in lines), False)
        return
    listed = [l.split() for l in lines[head + 2:head + 2 + shown]]
    expect("mistakes listed", len(listed), shown)
    got = [int(r[0]) for r in listed]
    for r in listed:
        i = int(r[0])
        expect("mistake %d" % i, r[1:], [str(labels[i]), str(pred[i]), prob[i]])
    order = sorted(mistakes, key=lambda i: (-float(prob[i]), i))
    expect("the most confident mistakes, by probability",
           [prob[i] for i in got], [prob[i] for i in order[:shown]])
    expect("probabilities only fall", all(float(prob[a]) >= float(prob[b]) for a, b in zip(got, got[1:])), True)
    for a in range(n - 3, n):  # the copies at the end tie exactly with their originals
        orig = [i for i in mistakes if i < n - 3 and prob[i] == prob[a] and pred[i] == pred[a]]
        if a in got and orig and orig[0] in got:
            expect("exact tie %d after %d" % (a, orig[0]), got.index(a) > got.index(orig[0]), True)

if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "make":
        make(*args)
    elif cmd == "eval":
        evaluate(*args)
    elif cmd == "params":
        params(*args)
    elif cmd == "check":
        check(*args[:4], int(args[4]))
    else:
        sys.exit("unknown command " + cmd)
    sys.exit(1 if failures else 0)
