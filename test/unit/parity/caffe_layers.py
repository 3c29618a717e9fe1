"""Runs layer cases through real Caffe (pycaffe) for test/unit/parity/real-caffe-layers.test.ts.

Reads JSON from stdin: {"cases": [{"name", "net" (prototxt text: Input layers, then the layer under
test; force_backward: true), "phase" (0 TRAIN, 1 TEST), "layer" (name of the layer under test),
"inputs": {blob: [values]}, "tops": [blob], "bottoms": [blob whose diff is wanted], "seed"}]}.
For each case: sets the inputs, runs forward, sets each top's diff to seeded uniform [-1, 1) values,
zeroes the parameter diffs, runs backward, and writes one JSON line: the layer's parameter values
(Caffe's fillers), the tops, the top diffs it used, the bottom diffs and the parameter diffs.
An error in one case is reported for that case and the others still run.
"""
import json
import os
import sys
import tempfile

os.environ.setdefault("GLOG_minloglevel", "2")
import numpy as np  # noqa: E402
import caffe  # noqa: E402


def floats(a):
    return np.asarray(a, dtype=np.float32).ravel().tolist()


def run_case(case, tmp):
    path = os.path.join(tmp, case["name"].replace("/", "_") + ".prototxt")
    with open(path, "w") as f:
        f.write(case["net"])
    caffe.set_random_seed(case.get("seed", 1))
    phase = caffe.TEST if case.get("phase", 0) == 1 else caffe.TRAIN
    net = caffe.Net(path, phase)
    for name, values in case["inputs"].items():
        # A Parameter layer's top takes its blob's data only at forward; set the blob itself.
        learned = "learned_" + name
        blob = net.params[learned][0] if learned in net.params else net.blobs[name]
        blob.data[...] = np.asarray(values, dtype=np.float32).reshape(blob.data.shape)
    layer = case["layer"]
    params = net.params[layer] if layer in net.params else []
    param_values = [floats(p.data) for p in params]
    net.forward()
    tops = {t: floats(net.blobs[t].data) for t in case["tops"]}
    shapes = {t: list(net.blobs[t].data.shape) for t in case["tops"]}
    # Parameter diffs first: some layers share a top's diff with a parameter's (Parameter) or a bottom's
    # (Reshape). Bottom diffs are left alone: Caffe's layers overwrite them, and some keep forward results
    # there for backward (HingeLoss).
    for p in params:
        p.diff[...] = 0
    rs = np.random.RandomState(case.get("seed", 1))
    top_diffs = {}
    for t in case["tops"]:
        diff = rs.uniform(-1, 1, net.blobs[t].diff.shape).astype(np.float32)
        net.blobs[t].diff[...] = diff
        top_diffs[t] = floats(diff)
    net.backward()
    return {
        "name": case["name"],
        "params": param_values,
        "tops": tops,
        "topShapes": shapes,
        "topDiffs": top_diffs,
        "bottomDiffs": {b: floats(net.blobs[b].diff) for b in case["bottoms"]},
        "paramDiffs": [floats(p.diff) for p in params],
    }


def main():
    cases = json.load(sys.stdin)["cases"]
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            try:
                result = run_case(case, tmp)
            except Exception as error:  # reported per case; the test names it
                result = {"name": case["name"], "error": repr(error)}
            sys.stdout.write(json.dumps(result) + "\n")
            sys.stdout.flush()


main()
