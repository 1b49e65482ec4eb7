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


def test_a_noncommercial_model_is_refused_until_its_licence_is_accepted(folder):
    write_model(folder, "nc-tiny", family_graph(FAMILIES["u2net"]), family="u2net",
                licence="CC-BY-NC-4.0")
    with pytest.raises(SettingsError, match=r"licence CC-BY-NC-4.0 forbids commercial use and "
                                            r"was not accepted; .*--accept-licence CC-BY-NC-4.0"):
        chosen_model(_settings(model_name="nc-tiny"), folder)
    write_model(folder, "nc-tiny", family_graph(FAMILIES["u2net"]), family="u2net",
                licence="CC-BY-NC-4.0", licence_accepted=True)
    assert chosen_model(_settings(model_name="nc-tiny"), folder).licence_accepted


def test_a_well_known_model_whose_file_is_missing_names_the_fetch_command(folder):
    write_model(folder, "isnet-general-use", family_graph(FAMILIES["isnet"]), family="isnet")
    (folder / "isnet-general-use.onnx").unlink()
    with pytest.raises(SettingsError, match=r"models/isnet-general-use.onnx is missing; fetch "
                                            r"it first: cutout models fetch isnet-general-use"):
        chosen_model(_settings(model_name="isnet-general-use"), folder)
    with pytest.raises(SettingsError, match="fetch it first: cutout models fetch u2net$"):
        chosen_model(_settings(model_name="u2net"), folder)


def test_an_unfinished_download_never_enters_the_image(folder):
    (folder / ".isnet-general-use.onnx.part").write_bytes(b"half a model")
    assert "models/.isnet-general-use.onnx.part" in image_excludes(_settings(), folder)


def test_memory_and_timeout_default_to_the_chosen_models_measured_needs(folder, monkeypatch):
    # Given a model whose entry records what it measured at 12 MP (2-core machine)
    write_model(folder, "big-tiny", family_graph(FAMILIES["isnet"]), family="isnet",
                peak_rss_mb=2600, seconds_12mp=3.2)
    monkeypatch.setenv("CUTOUT_MODEL_DIR", str(folder))
    # When it is chosen with the memory and timeout left at 0 (cdk.json's default)
    settings = _settings(model_name="big-tiny", inference_memory_mb=0,
                         inference_timeout_seconds=0, max_pixels=12_000_000)
    # Then memory is the peak x 1.5 (3900 -> 3904, a multiple of 64) and the timeout the
    # seconds at 3904 MB's 2.2 vCPU (no slower than the 2 cores) x 3, plus 5 s of I/O
    assert settings.inference_memory_mb == 3904
    assert settings.inference_timeout_seconds == 15
    # And a larger max_pixels (24 MP) raises both: 16 bytes and proportional time per pixel
    larger = _settings(model_name="big-tiny", max_pixels=24_000_000)
    assert larger.inference_memory_mb == 4224  # (2600 + 192) x 1.5 -> 4224
    assert larger.inference_timeout_seconds == 25  # 3.2 x 2 x 3 = 19.2 -> 20, + 5
    # And a model without measurements keeps its family's estimate; a setting still wins
    assert _settings(model_name="isnet-tiny").inference_memory_mb == 6144
    assert _settings(model_name="isnet-tiny").inference_timeout_seconds == 29
    chosen = _settings(model_name="big-tiny", inference_memory_mb=8192,
                       inference_timeout_seconds=20)
    assert (chosen.inference_memory_mb, chosen.inference_timeout_seconds) == (8192, 20)
    # And memory below the measured need warns
    assert "below the 3904 MB that model 'big-tiny' needs (its measured 2600 MB peak" in \
        memory_warning(_settings(model_name="big-tiny", inference_memory_mb=3008,
                                 max_pixels=12_000_000), folder)
