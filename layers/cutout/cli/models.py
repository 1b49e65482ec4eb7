"""`cutout models`: list, fetch, add and verify the ONNX models of the manifest (models/).

    cutout models list
    cutout models fetch NAME [--accept-licence SPDX] [--replace]
    cutout models add PATH --family NAME [--name NAME] [--licence SPDX] [--source TEXT]
    cutout models verify [NAME ...]

`fetch` takes a well-known model (engine.catalogue) from its published location and refuses
it unless its pinned hash matches (cli.model_fetch); `fetch` with no name lists the catalogue.

`add` copies the file into the models folder if it is elsewhere, writes the manifest
entry with the file's sha256 and its family's processing, and refuses a file whose ONNX
input contradicts the family. `verify` checks each hash and runs each model once on a
tiny picture, the start-up checks included. All three take `--dir` (default: the folder
the engine uses).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import shutil
import sys
from pathlib import Path

from cutout.engine.families import FAMILIES
from cutout.errors import CutoutError

NAME_CHARACTERS = "letters, digits, '.', '_' and '-'"
MANIFEST_NAME = "manifest.json"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models", help="list, add and verify the models in models/manifest.json",
        description="The ONNX models the engine may load; a deployment chooses one by name.",
    )
    commands = parser.add_subparsers(title="models commands", metavar="COMMAND")
    listing = commands.add_parser("list", help="the manifest's models, one a line")
    listing.set_defaults(run=run_list)
    fetch = commands.add_parser(
        "fetch", help="download a well-known model, check its pinned hash, add it",
        description="Download a well-known model from its published location (rembg's GitHub "
                    "release), refuse it unless its pinned hash matches, and add it to the "
                    "manifest. Without NAME: the catalogue.")
    fetch.add_argument("name", nargs="?", metavar="NAME", help="a model of the catalogue")
    fetch.add_argument("--accept-licence", metavar="SPDX",
                       help="accept a licence that forbids commercial use (type its id)")
    fetch.add_argument("--replace", action="store_true", help="overwrite an entry of that name")
    fetch.set_defaults(run=run_fetch)
    add = commands.add_parser("add", help="add an .onnx file to the manifest (with its hash)")
    add.add_argument("path", type=Path, metavar="PATH", help="the .onnx file")
    add.add_argument("--family", required=True, choices=sorted(FAMILIES),
                     help="the model family, which fixes its pre- and post-processing")
    add.add_argument("--name", help="the model's name (default: the file name without .onnx)")
    add.add_argument("--licence", default="unspecified", help="the weights' licence (SPDX id)")
    add.add_argument("--source", default="", help="where the weights come from")
    add.add_argument("--replace", action="store_true", help="overwrite an entry of that name")
    add.set_defaults(run=run_add)
    verify = commands.add_parser("verify", help="check hashes and run each model once")
    verify.add_argument("names", nargs="*", metavar="NAME", help="default: every model")
    verify.set_defaults(run=run_verify)
    for command in (listing, fetch, add, verify):
        command.add_argument("--dir", type=Path, help="the models folder (default: the "
                             "engine's, or CUTOUT_MODEL_DIR)")
    parser.set_defaults(run=lambda args: parser.print_help() or 2)


def _folder(args: argparse.Namespace) -> Path:
    from cutout.engine.models import default_model_dir

    return args.dir or default_model_dir()


def run_list(args: argparse.Namespace) -> int:
    from cutout.engine.models import load_registry, read_manifest

    try:
        folder = _folder(args)
        default = read_manifest(folder).get("default")
        registry = load_registry(folder)
    except CutoutError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{'name':24} {'family':9} {'input':>9} {'MB':>7} {'memory':>7}  licence")
    for name, spec in registry.items():
        size = f"{spec.path.stat().st_size / 1e6:7.1f}" if spec.path.is_file() else "missing"
        width, height = spec.input_size
        marker = " (default)" if name == default else ""
        print(f"{name:24} {spec.family:9} {width:>4}x{height:<4} {size:>7} "
              f"{spec.memory_mb:>7}  {spec.licence}{marker}")
    return 0


def run_fetch(args: argparse.Namespace) -> int:
    from cutout.cli.model_fetch import fetch
    from cutout.engine.catalogue import catalogue, catalogue_entry

    try:
        if not args.name:
            print(f"{'name':24} {'family':9} {'MB':>7}  {'licence':14} pinned")
            for entry in catalogue().values():
                size = f"{entry.size / 1e6:7.1f}" if entry.size else "      ?"
                pinned = "sha256" if entry.sha256 else "md5"
                print(f"{entry.name:24} {entry.family:9} {size}  {entry.licence:14} {pinned}")
            return 0
        folder = _folder(args)
        entry = catalogue_entry(args.name)
        record = fetch(entry, folder, args.accept_licence, args.replace,
                       say=lambda line: print(line, file=sys.stderr))
    except CutoutError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"fetched {entry.name!r} ({entry.family}, {record['file']}, sha256 "
          f"{record['sha256']}, {entry.licence}) into {folder / MANIFEST_NAME}; choose it with "
          f"-c cutout:model_name={entry.name}")
    return 0


def run_add(args: argparse.Namespace) -> int:
    from cutout.engine.models import MANIFEST, family_entry, read_manifest, spec_from_entry

    try:
        folder = _folder(args)
        name = args.name or args.path.stem
        if not name or not all(c.isalnum() or c in "._-" for c in name):
            raise CutoutError(f"model name {name!r} may only hold {NAME_CHARACTERS}")
        manifest = read_manifest(folder)
        if name in manifest["models"] and not args.replace:
            raise CutoutError(f"model {name!r} is already in the manifest (use --replace)")
        if not args.path.is_file():
            raise CutoutError(f"{args.path} is not a file")
        target = folder / args.path.name
        entry = {
            **family_entry(FAMILIES[args.family]),
            "file": target.name,
            "sha256": _sha256(args.path),
            "licence": args.licence,
            "source": args.source,
        }
        spec = spec_from_entry(name, folder, entry)
        _check_graph(spec, args.path)
        if target.resolve() != args.path.resolve():
            shutil.copyfile(args.path, target)
        manifest["models"][name] = entry
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    except CutoutError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"added {name!r} ({args.family}, {target.name}, sha256 {entry['sha256']}) "
          f"to {folder / MANIFEST}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from cutout.engine.models import load_registry

    try:
        folder = _folder(args)
        registry = load_registry(folder)
    except CutoutError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    unknown = [name for name in args.names if name not in registry]
    if unknown:
        print(f"error: not in the manifest: {', '.join(unknown)}", file=sys.stderr)
        return 1
    failures = 0
    for name in args.names or list(registry):
        try:
            seconds = _dry_run(name, folder)
            print(f"{name}: ok (sha256 matches, one run on a 64x48 picture in {seconds:.2f} s)")
        except CutoutError as error:
            failures += 1
            print(f"{name}: FAILED: {error}")
    return 1 if failures else 0


def _dry_run(name: str, folder: Path) -> float:
    """Load the model as the engine does at start-up and cut out one tiny picture."""
    import time

    from PIL import Image, ImageDraw

    from cutout.engine import Engine, RemovalOptions

    picture = Image.new("RGB", (64, 48), (235, 235, 235))
    ImageDraw.Draw(picture).ellipse((16, 8, 48, 40), fill=(200, 30, 30))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    engine = Engine.create(name, model_dir=folder, threads=1)
    started = time.perf_counter()
    result = engine.remove(buffer.getvalue(), RemovalOptions())
    if (result.width, result.height) != picture.size:
        raise CutoutError(f"the dry run gave {result.width}x{result.height}, not 64x48")
    return time.perf_counter() - started


def _check_graph(spec, path: Path) -> None:
    """The start-up shape checks, on the file about to be added."""
    import onnxruntime as ort

    from cutout.engine.session import check_graph

    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as error:  # noqa: BLE001 - onnxruntime raises its own untyped errors
        raise CutoutError(f"{path} is not a loadable ONNX model: {error}") from None
    check_graph(spec, session)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
