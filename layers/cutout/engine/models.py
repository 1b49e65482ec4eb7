"""The model registry: a manifest of ONNX models, each verified by sha256 before use.

A deployer adds a model (u2net, isnet, birefnet...) by dropping the .onnx file into the
models folder and adding a manifest entry (`cutout models add` writes it); nothing else
changes. Weights are never downloaded at run time. Each entry names its family
(`engine.families`); fields it leaves out take the family's values. Anything wrong in an
entry is refused when the registry is read, with a sentence naming the model and field.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cutout.engine.catalogue import forbids_commercial_use
from cutout.engine.families import (
    ACTIVATIONS,
    COLOUR_ORDERS,
    FAMILIES,
    INPUT_SCALES,
    OUTPUT_NORMALISATIONS,
    RESIZE_KERNELS,
    Family,
    family_named,
)
from cutout.errors import ModelError

MODEL_DIR_VARIABLE = "CUTOUT_MODEL_DIR"
MANIFEST = "manifest.json"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# ONNX Runtime's graph optimisation levels a variant may ask for ("" = the engine's choice)
OPTIMISATION_LEVELS = ("", "disabled", "basic", "extended", "all")
# the session config areas a manifest may set (quantised kernels, MLAS, optimiser switches)
SESSION_CONFIG_PREFIXES = ("session.", "mlas.", "optimization.")


@dataclass(frozen=True)
class SessionTuning:
    """ONNX Runtime options for one model variant (manifest field `session`).

    An int8 export and its fp16 twin want different kernels: a QDQ int8 graph runs its
    convolutions as int8 only in NHWC, a layout only the `all` level rewrites to.
    """

    optimisation: str = ""  # one of OPTIMISATION_LEVELS; "" = all below 4 MP, extended above
    threads: int = 0  # intra-op threads; 0 = matched to the CPU credit (a setting overrides)
    config: tuple[tuple[str, str], ...] = ()  # ONNX Runtime session config entries


@dataclass(frozen=True)
class ModelSpec:
    """One manifest entry: what the model expects and how to check its file."""

    name: str
    family: str
    path: Path
    sha256: str
    input_size: tuple[int, int]  # (width, height)
    input_scale: str  # "image_max": divide by the image's own maximum (U^2-Net's code)
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    output_index: int
    licence: str
    source: str
    colour_order: str = "RGB"
    activation: str = "none"  # applied to the output before its normalisation
    memory_mb: int = 3008
    resize_in: str = "lanczos"  # engine.resampling's kernels
    resize_out: str = "lanczos"
    output_normalisation: str = "min_max"
    reference: str = ""  # the pipeline the processing fields are transcribed from
    timeout_seconds: int = 29
    # a licence that forbids commercial use must be accepted by name (`models fetch
    # --accept-licence NAME`) before synth bakes the model into an image
    licence_accepted: bool = False
    commercial_use: bool = True  # False for a licence that forbids it (engine.catalogue)
    # measured needs at 12 MP (benchmarks/bench_engine.py): peak RSS of a fresh process and
    # seconds, on `measured_on`; 0 where never measured (synth then uses memory_mb/timeout)
    peak_rss_mb: int = 0
    seconds_12mp: float = 0.0
    measured_on: str = ""
    session: SessionTuning = SessionTuning()

    def verified_bytes(self) -> bytes:
        """The model file, refused unless its sha256 matches the manifest."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            raise ModelError(f"model file for {self.name!r} not found at {self.path}") from None
        digest = hashlib.sha256(data).hexdigest()
        if digest != self.sha256:
            raise ModelError(
                f"model {self.name!r}: file {self.path.name} does not match its manifest "
                f"checksum (field sha256: expected {self.sha256}, got {digest}); "
                "refusing to load it"
            )
        return data


