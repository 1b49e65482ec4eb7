"""`cutout remove`: offline background removal for files and folders, no AWS involved."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from cutout.cli.command import Command
from cutout.engine.options import EDGES, FORMATS, NAMED_SIZES
from cutout.errors import CutoutError
from cutout.settings import DEFAULT_MAX_PIXELS

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff", ".bmp", ".mpo"}


@dataclass(frozen=True)
class Job:
    source: Path
    target: Path


COMMAND = Command(
    help="remove the background of image files or folders",
    description="Remove backgrounds offline. A folder in gives a folder out, with the same "
    "file names and the output format's extension.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "inputs", nargs="+", metavar="INPUT", type=Path, help="image file or folder"
    )
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        help="output file (one file in) or folder; default: NAME_cutout.EXT beside a file, "
        "FOLDER_cutout beside a folder",
    )
    parser.add_argument("--format", default="png", choices=sorted(FORMATS))
    parser.add_argument("--channels", default="rgba", choices=("rgba", "alpha"))
    parser.add_argument("--bg-color", help="flatten onto a colour: hex (#rrggbb) or a name")
    parser.add_argument(
        "--size", default="full", help=f"{' | '.join(NAMED_SIZES)} or a maximum side in pixels"
    )
    parser.add_argument("--crop", action="store_true", help="crop to the subject")
    parser.add_argument("--crop-margin", default="0", help="margin around the crop: px or %%")
    parser.add_argument("--edge", default=EDGES[0], choices=EDGES,
                        help="soft-edge colour: the subject's own (decontaminated) or the input's")
    parser.add_argument("--model", default="",
                        help="model name from models/manifest.json (default: its \"default\")")
    parser.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS)
    parser.add_argument("--threads", type=int, default=0, help="inference threads (0 = auto)")


def run(args: argparse.Namespace) -> int:
    # Imported here so that `cutout --help` and the admin commands stay light.
    from tqdm import tqdm

    from cutout.engine import Engine, RemovalOptions

    try:
        options = RemovalOptions.from_params(
            {
                "format": args.format,
                "channels": args.channels,
                "bg_color": args.bg_color,
                "size": args.size,
                "crop": args.crop,
                "crop_margin": args.crop_margin,
                "edge": args.edge,
            }
        )
        jobs = plan_jobs(args.inputs, args.output, options.format)
        engine = Engine.create(args.model, args.max_pixels, args.threads)
    except (CutoutError, ValueError) as error:
        print(f"cutout: {getattr(error, 'message', error)}", file=sys.stderr)
        return 2
    failures = 0
    show_bar = any(path.is_dir() for path in args.inputs)
    for job in tqdm(jobs, unit="image", disable=not show_bar, file=sys.stderr):
        try:
            result = engine.remove(job.source.read_bytes(), options)
            job.target.parent.mkdir(parents=True, exist_ok=True)
            job.target.write_bytes(result.data)
        except (CutoutError, OSError) as error:
            failures += 1
            message = (error.message if isinstance(error, CutoutError)
                       else error.strerror or str(error))
            tqdm.write(f"cutout: {job.source}: {message}", file=sys.stderr)
    done = len(jobs) - failures
    print(f"{done} of {len(jobs)} image(s) written", file=sys.stderr)
    return 1 if failures else 0


def plan_jobs(inputs: list[Path], output: Path | None, extension: str) -> list[Job]:
    """Pair every input image with its output path; raise ValueError on an impossible plan."""
    missing = [str(path) for path in inputs if not path.exists()]
    if missing:
        raise ValueError(f"no such file or folder: {', '.join(missing)}")
    single_file = len(inputs) == 1 and inputs[0].is_file()
    if output is not None and not single_file and output.exists() and not output.is_dir():
        raise ValueError(f"{output} is a file; several inputs need an output folder")
    jobs: list[Job] = []
    for source in inputs:
        if source.is_dir():
            folder = output if output is not None else source.with_name(f"{source.name}_cutout")
            if len(inputs) > 1 and output is not None:
                folder = output / source.name
            for image in sorted(p for p in source.rglob("*") if _is_image(p)):
                relative = image.relative_to(source).with_suffix(f".{extension}")
                jobs.append(Job(image, folder / relative))
        elif single_file and output is not None and not output.is_dir():
            jobs.append(Job(source, output))
        else:
            folder = output if output is not None else source.parent
            suffix = "" if output is not None else "_cutout"
            jobs.append(Job(source, folder / f"{source.stem}{suffix}.{extension}"))
    return jobs


def _is_image(path: Path) -> bool:
    visible = not path.name.startswith(".")
    return visible and path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES
