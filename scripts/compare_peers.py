#!/usr/bin/env python3
"""Compare Pointwise's 1x1-convolution benchmark against ONNX Runtime and NumPy.

Runs every shape of the benchmark suite (default: ../shared/bench/shapes.json,
relative to the repository root) through two peers at the same thread count,
with the same semantics as Pointwise: y = conv1x1(x, W) + b, NCHW float32,
batch n.

  * ONNX Runtime: a one-node ONNX model (Conv, kernel 1x1, W and B as
    initializers) on the CPUExecutionProvider, intra_op_num_threads = T,
    inter_op_num_threads = 1, sequential execution, the faster of ORT_ENABLE_ALL
    and ORT_ENABLE_EXTENDED per shape; input and
    output are bound once with IOBinding and only run_with_iobinding is timed.
  * NumPy: per image, np.matmul(W[cout, cin], x[cin, h*w], out=y) followed by
    a broadcast bias add. BLAS threads are set from --threads through
    OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS /
    VECLIB_MAXIMUM_THREADS / BLIS_NUM_THREADS before numpy is imported (any
    values already in the environment are overridden).

Each measurement does 3 warm-up runs, then (by default) at least 10 timed runs
and at least ~0.5 s per shape; the median is reported. --repeats R fixes the
number of timed runs instead.

Pointwise's own numbers come from a `pointwise bench --json FILE` result file
(--ours FILE), or from running the binary (--pointwise BIN, which runs
`BIN bench --threads T --suite SUITE --json TMPFILE`). Results are matched to
suite shapes by name; n/cin/cout/h/w must agree. Without either option only the
peer timings are printed. The table shows our time over theirs (below 1 means
Pointwise is faster) and the geometric means, then the speed-up form
(`ORT/ours geomean = 1.20x`).

Usage:
  pip install onnxruntime onnx numpy
  swift run -c release pointwise bench --json ours.json && \\
      python3 scripts/compare_peers.py --ours ours.json

  python3 scripts/compare_peers.py                       # peers only
  python3 scripts/compare_peers.py --threads 2 --pointwise .build/release/pointwise
  python3 scripts/compare_peers.py --only r50-256to64-56x56 --repeats 20 --json out.json
  python3 scripts/compare_peers.py --pointwise .build/release/pointwise --rounds 5

Options:
  --suite FILE        benchmark suite JSON (default ../shared/bench/shapes.json)
  --ours FILE         results written by `pointwise bench --json FILE`
  --pointwise BIN     run this pointwise binary to get our results
  --threads T         thread count for every engine (default 1)
  --repeats R         timed runs per measurement (default: adaptive)
  --rounds K          with --pointwise: run ours, then the peers, K times in turn and
                      report each engine's best and median over the rounds (a shared
                      or noisy machine slows every engine by turns; the best of several
                      interleaved rounds is the fairer comparison, the median the
                      more cautious one)
  --only NAME         limit to this shape (repeatable)
  --json OUT          write all numbers to OUT

Exit status: 0 on success, 1 on a runtime failure (e.g. the pointwise binary
failed), 2 on bad arguments or missing dependencies. Progress goes to stderr,
the table to stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_SUITE = Path(__file__).resolve().parent.parent.parent / "shared/bench/shapes.json"
WARMUPS = 3
MIN_RUNS = 10
MIN_SECONDS = 0.5
MAX_RUNS = 100_000
DIM_KEYS = ("n", "cin", "cout", "h", "w")
INSTALL_HINT = "pip install onnxruntime onnx numpy"


class UsageError(Exception):
    """Bad arguments or input files: exit status 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's default prefixes the program name
        self.print_usage(sys.stderr)
        print(f"error: {message}", file=sys.stderr)
        sys.exit(2)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def parse_args(argv):
    p = Parser(
        prog="compare_peers.py",
        description="Compare Pointwise against ONNX Runtime and NumPy on the benchmark suite.",
        epilog="Example: swift run -c release pointwise bench --json ours.json && "
        "python3 scripts/compare_peers.py --ours ours.json",
    )
    p.add_argument("--suite", type=Path, default=DEFAULT_SUITE, metavar="FILE",
                   help="benchmark suite JSON (default: %(default)s)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--ours", type=Path, metavar="FILE",
                     help="Pointwise results written by `pointwise bench --json FILE`")
    src.add_argument("--pointwise", metavar="BIN",
                     help="run this pointwise binary to produce our results")
    p.add_argument("--threads", type=positive_int, default=1, metavar="T",
                   help="threads for every engine (default: 1)")
    p.add_argument("--repeats", type=positive_int, default=None, metavar="R",
                   help="timed runs per measurement (default: adaptive, >=10 runs and >=0.5 s)")
    p.add_argument("--rounds", type=positive_int, default=1, metavar="K",
                   help="with --pointwise: alternate ours and the peers K times; report best and median")
    p.add_argument("--json", type=Path, metavar="OUT", dest="json_out",
                   help="write all numbers to this JSON file")
    p.add_argument("--only", action="append", default=[], metavar="NAME",
                   help="only this shape (repeatable)")
    return p.parse_args(argv)


def progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def warn(msg: str) -> None:
    print(f"warning: {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- inputs

def load_json(path: Path, what: str):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise UsageError(f"{what} not found: {path}")
    except (OSError, json.JSONDecodeError) as e:
        raise UsageError(f"cannot read {what} {path}: {e}")


def load_suite(path: Path, only):
    doc = load_json(path, "suite")
    shapes = doc.get("shapes") if isinstance(doc, dict) else None
    if not isinstance(shapes, list) or not shapes:
        raise UsageError(f"suite {path} has no \"shapes\" list")
    seen = set()
    for s in shapes:
        if not isinstance(s, dict) or not isinstance(s.get("name"), str):
            raise UsageError(f"suite {path}: every shape needs a \"name\"")
        for k in DIM_KEYS:
            if not isinstance(s.get(k), int) or s[k] < 1:
                raise UsageError(f"suite {path}: shape {s['name']!r} needs a positive integer {k!r}")
        if s["name"] in seen:
            raise UsageError(f"suite {path}: duplicate shape name {s['name']!r}")
        seen.add(s["name"])
    if only:
        unknown = [n for n in only if n not in seen]
        if unknown:
            raise UsageError(f"--only: no such shape in {path}: {', '.join(unknown)}")
        wanted = set(only)
        shapes = [s for s in shapes if s["name"] in wanted]
    return shapes


def load_ours(path: Path, shapes, threads: int):
    """Return ({name: result}, machine) for the suite shapes found in a bench JSON."""
    doc = load_json(path, "Pointwise results")
    results = doc.get("results") if isinstance(doc, dict) else None
    if not isinstance(results, list):
        raise UsageError(f"{path} has no \"results\" list (expected `pointwise bench --json` output)")
    machine = doc.get("machine") if isinstance(doc.get("machine"), dict) else {}
    their_threads = machine.get("threads")
    if their_threads is not None and their_threads != threads:
        warn(f"{path} was measured with {their_threads} thread(s) but --threads is {threads}")
    by_name = {r.get("name"): r for r in results if isinstance(r, dict)}
    ours = {}
    for s in shapes:
        r = by_name.get(s["name"])
        if r is None:
            warn(f"{s['name']}: not in {path}; skipped for ours")
            continue
        bad = [k for k in DIM_KEYS if r.get(k) != s[k]]
        if bad:
            desc = ", ".join(f"{k} {r.get(k)} != {s[k]}" for k in bad)
            warn(f"{s['name']}: dimensions in {path} disagree with the suite ({desc}); skipped")
            continue
        fast = r.get("fast_ms")
        if not isinstance(fast, (int, float)) or fast <= 0:
            warn(f"{s['name']}: no positive fast_ms in {path}; skipped")
            continue
        ours[s["name"]] = r
    return ours, machine


def run_pointwise(binary: str, suite_path: Path, shapes, all_shapes: bool, threads: int):
    """Run `BIN bench` and return ({name: result}, machine) from its JSON output."""
    with tempfile.TemporaryDirectory(prefix="compare_peers_") as tmp:
        tmpdir = Path(tmp)
        suite_arg = suite_path
        if not all_shapes:  # pass only the selected shapes
            suite_arg = tmpdir / "suite.json"
            suite_arg.write_text(json.dumps({"about": "subset for compare_peers.py", "shapes": shapes}))
        out = tmpdir / "ours.json"
        cmd = [binary, "bench", "--threads", str(threads), "--suite", str(suite_arg), "--json", str(out),
               "--skip-reference"]
        progress("running: " + " ".join(cmd))
        try:
            proc = subprocess.run(cmd, stdout=sys.stderr, stderr=sys.stderr)
        except OSError as e:
            raise UsageError(f"cannot run {binary}: {e}")
        if proc.returncode != 0:
            raise RuntimeError(f"{binary} bench exited with status {proc.returncode}")
        if not out.exists():
            raise RuntimeError(f"{binary} bench did not write its --json file")
        return load_ours(out, shapes, threads)


# --------------------------------------------------------------------------- peers

def import_deps():
    missing = []
    mods = {}
    for name in ("numpy", "onnx", "onnxruntime"):
        try:
            mods[name] = __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        print(f"error: missing Python package(s): {', '.join(missing)}\n"
              f"install them with: {INSTALL_HINT}", file=sys.stderr)
        sys.exit(2)
    return mods["numpy"], mods["onnx"], mods["onnxruntime"]


def blas_description(np) -> str:
    try:  # runtime view, if threadpoolctl is installed
        from threadpoolctl import threadpool_info
        blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if blas:
            i = blas[0]
            return f"{i.get('internal_api', '?')} {i.get('version') or ''}, {i.get('num_threads')} thr".replace(" ,", ",")
    except Exception:
        pass
    try:  # build-time configuration (numpy >= 1.25)
        cfg = getattr(np.__config__, "CONFIG", None)
        if cfg is None:
            cfg = np.show_config(mode="dicts")
        blas = cfg["Build Dependencies"]["blas"]
        name, version = blas.get("name", "?"), blas.get("version", "")
        return f"{name} {version}".strip()
    except Exception:
        return "BLAS unknown"


def time_call(fn, repeats):
    """Median wall time of fn() in ms, after WARMUPS untimed calls."""
    for _ in range(WARMUPS):
        fn()
    times = []
    clock = time.perf_counter
    start = clock()
    while True:
        t0 = clock()
        fn()
        times.append(clock() - t0)
        if repeats is not None:
            if len(times) >= repeats:
                break
        elif (len(times) >= MIN_RUNS and clock() - start >= MIN_SECONDS) or len(times) >= MAX_RUNS:
            break
    return statistics.median(times) * 1e3, len(times)


def build_onnx_model(onnx, weight, bias, n, cin, h, w):
    from onnx import TensorProto, helper, numpy_helper
    cout = weight.shape[0]
    node = helper.make_node("Conv", ["x", "W", "B"], ["y"], kernel_shape=[1, 1],
                            strides=[1, 1], pads=[0, 0, 0, 0], dilations=[1, 1], group=1)
    graph = helper.make_graph(
        [node], "pointwise_conv",
        inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, [n, cin, h, w])],
        outputs=[helper.make_tensor_value_info("y", TensorProto.FLOAT, [n, cout, h, w])],
        initializer=[numpy_helper.from_array(weight.reshape(cout, cin, 1, 1), "W"),
                     numpy_helper.from_array(bias, "B")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="pointwise-compare_peers")
    model.ir_version = 8  # readable by any onnxruntime released since 2021
    onnx.checker.check_model(model)
    return model.SerializeToString()


