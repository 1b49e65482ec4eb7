"""`cutout models list | add | verify` on a copy of the models folder."""

import hashlib
import json
import shutil

import pytest
from tiny_models import family_graph

from cutout.cli.main import main
from cutout.engine.families import FAMILIES
from cutout.engine.models import default_model_dir, model_spec


@pytest.fixture
def folder(tmp_path):
    target = tmp_path / "models"
    shutil.copytree(default_model_dir(), target)
    return target


def tiny_file(tmp_path, family_name, input_size=None):
    path = tmp_path / f"tiny-{family_name}.onnx"
    path.write_bytes(family_graph(FAMILIES[family_name], input_size).SerializeToString())
    return path


def test_add_writes_the_entry_with_the_hash_and_the_family_processing(tmp_path, folder, capsys):
    # Given an IS-Net-shaped file outside the models folder
    source = tiny_file(tmp_path, "isnet")
    # When it is added
    code = main(["models", "add", str(source), "--family", "isnet", "--name", "isnet-tiny",
                 "--licence", "Apache-2.0", "--dir", str(folder)])
    # Then the file is copied in, and the entry carries its sha256 and IS-Net's constants
    assert code == 0, capsys.readouterr().err
    copied = folder / source.name
    assert copied.read_bytes() == source.read_bytes()
    entry = json.loads((folder / "manifest.json").read_text())["models"]["isnet-tiny"]
    assert entry["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert entry["family"] == "isnet" and entry["input_size"] == [1024, 1024]
    assert entry["mean"] == [0.5, 0.5, 0.5] and entry["std"] == [1.0, 1.0, 1.0]
    assert model_spec("isnet-tiny", folder).licence == "Apache-2.0"
    # And list and verify see it (verify runs it once through the whole engine)
    capsys.readouterr()
    assert main(["models", "list", "--dir", str(folder)]) == 0
    listing = capsys.readouterr().out
    assert "isnet-tiny" in listing and "1024x1024" in listing and "(default)" in listing
    assert main(["models", "verify", "isnet-tiny", "--dir", str(folder)]) == 0
    assert "isnet-tiny: ok" in capsys.readouterr().out


def test_add_refuses_a_file_whose_input_contradicts_the_family(tmp_path, folder, capsys):
    source = tiny_file(tmp_path, "u2net", input_size=(1024, 1024))
    before = (folder / "manifest.json").read_text()
    code = main(["models", "add", str(source), "--family", "u2net", "--dir", str(folder)])
    assert code == 1
    error = capsys.readouterr().err
    assert "model 'tiny-u2net'" in error and "'input_size' 320x320" in error
    assert (folder / "manifest.json").read_text() == before
    assert not (folder / source.name).exists()


def test_add_refuses_an_unknown_family(tmp_path, folder, capsys):
    source = tiny_file(tmp_path, "u2net")
    with pytest.raises(SystemExit):
        main(["models", "add", str(source), "--family", "deeplab", "--dir", str(folder)])
    assert "invalid choice: 'deeplab'" in capsys.readouterr().err


def test_verify_names_a_tampered_model_and_fails(folder, capsys):
    with (folder / "u2netp.onnx").open("r+b") as handle:
        handle.seek(2000)
        handle.write(b"\xff\xfe")
    assert main(["models", "verify", "--dir", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "u2netp: FAILED: model 'u2netp'" in out and "field sha256" in out


def test_verify_of_the_shipped_model_passes(capsys):
    assert main(["models", "verify", "u2netp"]) == 0
    assert "u2netp: ok" in capsys.readouterr().out
