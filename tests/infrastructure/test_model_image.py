"""The inference image carries only the chosen model; a wrong choice is refused at synth."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest
from infra_synth import REPO_ROOT

from infrastructure.model_image import MODELS, chosen_model, image_excludes, memory_warning
from infrastructure.settings import DeploymentSettings, SettingsError

sys.path.insert(0, str(REPO_ROOT / "tests" / "unit"))
from tiny_models import family_graph, write_model  # noqa: E402

from cutout.engine.families import FAMILIES  # noqa: E402


def _settings(**context) -> DeploymentSettings:
    return DeploymentSettings.from_context({f"cutout:{k}": v for k, v in context.items()}.get)


@pytest.fixture
def folder(tmp_path) -> Path:
    """The shipped models plus an IS-Net-shaped one, as a deployer's models/ would be."""
    target = tmp_path / "models"
    shutil.copytree(MODELS, target)
    write_model(target, "isnet-tiny", family_graph(FAMILIES["isnet"]), family="isnet")
    (target / "stray.onnx").write_bytes(b"not in the manifest")
    return target


def test_the_image_leaves_out_every_model_but_the_chosen_one(folder):
    assert image_excludes(_settings(), folder) == ["models/isnet-tiny.onnx", "models/stray.onnx"]
    chosen = image_excludes(_settings(model_name="isnet-tiny"), folder)
    assert chosen == ["models/stray.onnx", "models/u2netp.onnx"]


def test_the_excludes_apply_after_the_dockerignore_allow_list(folder):
    # CDK appends an asset's excludes to .dockerignore's patterns (later patterns win)
    patterns = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    excludes = image_excludes(_settings(), folder)
    ignore = cdk.IgnoreStrategy.docker(str(REPO_ROOT), patterns + excludes)
    assert not ignore.ignores(str(REPO_ROOT / "models" / "u2netp.onnx"))
    assert not ignore.ignores(str(REPO_ROOT / "models" / "manifest.json"))
    assert ignore.ignores(str(REPO_ROOT / "models" / "isnet-tiny.onnx"))


def test_a_model_name_the_manifest_does_not_declare_is_refused_naming_the_setting(folder):
    with pytest.raises(SettingsError, match=r"cutout:model_name 'birefnet' is not in "
                                            r"models/manifest.json \(it declares: isnet-tiny"):
        chosen_model(_settings(model_name="birefnet"), folder)


def test_a_chosen_model_without_its_file_is_refused(folder):
    (folder / "isnet-tiny.onnx").unlink()
    with pytest.raises(SettingsError, match="models/isnet-tiny.onnx is missing"):
        image_excludes(_settings(model_name="isnet-tiny"), folder)


def test_less_memory_than_the_family_needs_gives_a_warning(folder):
    assert memory_warning(_settings(), folder) is None
    warning = memory_warning(_settings(model_name="isnet-tiny"), folder)
    assert "inference_memory_mb 3008 is below the 6144 MB" in warning