def bench_shape(np, onnx, ort, s, threads, repeats, rng):
    n, cin, cout, h, w = (s[k] for k in DIM_KEYS)
    x = rng.standard_normal((n, cin, h, w), dtype=np.float32)
    weight = rng.standard_normal((cout, cin), dtype=np.float32) * np.float32(1.0 / math.sqrt(cin))
    bias = rng.standard_normal(cout, dtype=np.float32)

    # ONNX Runtime, at both graph optimisation levels: ORT_ENABLE_ALL adds layout transformations
    # that make some shapes several times slower (gray 3->1: ~8x), so each shape is credited with
    # ORT's faster level, never flattering Pointwise.
    ort_ms, ort_runs, y_ort_result = None, 0, None
    for level in (ort.GraphOptimizationLevel.ORT_ENABLE_ALL, ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED):
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = level
        so.add_session_config_entry("session.intra_op.allow_spinning", "1")
        sess = ort.InferenceSession(build_onnx_model(onnx, weight, bias, n, cin, h, w),
                                    sess_options=so, providers=["CPUExecutionProvider"])
        y_ort = np.empty((n, cout, h, w), dtype=np.float32)
        binding = sess.io_binding()
        x_val = ort.OrtValue.ortvalue_from_numpy(x)  # wraps x, no copy; keep alive
        y_val = ort.OrtValue.ortvalue_from_numpy(y_ort)
        binding.bind_ortvalue_input("x", x_val)
        binding.bind_ortvalue_output("y", y_val)
        ms, runs = time_call(lambda: sess.run_with_iobinding(binding), repeats)
        if ort_ms is None or ms < ort_ms:
            ort_ms, ort_runs, y_ort_result = ms, runs, y_ort.copy()
        del sess, binding, x_val, y_val

    # NumPy
    xs = x.reshape(n, cin, h * w)
    y_np = np.empty((n, cout, h * w), dtype=np.float32)
    b_col = bias.reshape(cout, 1)

    def numpy_conv():
        for i in range(n):
            yi = y_np[i]
            np.matmul(weight, xs[i], out=yi)
            yi += b_col

    np_ms, np_runs = time_call(numpy_conv, repeats)

    # Both peers must compute the same thing.
    ref = y_np.reshape(n, cout, h, w)
    err = float(np.max(np.abs(y_ort_result - ref))) / max(float(np.max(np.abs(ref))), 1e-30)
    if not err < 1e-4:
        warn(f"{s['name']}: ONNX Runtime and NumPy outputs differ (max rel error {err:.2e})")
    return ort_ms, ort_runs, np_ms, np_runs, err


