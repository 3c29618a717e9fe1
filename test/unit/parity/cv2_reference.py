"""OpenCV's cv2.dnn and cv2.resize as an independent reference for the parity tests.

Run with Debian's Python (/usr/bin/python3, package python3-opencv):

    cv2_reference.py check            prints the OpenCV version, exits 0 when cv2 imports
    cv2_reference.py forward REQ.json runs a Caffe net, see forward()
    cv2_reference.py resize REQ.json  resizes a float image with INTER_LINEAR, see resize()

Arrays travel as raw little-endian float32 files; the answer is one JSON object on stdout.
"""

import json
import os
import sys


def forward(request):
    """request: {prototxt, caffemodel, inputs: {blob: {file, shape}}, layers: [name], outDir}.

    Answers {layer: {file, shape}} with each layer's first output, computed with layer fusion off so
    every layer's own result is kept.
    """
    import cv2
    import numpy as np

    net = cv2.dnn.readNetFromCaffe(request["prototxt"], request["caffemodel"])
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    net.enableFusion(False)
    for name, spec in request["inputs"].items():
        data = np.fromfile(spec["file"], dtype="<f4").reshape(spec["shape"])
        net.setInput(data, name)
    outputs = net.forward(request["layers"])
    answer = {}
    for index, (name, blob) in enumerate(zip(request["layers"], outputs)):
        path = os.path.join(request["outDir"], "out-%d.f32" % index)
        np.ascontiguousarray(blob, dtype="<f4").tofile(path)
        answer[name] = {"file": path, "shape": list(blob.shape)}
    return answer


def resize(request):
    """request: {file, height, width, channels, outHeight, outWidth, out}: an H x W x C float image."""
    import cv2
    import numpy as np

    shape = (request["height"], request["width"], request["channels"])
    image = np.fromfile(request["file"], dtype="<f4").reshape(shape)
    size = (request["outWidth"], request["outHeight"])
    resized = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
    resized = resized.reshape(request["outHeight"], request["outWidth"], request["channels"])
    np.ascontiguousarray(resized, dtype="<f4").tofile(request["out"])
    return {"file": request["out"], "shape": list(resized.shape)}


def main(argv):
    if len(argv) == 2 and argv[1] == "check":
        import cv2

        print(cv2.__version__)
        return 0
    if len(argv) != 3 or argv[1] not in ("forward", "resize"):
        print("usage: cv2_reference.py check | forward REQ.json | resize REQ.json", file=sys.stderr)
        return 64
    with open(argv[2]) as handle:
        request = json.load(handle)
    answer = forward(request) if argv[1] == "forward" else resize(request)
    json.dump(answer, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
