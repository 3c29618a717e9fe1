"""PyTorch yardstick for hack/bench/kernels.ts and trainer.ts: CaffeNet (bvlc_reference_caffenet) on the CPU.

Run with Debian's python3-torch: /usr/bin/python3 hack/bench/caffenet_torch.py BATCH ITERATIONS THREADS
Prints one JSON object: forward and forward-backward ms per image, per-op totals, peak RSS.
"""

import json
import resource
import statistics
import sys
import time

import torch
from torch import nn


def caffenet() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, ceil_mode=True),
        nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0),
        nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, ceil_mode=True),
        nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, ceil_mode=True),
        nn.Flatten(),
        nn.Linear(9216, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
        nn.Linear(4096, 1000),
    )


def timed(step, iterations: int) -> float:
    step()  # warm-up
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    batch, iterations, threads = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    net = caffenet().train()
    images = torch.randn(batch, 3, 227, 227)
    labels = torch.randint(0, 1000, (batch,))
    loss_fn = nn.CrossEntropyLoss()

    def forward() -> None:
        with torch.no_grad():
            loss_fn(net(images), labels)

    def forward_backward() -> None:
        net.zero_grad(set_to_none=True)
        loss_fn(net(images), labels).backward()

    forward_ms = timed(forward, iterations)
    step_ms = timed(forward_backward, iterations)
    with torch.autograd.profiler.profile() as prof:
        forward_backward()
    ops = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)[:15]
    print(json.dumps({
        "backend": "pytorch",
        "detail": f"torch {torch.__version__}, {torch.get_num_threads()} threads",
        "batch": batch,
        "forwardMsPerImage": forward_ms / batch,
        "stepMsPerImage": step_ms / batch,
        "kernels": [{"name": e.key, "ms": e.self_cpu_time_total / 1000, "calls": e.count} for e in ops],
        "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
