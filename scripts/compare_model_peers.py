#!/usr/bin/env python3
"""Time pretrained EfficientNet-Lite0 at batch 1 in PyTorch and ONNX Runtime, next to `pointwise bench --model`.

The peers run the same network from the same checkpoint: a small PyTorch definition of
EfficientNet-Lite0 (lukemelas/EfficientNet-PyTorch's key names, TensorFlow "SAME" padding, BN eps
1e-3, ReLU6), checked against the fixture logits, then exported to ONNX with BN folded by ORT's
graph optimizer. Each engine gets warm-up runs, then the median of >= --runs runs; rounds are
interleaved so that machine noise hits every engine alike.

    python3 -m venv /tmp/peers && /tmp/peers/bin/pip install torch onnx onnxscript onnxruntime numpy
    swift build -c release
    /tmp/peers/bin/python scripts/compare_model_peers.py --checkpoint efficientnet-lite0-57934424.pth \
        --weights ~/.cache/pointwise/efficientnet-lite0.safetensors --threads 1 --rounds 3
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

STAGES = [(1, 3, 1, 16), (2, 3, 2, 24), (2, 5, 2, 40), (3, 3, 2, 80), (3, 5, 1, 112), (4, 5, 2, 192), (1, 3, 1, 320)]
FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "fixtures", "efficientnet-lite0")


class SameConv(nn.Conv2d):
    """Conv2d with TensorFlow's SAME padding (the extra pixel at the bottom/right)."""

    def forward(self, x):
        h, w = x.shape[-2:]
        k, s = self.kernel_size[0], self.stride[0]
        ph = max((math.ceil(h / s) - 1) * s + k - h, 0)
        pw = max((math.ceil(w / s) - 1) * s + k - w, 0)
        if ph or pw:
            x = F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, 1, self.groups)


