"""make_idx_subset.py SRC DST TRAIN TEST [OFFSET]: a directory DST of
MNIST-named IDX files holding TRAIN training images (from OFFSET on) and
TEST test images of the IDX set in SRC (raw or .gz), so that tests can run
short trainings on real data.  Standard library only."""
import gzip, os, struct, sys

src, dst, ntrain, ntest = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
offset = int(sys.argv[5]) if len(sys.argv) > 5 else 0
os.makedirs(dst, exist_ok=True)

def read(name):
    path = os.path.join(src, name)
    if os.path.exists(path):
        return open(path, "rb").read()
    return gzip.open(path + ".gz").read()

for prefix, count, first in (("train", ntrain, offset), ("t10k", ntest, 0)):
    for kind, header in (("images-idx3-ubyte", 16), ("labels-idx1-ubyte", 8)):
        data = read("%s-%s" % (prefix, kind))
        row = 784 if header == 16 else 1
        total = struct.unpack(">I", data[4:8])[0]
        if first + count > total:
            sys.exit("make_idx_subset: %s has %d records, not %d" % (prefix, total, first + count))
        out = data[:4] + struct.pack(">I", count) + data[8:header]
        out += data[header + first * row:header + (first + count) * row]
        with open(os.path.join(dst, "%s-%s" % (prefix, kind)), "wb") as f:
            f.write(out)
