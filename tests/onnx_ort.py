"""Runs an ONNX model in ONNX Runtime on NHWC images (as clcnn reads them,
transposed here to the graph's NCHW input) and compares its output with
clcnn's: max |ort - clcnn| <= TOL * max(1, max |clcnn|).  Also checks the
producer and, when given, the class-names metadata.

    python tests/onnx_ort.py MODEL.onnx IMAGES.npy CLCNN_OUT.npy [TOL] [NAMES]

Exit 0: equal; 1: not (printed); 77: no onnxruntime."""
import sys

try:
    import numpy as np
    import onnxruntime as ort
except ImportError as e:
    print("skipping: %s (scripts/setup.sh installs onnxruntime into build/onnxruntime-venv)" % e)
    sys.exit(77)

model, images, want = sys.argv[1], np.load(sys.argv[2]), np.load(sys.argv[3])
tol = float(sys.argv[4]) if len(sys.argv) > 4 else 1e-5
sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
inp = sess.get_inputs()[0]
x = images.astype(np.float32)
if x.ndim == 3:
    x = x[..., None]
x = x.transpose(0, 3, 1, 2) if len(inp.shape) == 4 else x.reshape(len(x), -1)
got = sess.run(None, {inp.name: np.ascontiguousarray(x)})[0].reshape(want.shape)
err = float(np.abs(got - want).max())
scale = max(1.0, float(np.abs(want).max()))
meta = sess.get_modelmeta()
print("%s: ONNX Runtime %s, producer %s, %d outputs, max |ort - clcnn| %.3g (scale %.3g)" %
      (model, ort.__version__, meta.producer_name, got.size, err, scale))
if meta.producer_name != "clcnn":
    print("FAIL - producer '%s', not clcnn" % meta.producer_name)
    sys.exit(1)
if len(sys.argv) > 5:
    names = meta.custom_metadata_map.get("class_names")
    if names != sys.argv[5]:
        print("FAIL - class_names metadata %r, want %r" % (names, sys.argv[5]))
        sys.exit(1)
if not err <= tol * scale:
    print("FAIL - ONNX Runtime and clcnn differ by %.3g (tolerance %.3g)" % (err, tol * scale))
    sys.exit(1)