def default_model_dir() -> Path:
    """`CUTOUT_MODEL_DIR`, else the `models/` folder beside the package (repo or image)."""
    override = os.environ.get(MODEL_DIR_VARIABLE)
    if override:
        return Path(override)
    here = Path(__file__).resolve()
    # layers/cutout/engine/models.py in the repo; <task root>/cutout/engine/models.py in the image
    for candidate in (here.parents[3] / "models", here.parents[2] / "models"):
        if (candidate / MANIFEST).is_file():
            return candidate
    raise ModelError(f"no models/{MANIFEST} found; set {MODEL_DIR_VARIABLE}")


def default_model_name(model_dir: Path | None = None) -> str:
    """The model used wherever none is named: the manifest's `"default"` (the one rule for
    `cutout remove`, `cutout serve`, the runtime settings and the deployment's model_name)."""
    folder = model_dir or default_model_dir()
    default = read_manifest(folder).get("default")
    if not isinstance(default, str) or not default:
        raise ModelError(f"model manifest in {folder} names no \"default\" model")
    return default


def read_manifest(folder: Path) -> dict:
    """The manifest as JSON, with a "models" object."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise ModelError(f"model manifest in {folder} is unreadable: {error}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("models"), dict):
        raise ModelError(f"model manifest in {folder} has no \"models\" object")
    return manifest


def load_registry(model_dir: Path | None = None) -> dict[str, ModelSpec]:
    """Every model the manifest declares, by name; a bad entry is refused, named."""
    folder = model_dir or default_model_dir()
    models = read_manifest(folder)["models"]
    return {name: spec_from_entry(name, folder, entry) for name, entry in models.items()}


def model_spec(name: str, model_dir: Path | None = None) -> ModelSpec:
    """The manifest entry for `name`; an unknown name is an error that names it."""
    registry = load_registry(model_dir)
    if name not in registry:
        known = ", ".join(sorted(registry)) or "none"
        raise ModelError(f"unknown model {name!r}; the manifest declares: {known}")
    return registry[name]


def family_entry(family: Family) -> dict:
    """The manifest fields a family fixes, as `cutout models add` writes them."""
    return {
        "family": family.name,
        "reference": family.reference,
        "input_size": list(family.input_size),
        "input_scale": family.input_scale,
        "mean": list(family.mean),
        "std": list(family.std),
        "colour_order": family.colour_order,
        "output_index": family.output_index,
        "activation": family.activation,
        "resize_in": family.resize_in,
        "resize_out": family.resize_out,
        "output_normalisation": family.output_normalisation,
        "memory_mb": family.memory_mb,
        "timeout_seconds": family.timeout_seconds,
    }


def spec_from_entry(name: str, folder: Path, entry: object) -> ModelSpec:
    """Check one manifest entry field by field; each refusal names the model and field."""

    def refuse(field: str, problem: str) -> ModelError:
        return ModelError(f"model {name!r}: manifest field {field!r} {problem}")

    if not isinstance(entry, dict):
        raise refuse("models", "must hold an object for each model")
    family = family_named(entry.get("family"))
    if family is None:
        raise refuse(
            "family",
            f"is {entry.get('family')!r}, not one of {', '.join(FAMILIES)}",
        )
    values = {**family_entry(family), **entry}
    for field in ("file", "sha256", "licence"):
        if not isinstance(values.get(field), str) or not values[field]:
            raise refuse(field, "is missing (a string is required)")
    sha256 = values["sha256"].lower()
    if not _SHA256.match(sha256):
        raise refuse("sha256", "must be 64 hexadecimal digits")
    choices = {
        "input_scale": INPUT_SCALES,
        "colour_order": COLOUR_ORDERS,
        "activation": ACTIVATIONS,
        "resize_in": RESIZE_KERNELS,
        "resize_out": RESIZE_KERNELS,
        "output_normalisation": OUTPUT_NORMALISATIONS,
    }
    for field, allowed in choices.items():
        if values[field] not in allowed:
            raise refuse(field, f"is {values[field]!r}, not one of {', '.join(allowed)}")
    size = values["input_size"]
    if not _numbers(size, 2, integer=True) or min(size) < 1:
        raise refuse("input_size", "must be [width, height] in pixels")
    for field in ("mean", "std"):
        if not _numbers(values[field], 3):
            raise refuse(field, "must be three numbers (R, G, B)")
    if any(value == 0 for value in values["std"]):
        raise refuse("std", "must not contain 0")
    values.setdefault("peak_rss_mb", 0)
    for field in ("output_index", "memory_mb", "timeout_seconds", "peak_rss_mb"):
        if not _numbers([values[field]], 1, integer=True) or values[field] < 0:
            raise refuse(field, "must be a whole number >= 0")
    seconds = values.get("seconds_12mp", 0.0)
    if not _numbers([seconds], 1) or seconds < 0:
        raise refuse("seconds_12mp", "must be a number of seconds >= 0")
    commercial_use = values.get("commercial_use", not forbids_commercial_use(values["licence"]))
    if not isinstance(commercial_use, bool):
        raise refuse("commercial_use", "must be true or false")
    return ModelSpec(
        name=name,
        family=family.name,
        path=folder / values["file"],
        sha256=sha256,
        input_size=(int(size[0]), int(size[1])),
        input_scale=values["input_scale"],
        mean=tuple(float(v) for v in values["mean"]),  # type: ignore[arg-type]
        std=tuple(float(v) for v in values["std"]),  # type: ignore[arg-type]
        output_index=int(values["output_index"]),
        licence=values["licence"],
        source=str(values.get("source", "")),
        colour_order=values["colour_order"],
        activation=values["activation"],
        memory_mb=int(values["memory_mb"]),
        resize_in=values["resize_in"],
        resize_out=values["resize_out"],
        output_normalisation=values["output_normalisation"],
        reference=str(values["reference"]),
        timeout_seconds=int(values["timeout_seconds"]),
        licence_accepted=values.get("licence_accepted") is True,
        commercial_use=commercial_use,
        peak_rss_mb=int(values["peak_rss_mb"]),
        seconds_12mp=float(seconds),
        measured_on=str(values.get("measured_on", "")),
        session=session_tuning(values.get("session", {}), refuse),
    )


def session_tuning(entry: object, refuse: Callable[[str, str], ModelError]) -> SessionTuning:
    """The `session` field: {"optimisation": level, "threads": n, "config": {key: value}}."""
    if not isinstance(entry, dict):
        raise refuse("session", "must be an object (optimisation, threads, config)")
    unknown = sorted(set(entry) - {"optimisation", "threads", "config"})
    if unknown:
        raise refuse("session", f"has unknown key(s) {', '.join(unknown)}; "
                                "known: optimisation, threads, config")
    level = entry.get("optimisation", "")
    if level not in OPTIMISATION_LEVELS:
        raise refuse("session.optimisation",
                     f"is {level!r}, not one of {', '.join(OPTIMISATION_LEVELS[1:])}")
    threads = entry.get("threads", 0)
    if not _numbers([threads], 1, integer=True) or threads < 0:
        raise refuse("session.threads", "must be a whole number >= 0 (0: matched to the CPU)")
    config = entry.get("config", {})
    if not isinstance(config, dict) or not all(
        isinstance(key, str) and key.startswith(SESSION_CONFIG_PREFIXES)
        and isinstance(value, str) for key, value in config.items()
    ):
        raise refuse("session.config", "must map ONNX Runtime config keys (session.*, mlas.*, "
                                       "optimization.*) to string values")
    return SessionTuning(level, int(threads), tuple(sorted(config.items())))


def _numbers(values: object, count: int, integer: bool = False) -> bool:
    kinds = (int,) if integer else (int, float)
    return (
        isinstance(values, list)
        and len(values) == count
        and all(isinstance(v, kinds) and not isinstance(v, bool) for v in values)
    )
