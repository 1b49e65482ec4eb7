"""The inference image carries only the model the deployment chose (`cutout:model_name`).

The image's build context is the repository root, and the Dockerfile copies `models/`
whole. `image_excludes` names every other model's weights, which the image asset leaves
out of its staged context (and of its hash): a model added to `models/` neither grows nor
rebuilds a deployment that does not use it. A name the manifest does not declare, or whose
file is missing, is refused at synth time with a sentence naming the setting and, for a
well-known model, the `cutout models fetch` command that brings it (weights are fetched on
the deployer's machine before the build, never at run time). A model whose licence forbids
commercial use is refused unless its entry records the licence as accepted.
"""

from __future__ import annotations

from pathlib import Path

from cutout.engine.catalogue import catalogue
from cutout.engine.models import ModelSpec, load_registry
from cutout.errors import ModelError
from infrastructure.layer import REPO_ROOT
from infrastructure.model_sizing import derived_memory_mb
from infrastructure.settings import CONTEXT_PREFIX, DeploymentSettings, SettingsError

MODELS = REPO_ROOT / "models"
# `.part`: a download `cutout models fetch` left unfinished (it resumes it)
WEIGHT_SUFFIXES = (".onnx", ".onnx.data", ".ort", ".part")


def chosen_model(settings: DeploymentSettings, folder: Path = MODELS) -> ModelSpec:
    """The manifest entry the deployment runs; refused unless it exists with its file."""
    setting = f"{CONTEXT_PREFIX}model_name"
    try:
        registry = load_registry(folder)
    except ModelError as error:
        raise SettingsError(f"{setting}: {error}") from None
    name = settings.model_name
    spec = registry.get(name)
    if spec is None:
        known = ", ".join(sorted(registry)) or "none"
        raise SettingsError(f"{setting} {name!r} is not in models/manifest.json "
                            f"(it declares: {known}){_fetch_hint(name)}")
    if not spec.path.is_file():
        raise SettingsError(f"{setting} {name!r}: its file models/{spec.path.name} is "
                            f"missing{_fetch_hint(name)}")
    if not spec.commercial_use and not spec.licence_accepted:
        raise SettingsError(
            f"{setting} {name!r}: its licence {spec.licence} forbids commercial use and "
            f"was not accepted; if your use is allowed, run `cutout models fetch {name} "
            f"--replace --accept-licence {spec.licence}` (or set \"licence_accepted\": true "
            "in its entry in models/manifest.json)")
    return spec


def _fetch_hint(name: str) -> str:
    """The command that brings a well-known model's weights onto this machine."""
    if name not in catalogue():
        return ""
    return f"; fetch it first: cutout models fetch {name}"


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
    needed = derived_memory_mb(spec, settings.max_pixels)
    if settings.inference_memory_mb >= needed:
        return None
    basis = (f"its measured {spec.peak_rss_mb} MB peak at 12 MP" if spec.peak_rss_mb
             else f"the {spec.family} family's estimate")
    return (f"{CONTEXT_PREFIX}inference_memory_mb {settings.inference_memory_mb} is below the "
            f"{needed} MB that model {spec.name!r} needs ({basis}, models/manifest.json); "
            f"leave it 0 to derive it; see docs/models-and-edges.md")
