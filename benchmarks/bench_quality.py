"""Benchmark: how good each model's cutouts are, on composites whose truth is known.

Not a test: it prints figures. The composites are bench_edges.py's (three subjects with a
known alpha and a real photograph's colour: fur-like strands, long hair, motion blur; over
six backgrounds from flat green to busy), so the true alpha and foreground of every pixel
are known. For every model the manifest declares whose weights are on this machine (and
any `--model PATH --family F` file), and for rembg's u2netp session (the named reference,
same composites, same run), it prints:

- mask MAE: mean |alpha - true alpha| over the whole picture (0-255);
- boundary MAE: the same over the boundary band only, the pixels within `--band` px of the
  subject's edge (where masks differ; the interior and the far background are easy);
- soft-edge colour error: mean |RGB - F| (0-255) over the true soft band where the output
  is visible, with `edge=decontaminated` (the engine's default for soft edges);

and each model's ratio to the reference. A model is only as good as these say on this kind
of picture: studio product shots and people are not in the set.

    python benchmarks/bench_quality.py [--size 800x600] [--band 8]
    python benchmarks/bench_quality.py --model ~/models/isnet-general-use.onnx --family isnet
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_edges import backgrounds, band_error, composite, subjects  # noqa: E402
from bench_engine import MEASURED, write_model_manifest  # noqa: E402

REFERENCE = "rembg u2netp"


def alpha_of(output: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(output)).convert("RGBA"), np.float32)[..., 3] / 255


def boundary_band(alpha: np.ndarray, width: int) -> np.ndarray:
    """Pixels within `width` px of where the true alpha crosses one half, or soft."""
    inside = Image.fromarray(((alpha >= 0.5) * 255).astype(np.uint8))
    grown = np.asarray(inside.filter(ImageFilter.MaxFilter(2 * width + 1))) > 0
    shrunk = np.asarray(inside.filter(ImageFilter.MinFilter(2 * width + 1))) > 0
    return (grown & ~shrunk) | ((alpha > 0) & (alpha < 1))


def scores_of(cut, cases) -> dict[str, float]:
    """`cut(data) -> PNG bytes` over every case: the three figures, each a mean."""
    mask, boundary, colour = [], [], []
    for data, alpha, foreground, band in cases:
        output = cut(data)
        error = np.abs(alpha_of(output) - alpha) * 255
        mask.append(float(error.mean()))
        boundary.append(float(error[band].mean()))
        colour.append(band_error(output, alpha, foreground))
    return {"mask": statistics.fmean(mask), "boundary": statistics.fmean(boundary),
            "colour": statistics.fmean(colour)}


def engines(extra: list[tuple[Path, str]], folder: Path):
    """(label, engine) for every runnable model: the manifest's, then each `--model` file."""
    from cutout.engine import Engine
    from cutout.engine.models import load_registry

    for name, spec in sorted(load_registry().items()):
        if spec.path.is_file():
            yield name, Engine.create(name)
        else:
            print(f"  {name}: weights not on this machine (cutout models fetch {name})",
                  file=sys.stderr)
    for index, (path, family) in enumerate(extra):
        model_dir = folder / f"extra-{index}"
        model_dir.mkdir()
        yield f"{path.name} ({family})", Engine.create(
            MEASURED, model_dir=write_model_manifest(path, family, model_dir))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="800x600", help="composite size, WxH")
    parser.add_argument("--band", type=int, default=8, help="boundary band half-width, px")
    parser.add_argument("--model", type=Path, action="append", default=[],
                        help="also score this .onnx file (with --family, once per --model)")
    parser.add_argument("--family", action="append", default=[])
    args = parser.parse_args()
    if len(args.model) != len(args.family):
        parser.error("each --model needs its --family")
    width, height = (int(v) for v in args.size.split("x"))
    size = (width, height)

    from rembg import new_session, remove

    from cutout.engine import RemovalOptions

    cases = []
    for alpha, foreground in subjects(size).values():
        band = boundary_band(alpha, args.band)
        for background in backgrounds(size).values():
            cases.append((composite(alpha, foreground, background), alpha, foreground, band))
    print(f"{len(cases)} composites of {width}x{height} with known alpha and colour; "
          f"boundary band {args.band} px")
    peer = new_session("u2netp")
    rows = {REFERENCE: scores_of(lambda data: remove(data, session=peer), cases)}
    options = RemovalOptions.from_params({"edge": "decontaminated"})
    with tempfile.TemporaryDirectory() as tmp:
        for label, engine in engines(list(zip(args.model, args.family, strict=True)),
                                     Path(tmp)):
            rows[label] = scores_of(lambda data, e=engine: e.remove(data, options).data, cases)
            print(f"  scored {label}", file=sys.stderr)
    reference = rows[REFERENCE]
    print(f"\n{'model':28} {'mask MAE':>9} {'boundary MAE':>13} {'edge colour':>12}"
          f"   ratios to {REFERENCE} (lower is better)")
    for label, row in rows.items():
        ratios = "" if label == REFERENCE else "   " + " / ".join(
            f"{row[k] / reference[k]:.2f}" for k in ("mask", "boundary", "colour"))
        print(f"{label:28} {row['mask']:9.2f} {row['boundary']:13.2f} {row['colour']:12.2f}"
              f"{ratios}")


if __name__ == "__main__":
    main()
