"""Writes data.npz (MNIST.npz layout: 600 train, 100 valid, 100 test
28x28 uint8 images) and img.pgm (the first test image) into the current
directory: a small learnable task (the class is which horizontal band of the
image holds a bright bar).  Standard library only, so tests need no numpy.
Optional arguments name another file and seed, and the three split sizes:
other.npz 7, or small.npz 1 9 3 3.  --names=U or --names=S (anywhere) adds
class_names.npy, the NAMES below as a '<U' or a '|S' (UTF-8 bytes) array;
--print-names prints them as JSON and writes nothing."""
import json, random, struct, sys, zipfile

# One name per band; quotes, a backslash and non-ASCII letters exercise
# the JSON and UTF-8 paths.
NAMES = ["band 0", "band 1", 'the "third"', "back\\slash", "b\u00e4nd 4", "band 5", "band 6",
         "band 7", "band 8", "\u30d0\u30f3\u30c9 9"]
if "--print-names" in sys.argv:
    print(json.dumps(NAMES))
    sys.exit(0)
names_dtype = None
for a in list(sys.argv):
    if a.startswith("--names="):
        names_dtype = a[len("--names="):]
        sys.argv.remove(a)

def npy(dtype, shape, payload):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        dtype, "".join("%d, " % s for s in shape))
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + payload

out = sys.argv[1] if len(sys.argv) > 1 else "data.npz"
rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 12345)
def split(n):
    pixels, labels = bytearray(), []
    for i in range(n):
        k = rng.randrange(10)
        img = [rng.randrange(0, 60) for _ in range(784)]
        for r in range(2 + 2 * k, 4 + 2 * k):
            for c in range(4, 24):
                img[r * 28 + c] = 255
        pixels += bytes(img)
        labels.append(k)
    return (npy("|u1", (n, 28, 28), bytes(pixels)),
            npy("<i8", (n,), struct.pack("<%dq" % n, *labels)), pixels[:784])

with zipfile.ZipFile(out, "w") as z:
    sizes = [int(a) for a in sys.argv[3:6]] or [600, 100, 100]
    for name, n in zip(("train", "valid", "test"), sizes):
        x, y, first = split(n)
        z.writestr("X_%s.npy" % name, x)
        z.writestr("Y_%s.npy" % name, y)
        if name == "test":
            with open("img.pgm", "wb") as f:
                f.write(b"P5\n28 28\n255\n" + bytes(first))
    if names_dtype == "U":
        n = max(len(s) for s in NAMES)
        payload = b"".join(s.ljust(n, "\0").encode("utf-32-le") for s in NAMES)
        z.writestr("class_names.npy", npy("<U%d" % n, (len(NAMES),), payload))
    elif names_dtype == "S":
        raw = [s.encode() for s in NAMES]
        n = max(len(b) for b in raw)
        z.writestr("class_names.npy", npy("|S%d" % n, (len(raw),), b"".join(b.ljust(n, b"\0") for b in raw)))