class Block(nn.Module):
    def __init__(self, cin, cout, k, stride, expand):
        super().__init__()
        hidden = cin * expand
        self.expand = expand != 1
        if self.expand:
            self._expand_conv = SameConv(cin, hidden, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(hidden, eps=1e-3)
        self._depthwise_conv = SameConv(hidden, hidden, k, stride=stride, groups=hidden, bias=False)
        self._bn1 = nn.BatchNorm2d(hidden, eps=1e-3)
        self._project_conv = SameConv(hidden, cout, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(cout, eps=1e-3)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        h = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
        h = F.relu6(self._bn1(self._depthwise_conv(h)))
        h = self._bn2(self._project_conv(h))
        return h + x if self.residual else h


class EfficientNetLite0(nn.Module):
    def __init__(self):
        super().__init__()
        self._conv_stem = SameConv(3, 32, 3, stride=2, bias=False)
        self._bn0 = nn.BatchNorm2d(32, eps=1e-3)
        blocks, cin = [], 32
        for repeats, k, stride, cout in STAGES:
            for i in range(repeats):
                blocks.append(Block(cin, cout, k, stride if i == 0 else 1, 1 if cin == 32 else 6))
                cin = cout
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv(cin, 1280, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(1280, eps=1e-3)
        self._fc = nn.Linear(1280, 1000)

    def forward(self, x):
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return self._fc(x.mean(dim=(2, 3)))


def fuse_pads(source, destination):
    """Folds each constant Pad in front of a Conv into the Conv's own (asymmetric) pads.

    The SAME padding exports as Pad nodes, which ONNX Runtime neither fuses nor runs in its
    blocked NCHWc layout (each costs a reorder), so without this ORT would be timed on a worse
    graph than the model deserves. Constant folding (ORT's basic level) first makes the pads
    constants; ORT then applies its full optimization to the result."""
    import onnx
    import onnxruntime as ort
    from onnx import helper, numpy_helper

    options = ort.SessionOptions()
    options.optimized_model_filepath = destination
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    model = onnx.load(destination)
    graph = model.graph
    initializers = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    initializers.update({n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in graph.node if n.op_type == "Constant"})
    users = {}
    for node in graph.node:
        for name in node.input:
            users.setdefault(name, []).append(node)
    fused = []
    for pad in [n for n in graph.node if n.op_type == "Pad"]:
        pads, consumers = initializers.get(pad.input[1]), users.get(pad.output[0], [])
        if pads is None or len(consumers) != 1 or consumers[0].op_type != "Conv":
            continue
        if any(a.name == "mode" and a.s != b"constant" for a in pad.attribute):
            continue
        if len(pad.input) > 2 and pad.input[2] and np.any(initializers.get(pad.input[2], 1) != 0):
            continue
        pads, rank = pads.astype(int).tolist(), len(pads) // 2
        if pads[0] or pads[1] or pads[rank] or pads[rank + 1]:
            continue
        conv = consumers[0]
        old = [a for a in conv.attribute if a.name == "pads"]
        base = list(old[0].ints) if old else [0, 0, 0, 0]
        for a in old:
            conv.attribute.remove(a)
        conv.attribute.append(helper.make_attribute(
            "pads", [base[0] + pads[2], base[1] + pads[3], base[2] + pads[rank + 2], base[3] + pads[rank + 3]]))
        conv.input[0] = pad.input[0]
        fused.append(pad)
    for pad in fused:
        graph.node.remove(pad)
    onnx.save(model, destination)
    return len(fused)


def median_ms(run, runs):
    for _ in range(5):
        run()
    times = []
    start = time.perf_counter()
    while len(times) < runs or time.perf_counter() - start < 1.0:
        t = time.perf_counter()
        run()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="efficientnet-lite0-57934424.pth")
    parser.add_argument("--weights", required=True, help="the safetensors file `pointwise models fetch` stored")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pointwise", default=".build/release/pointwise")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    model = EfficientNetLite0()
    model.load_state_dict(torch.load(args.checkpoint, map_location="cpu", weights_only=True))
    model.eval()
    x = torch.from_numpy(np.load(os.path.join(FIXTURES, "chelsea.input.npy")))
    with torch.no_grad():
        error = (model(x) - torch.from_numpy(np.load(os.path.join(FIXTURES, "chelsea.logits.npy")))).abs().max().item()
    print(f"PyTorch definition vs fixture logits: max abs difference {error:.2e}", file=sys.stderr)

    import onnxruntime as ort
    folder = tempfile.mkdtemp()
    exported, onnx_path = os.path.join(folder, "exported.onnx"), os.path.join(folder, "efficientnet-lite0.onnx")
    torch.onnx.export(model, (x,), exported, input_names=["x"], output_names=["logits"], dynamo=False)
    print(f"folded {fuse_pads(exported, onnx_path)} Pad nodes into their convolutions", file=sys.stderr)
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
    feed = {"x": x.numpy()}
    error = np.abs(session.run(None, feed)[0] - np.load(os.path.join(FIXTURES, "chelsea.logits.npy"))).max()
    print(f"ONNX Runtime vs fixture logits: max abs difference {error:.2e}", file=sys.stderr)

    results = {"pytorch": [], "onnxruntime": [], "pointwise": []}
    for _ in range(args.rounds):
        with torch.no_grad():
            results["pytorch"].append(median_ms(lambda: model(x), args.runs))
        results["onnxruntime"].append(median_ms(lambda: session.run(None, feed), args.runs))
        with tempfile.NamedTemporaryFile(suffix=".json") as report:
            subprocess.run([args.pointwise, "bench", "--model", "efficientnet-lite0", "--weights", args.weights,
                            "--threads", str(args.threads), "--json", report.name],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            results["pointwise"].append(json.load(open(report.name))["median_ms"])
    print(f"EfficientNet-Lite0 batch 1, 224x224, {args.threads} thread(s), median ms per round "
          f"(best / median of {args.rounds} rounds):")
    for engine, values in results.items():
        print(f"  {engine:12s} {min(values):7.2f} / {statistics.median(values):7.2f}   {['%.2f' % v for v in values]}")
    ours = min(results["pointwise"])
    for engine in ("pytorch", "onnxruntime"):
        print(f"  {engine}/pointwise (best vs best): {min(results[engine]) / ours:.2f}x")


if __name__ == "__main__":
    main()
