"""The inference image carries only the model the deployment chose (`cutout:model_name`).

The image's build context is the repository root, and the Dockerfile copies `models/`
whole. `image_excludes` names every other model's weights, which the image asset leaves
out of its staged context (and of its hash): a model added to `models/` neither grows nor
rebuilds a deployment that does not use it. A name the manifest does not declare, or whose
file is missing, is refused at synth time with a sentence naming the setting.
"""

from __future__ import annotations

from pathlib import Path

from cutout.engine.models import ModelSpec, load_registry
from cutout.errors import ModelError
from infrastructure.layer import REPO_ROOT
from infrastructure.settings import CONTEXT_PREFIX, DeploymentSettings, SettingsError

MODELS = REPO_ROOT / "models"
WEIGHT_SUFFIXES = (".onnx", ".onnx.data", ".ort")


def chosen_model(settings: DeploymentSettings, folder: Path = MODELS) -> ModelSpec:
    """The manifest entry the deployment runs; refused unless it exists with its file."""
    setting = f"{CONTEXT_PREFIX}model_name"
    try:
        registry = load_registry(folder)
    except ModelError as error:
        raise SettingsError(f"{setting}: {error}") from None
    spec = registry.get(settings.model_name)
    if spec is None:
        known = ", ".join(sorted(registry)) or "none"
        raise SettingsError(f"{setting} {settings.model_name!r} is not in models/manifest.json "
                            f"(it declares: {known})")
    if not spec.path.is_file():
        raise SettingsError(f"{setting} {settings.model_name!r}: its file models/"
                            f"{spec.path.name} is missing")
    return spec


def image_excludes(settings: DeploymentSettings, folder: Path = MODELS) -> list[str]:
    """Context paths (relative to the repository root) of every weight file not chosen."""
    chosen = chosen_model(settings, folder)
    others = {spec.path.name for spec in load_registry(folder).values()}
    others |= {path.name for path in folder.iterdir() if path.name.endswith(WEIGHT_SUFFIXES)}
    others.discard(chosen.path.name)
    return sorted(f"models/{name}" for name in others)


def memory_warning(settings: DeploymentSettings, folder: Path = MODELS) -> str | None:
    """A sentence when the function has less memory than the model's manifest suggests."""
    spec = chosen_model(settings, folder)
    if settings.inference_memory_mb >= spec.memory_mb:
        return None
    return (f"{CONTEXT_PREFIX}inference_memory_mb {settings.inference_memory_mb} is below the "
            f"{spec.memory_mb} MB that model {spec.name!r} ({spec.family} family) is listed "
            "with in models/manifest.json; see docs/models-and-edges.md")