# --------------------------------------------------------------------------- report

def geomean(values):
    values = [v for v in values if v is not None and v > 0]
    if not values:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


def fmt(v, spec, width):
    return f"{'-':>{width}}" if v is None else f"{v:{width}{spec}}"


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    t = str(args.threads)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS"):
        os.environ[var] = t
    if "numpy" in sys.modules:
        warn("numpy was imported before the thread count was set; BLAS threads may not match --threads")

    try:
        shapes = load_suite(args.suite, args.only)
        np, onnx, ort = import_deps()  # after the environment is set

        if args.rounds > 1 and args.pointwise is None:
            raise UsageError("--rounds: needs --pointwise (ours must be timed in the same rounds as the peers)")
        have_ours = args.ours is not None or args.pointwise is not None
        blas = blas_description(np)
        header = f"threads: {args.threads}   onnxruntime {ort.__version__}   numpy {np.__version__} ({blas})"
        if args.rounds > 1:
            header += f"   best of {args.rounds} interleaved rounds"
        progress(header)

        rng = np.random.default_rng(20240601)
        ours, machine = {}, {}
        samples = {s["name"]: {"ours": [], "ort": [], "np": []} for s in shapes}
        peers = {}
        for round_index in range(args.rounds):
            if args.rounds > 1:
                progress(f"round {round_index + 1} of {args.rounds}")
            if args.ours is not None:
                ours, machine = load_ours(args.ours, shapes, args.threads)
            elif args.pointwise is not None:
                ours, machine = run_pointwise(args.pointwise, args.suite, shapes, not args.only, args.threads)
            for idx, s in enumerate(shapes, 1):
                name = s["name"]
                progress(f"[{idx}/{len(shapes)}] {name} ...")
                ort_ms, ort_runs, np_ms, np_runs, err = bench_shape(np, onnx, ort, s, args.threads, args.repeats, rng)
                progress(f"    ORT {ort_ms:.3f} ms ({ort_runs} runs), NumPy {np_ms:.3f} ms ({np_runs} runs)")
                samples[name]["ort"].append(ort_ms)
                samples[name]["np"].append(np_ms)
                if name in ours:
                    samples[name]["ours"].append(ours[name]["fast_ms"])
                peers.setdefault(name, {"onnxruntime_runs": 0, "numpy_runs": 0, "max_rel_diff": 0.0})
                peers[name]["onnxruntime_runs"] += ort_runs
                peers[name]["numpy_runs"] += np_runs
                peers[name]["max_rel_diff"] = max(peers[name]["max_rel_diff"], err)

        ratios, rows, median_ratios = {}, [], []
        for s in shapes:
            name = s["name"]
            got = samples[name]
            flops = 2.0 * s["n"] * s["cin"] * s["cout"] * s["h"] * s["w"]
            ort_ms, np_ms = min(got["ort"]), min(got["np"])
            peers[name].update({
                "onnxruntime_ms": ort_ms, "numpy_ms": np_ms,
                "onnxruntime_gflops": flops / (ort_ms * 1e6), "numpy_gflops": flops / (np_ms * 1e6),
                "onnxruntime_ms_rounds": got["ort"], "numpy_ms_rounds": got["np"],
            })
            our_ms = min(got["ours"]) if got["ours"] else None
            r_ort = our_ms / ort_ms if our_ms is not None else None
            r_np = our_ms / np_ms if our_ms is not None else None
            if our_ms is not None:
                ratios[name] = {"ours_over_onnxruntime": r_ort, "ours_over_numpy": r_np,
                                "ours_ms_rounds": got["ours"]}
                median_ratios.append((statistics.median(got["ours"]) / statistics.median(got["ort"]),
                                      statistics.median(got["ours"]) / statistics.median(got["np"])))
            rows.append((name, our_ms, ort_ms, np_ms, r_ort, r_np, flops / (ort_ms * 1e6)))
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except RuntimeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1

    gm_ort = geomean([r[4] for r in rows])
    gm_np = geomean([r[5] for r in rows])

    namew = max([len("geometric mean"), len("shape")] + [len(r[0]) for r in rows]) + 2
    print(header)
    print(f"{'shape':<{namew}}{'ours ms':>9}{'ORT ms':>10}{'NumPy ms':>10}"
          f"{'ours/ORT':>10}{'ours/NumPy':>12}{'ORT GFLOP/s':>13}")
    for name, our_ms, ort_ms, np_ms, r_ort, r_np, gf in rows:
        print(f"{name:<{namew}}{fmt(our_ms, '.3f', 9)}{ort_ms:10.3f}{np_ms:10.3f}"
              f"{fmt(r_ort, '.2f', 10)}{fmt(r_np, '.2f', 12)}{gf:13.1f}")
    if have_ours:
        print(f"{'geometric mean':<{namew}}{'':29}{fmt(gm_ort, '.2f', 10)}{fmt(gm_np, '.2f', 12)}")
        if gm_ort is not None:
            print(f"ORT/ours geomean = {1 / gm_ort:.2f}x   NumPy/ours geomean = {1 / gm_np:.2f}x"
                  f"   (over {len(ratios)} of {len(rows)} shapes; above 1x = Pointwise is faster)")
        else:
            print("no Pointwise results matched the suite; no ratios")
        if args.rounds > 1 and median_ratios:
            gm_ort_median = geomean([r[0] for r in median_ratios])
            gm_np_median = geomean([r[1] for r in median_ratios])
            print(f"with each engine's median over the rounds instead of its best: ORT/ours geomean = "
                  f"{1 / gm_ort_median:.2f}x   NumPy/ours geomean = {1 / gm_np_median:.2f}x")

    if args.json_out is not None:
        doc = {
            "threads": args.threads,
            "rounds": args.rounds,
            "suite": str(args.suite),
            "versions": {"onnxruntime": ort.__version__, "onnx": onnx.__version__,
                         "numpy": np.__version__, "blas": blas},
            "peers": peers,
            "ours": {k: {kk: v[kk] for kk in v if kk != "name"} for k, v in ours.items()},
            "ours_machine": machine,
            "ratios": ratios,
            "geomean": {"ours_over_onnxruntime": gm_ort, "ours_over_numpy": gm_np,
                        "onnxruntime_over_ours": 1 / gm_ort if gm_ort else None,
                        "numpy_over_ours": 1 / gm_np if gm_np else None,
                        "shapes": len(ratios)},
        }
        try:
            args.json_out.write_text(json.dumps(doc, indent=2) + "\n")
        except OSError as e:
            print(f"error: cannot write {args.json_out}: {e}", file=sys.stderr)
            return 1
        progress(f"wrote {args.json_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
