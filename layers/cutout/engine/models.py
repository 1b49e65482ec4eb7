"""The model registry: a manifest of ONNX models, each verified by sha256 before use.

A deployer adds a model (u2net, isnet, birefnet...) by dropping the .onnx file into the
models folder and adding a manifest entry; nothing else changes. Weights are never
downloaded at run time.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cutout.errors import ModelError

MODEL_DIR_VARIABLE = "CUTOUT_MODEL_DIR"
_INPUT_SCALES = ("image_max", "255")


@dataclass(frozen=True)
class ModelSpec:
    """One manifest entry: what the model expects and how to check its file."""

    name: str
    path: Path
    sha256: str
    input_size: tuple[int, int]  # (width, height)
    input_scale: str  # "image_max": divide by the image's own maximum (U^2-Net's code)
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    output_index: int
    licence: str
    source: str

    def verified_bytes(self) -> bytes:
        """The model file, refused unless its sha256 matches the manifest."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            raise ModelError(f"model file for {self.name!r} not found at {self.path}") from None
        digest = hashlib.sha256(data).hexdigest()
        if digest != self.sha256:
            raise ModelError(
                f"model file {self.path.name} does not match its manifest checksum "
                f"(expected sha256 {self.sha256}, got {digest}); refusing to load it"
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
        if (candidate / "manifest.json").is_file():
            return candidate
    raise ModelError(f"no models/manifest.json found; set {MODEL_DIR_VARIABLE}")


def load_registry(model_dir: Path | None = None) -> dict[str, ModelSpec]:
    """Every model the manifest declares, by name."""
    folder = model_dir or default_model_dir()
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        return {name: _spec(name, folder, entry) for name, entry in manifest["models"].items()}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ModelError(f"model manifest in {folder} is unreadable: {error}") from None


def model_spec(name: str, model_dir: Path | None = None) -> ModelSpec:
    """The manifest entry for `name`; an unknown name is an error that names it."""
    registry = load_registry(model_dir)
    if name not in registry:
        known = ", ".join(sorted(registry)) or "none"
        raise ModelError(f"unknown model {name!r}; the manifest declares: {known}")
    return registry[name]


def _spec(name: str, folder: Path, entry: dict) -> ModelSpec:
    scale = entry.get("input_scale", "image_max")
    if scale not in _INPUT_SCALES:
        raise ValueError(f"{name}: input_scale must be one of {_INPUT_SCALES}")
    width, height = (int(v) for v in entry["input_size"])
    return ModelSpec(
        name=name,
        path=folder / entry["file"],
        sha256=entry["sha256"].lower(),
        input_size=(width, height),
        input_scale=scale,
        mean=tuple(float(v) for v in entry["mean"]),  # type: ignore[arg-type]
        std=tuple(float(v) for v in entry["std"]),  # type: ignore[arg-type]
        output_index=int(entry.get("output_index", 0)),
        licence=entry["licence"],
        source=entry["source"],
    )
