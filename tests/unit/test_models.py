"""The model registry: verified files, clear errors for unknown or tampered models."""

import json
import shutil
from pathlib import Path

import pytest

from cutout.engine import Engine
from cutout.engine.models import default_model_dir, load_registry, model_spec
from cutout.errors import ModelError


def copy_models(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    shutil.copytree(default_model_dir(), folder)
    return folder


def test_default_manifest_declares_u2netp_with_reference_preprocessing():
    spec = model_spec("u2netp")
    assert spec.input_size == (320, 320)
    assert spec.mean == (0.485, 0.456, 0.406) and spec.std == (0.229, 0.224, 0.225)
    assert spec.input_scale == "image_max"
    assert spec.licence == "Apache-2.0"
    assert spec.path.stat().st_size == 4_574_861
    assert len(spec.verified_bytes()) == 4_574_861


def test_licence_notice_sits_beside_the_model():
    folder = default_model_dir()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert (folder / manifest["models"]["u2netp"]["licence_file"]).is_file()


def test_tampered_model_file_is_refused(tmp_path):
    # Given a model file that no longer matches its manifest checksum
    folder = copy_models(tmp_path)
    with (folder / "u2netp.onnx").open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00\x01\x02\x03")
    # When the engine loads it / Then it refuses, naming the file and the checksums
    with pytest.raises(ModelError, match="does not match its manifest checksum"):
        model_spec("u2netp", folder).verified_bytes()


def test_unknown_model_name_is_named_in_the_error():
    with pytest.raises(ModelError, match="unknown model 'isnet'.*u2netp"):
        Engine.create("isnet")


def test_missing_model_file_is_a_clear_error(tmp_path):
    folder = copy_models(tmp_path)
    (folder / "u2netp.onnx").unlink()
    with pytest.raises(ModelError, match="not found"):
        model_spec("u2netp", folder).verified_bytes()


def test_a_deployer_adds_a_model_with_a_manifest_entry_only(tmp_path):
    # Given a second entry pointing at a new file (here the same weights under a new name)
    folder = copy_models(tmp_path)
    shutil.copy(folder / "u2netp.onnx", folder / "custom.onnx")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["models"]["custom"] = dict(manifest["models"]["u2netp"], file="custom.onnx")
    (folder / "manifest.json").write_text(json.dumps(manifest))
    # When the registry is read / Then the new model is there, verified like the default
    registry = load_registry(folder)
    assert set(registry) == {"u2netp", "custom"}
    assert registry["custom"].verified_bytes()
