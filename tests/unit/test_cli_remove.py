"""`cutout remove` as a user runs it: the installed console script, real files."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from engine_fixtures import PHOTOS, decoded, disc_picture, encoded

CUTOUT = shutil.which("cutout", path=str(Path(sys.executable).parent)) or shutil.which("cutout")


def run(*args, cwd=None):
    assert CUTOUT, "the cutout console script is not installed (pip install -e .)"
    return subprocess.run(
        [CUTOUT, *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_help_lists_every_command():
    result = run("--help")
    assert result.returncode == 0
    for command in ("remove", "serve", "accounts", "keys", "opt-in"):
        assert command in result.stdout


def test_single_file_to_named_output(tmp_path):
    source = tmp_path / "photo.jpg"
    source.write_bytes((PHOTOS / "chelsea.jpg").read_bytes())
    result = run("remove", source, "-o", tmp_path / "out.webp", "--format", "webp", "--size", "200")
    assert result.returncode == 0, result.stderr
    image = decoded((tmp_path / "out.webp").read_bytes())
    assert image.format == "WEBP" and max(image.size) == 200


def test_single_file_without_output_lands_beside_it(tmp_path):
    source = tmp_path / "disc.png"
    source.write_bytes(encoded(disc_picture()))
    assert run("remove", source, "--crop").returncode == 0
    assert (tmp_path / "disc_cutout.png").is_file()
    assert source.read_bytes() == encoded(disc_picture())  # the input is untouched


def test_folder_in_folder_out_with_a_bad_file_reported_and_the_rest_done(tmp_path):
    # Given a folder with good photos, a subfolder, and one truncated JPEG
    folder = tmp_path / "in"
    (folder / "nested").mkdir(parents=True)
    shutil.copy(PHOTOS / "coffee.jpg", folder / "coffee.jpg")
    shutil.copy(PHOTOS / "rocket.jpg", folder / "nested" / "rocket.jpg")
    (folder / "broken.jpg").write_bytes((PHOTOS / "chelsea.jpg").read_bytes()[:2000])
    # When the folder is processed
    result = run("remove", folder, "-o", tmp_path / "out", "--channels", "alpha")
    # Then the bad file is named with the reason, the exit is non-zero, the rest is written
    assert result.returncode == 1
    assert "broken.jpg" in result.stderr and "could not be decoded" in result.stderr
    assert "Traceback" not in result.stderr
    assert (tmp_path / "out" / "coffee.png").is_file()
    assert (tmp_path / "out" / "nested" / "rocket.png").is_file()
    assert not (tmp_path / "out" / "broken.png").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["remove", "does-not-exist.jpg"], "no such file"),
        (["remove", "x.jpg", "--size", "gigantic"], "size must be"),
    ],
)
def test_usage_errors_are_clear(tmp_path, args, message):
    (tmp_path / "x.jpg").write_bytes(encoded(disc_picture(), "JPEG"))
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_the_edge_option_reaches_the_engine(tmp_path):
    # Given a photo cut out twice, once per soft-edge rule
    source = tmp_path / "photo.jpg"
    source.write_bytes((PHOTOS / "chelsea.jpg").read_bytes())
    for edge in ("straight", "decontaminated"):
        result = run("remove", source, "-o", tmp_path / f"{edge}.png", "--size", "200",
                     "--edge", edge)
        assert result.returncode == 0, result.stderr
    # Then the alpha is the same and only the soft edge's colour differs
    import numpy as np

    straight = np.asarray(decoded((tmp_path / "straight.png").read_bytes()))
    clean = np.asarray(decoded((tmp_path / "decontaminated.png").read_bytes()))
    assert (straight[..., 3] == clean[..., 3]).all()
    soft = (straight[..., 3] > 0) & (straight[..., 3] < 250)
    assert soft.any() and (straight[soft, :3] != clean[soft, :3]).any()
    assert (straight[~soft, :3] == clean[~soft, :3]).all()
