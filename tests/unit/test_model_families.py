"""Model families: each is fed and read as it was trained, and bad entries are refused.

The graphs come from tiny_models.py (built with the `onnx` package): a wrong input size,
normalisation, channel order, output index or activation changes the answer.
"""

import json
import shutil

import numpy as np
import pytest
from tiny_models import (
    BAND_REDS,
    band_centres,
    band_picture,
    expected_mask_values,
    family_graph,
    write_model,
)

from cutout.engine import Engine
from cutout.engine.families import FAMILIES
from cutout.engine.models import default_model_dir, model_spec
from cutout.engine.session import SegmentationModel
from cutout.errors import ModelError


@pytest.mark.parametrize("family_name", ["u2net", "isnet", "birefnet"])
def test_each_family_is_preprocessed_and_read_as_the_reference_does(tmp_path, family_name):
    # Given a tiny graph with the family's shapes, registered with the family's defaults
    family = FAMILIES[family_name]
    write_model(tmp_path, "tiny", family_graph(family), family=family_name)
    model = SegmentationModel(model_spec("tiny", tmp_path), threads=1)
    # When a picture of another size (twice as wide) goes through it
    width, height = family.input_size
    mask = model.predict(band_picture((width * 2, height)))
    # Then the mask has the model's size and, at each band, the reference pipeline's value
    assert mask.shape == (height, width)
    measured = mask[height // 2, band_centres(width)].astype(float)
    expected = expected_mask_values(family)
    assert np.abs(measured - expected).max() <= 2.0, (measured, expected.round(1))


def test_the_colour_order_field_swaps_the_channels(tmp_path):
    # Given the U^2-Net graph (it reads channel 0) declared as a BGR model
    family = FAMILIES["u2net"]
    write_model(tmp_path, "bgr", family_graph(family), family="u2net", colour_order="BGR")
    model = SegmentationModel(model_spec("bgr", tmp_path), threads=1)
    # When the band picture goes through / Then channel 0 carried blue (255 - red)
    mask = model.predict(band_picture(family.input_size))
    measured = mask[160, band_centres(320)].astype(float)
    expected = expected_mask_values(family, [255 - red for red in BAND_REDS])
    assert np.abs(measured - expected).max() <= 2.0


def test_the_shipped_u2netp_entry_is_complete_and_of_the_u2net_family():
    manifest = json.loads((default_model_dir() / "manifest.json").read_text())
    entry = manifest["models"]["u2netp"]
    for field in ("family", "input_size", "mean", "std", "input_scale", "colour_order",
                  "output_index", "activation", "sha256", "licence", "memory_mb"):
        assert field in entry, field
    spec = model_spec("u2netp")
    assert (spec.family, spec.activation, spec.colour_order) == ("u2net", "none", "RGB")


def test_fields_an_entry_leaves_out_take_the_family_values(tmp_path):
    # Given an entry with only family, file, hash and licence
    write_model(tmp_path, "short", family_graph(FAMILIES["birefnet"]), family="birefnet")
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    entry = manifest["models"]["short"]
    manifest["models"]["short"] = {k: entry[k] for k in ("family", "file", "sha256", "licence")}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    # When it is read / Then BiRefNet's size, normalisation and sigmoid apply
    spec = model_spec("short", tmp_path)
    assert spec.input_size == (1024, 1024) and spec.activation == "sigmoid"
    assert spec.mean == (0.485, 0.456, 0.406) and spec.std == (0.229, 0.224, 0.225)


def test_an_unknown_family_is_refused_naming_the_model_and_the_field(tmp_path):
    write_model(tmp_path, "odd", family_graph(FAMILIES["u2net"]), family="u2net")
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["models"]["odd"]["family"] = "deeplab"
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match=r"model 'odd': manifest field 'family' is 'deeplab'"):
        Engine.create("odd", model_dir=tmp_path)


def test_a_hash_mismatch_is_refused_at_start_up_naming_the_model_and_the_field(tmp_path):
    path = write_model(tmp_path, "changed", family_graph(FAMILIES["u2net"]), family="u2net")
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(ModelError, match=r"model 'changed'.*field sha256"):
        Engine.create("changed", model_dir=tmp_path)


def test_an_onnx_input_shape_that_contradicts_the_family_is_refused(tmp_path):
    # Given a 512x512 graph declared as a U^2-Net model (320x320)
    graph = family_graph(FAMILIES["u2net"], input_size=(512, 512))
    write_model(tmp_path, "wrong", graph, family="u2net")
    # When the engine starts / Then it refuses, naming the model, the field and the shapes
    with pytest.raises(
        ModelError,
        match=r"model 'wrong' \(family u2net\): the ONNX input is 1x3x512x512, which "
        r"contradicts manifest field 'input_size' 320x320",
    ):
        Engine.create("wrong", model_dir=tmp_path)


def test_an_output_index_beyond_the_graph_is_refused(tmp_path):
    write_model(tmp_path, "few", family_graph(FAMILIES["birefnet"]), family="birefnet",
                output_index=3)
    with pytest.raises(ModelError, match=r"model 'few'.*'output_index' is 3.*1 output"):
        Engine.create("few", model_dir=tmp_path)


@pytest.mark.parametrize(
    "field, value, fragment",
    [
        ("input_size", [320], "'input_size' must be"),
        ("mean", [0.5, 0.5], "'mean' must be three numbers"),
        ("std", [0.2, 0, 0.2], "'std' must not contain 0"),
        ("activation", "softmax", "'activation' is 'softmax'"),
        ("colour_order", "RGBA", "'colour_order' is 'RGBA'"),
        ("sha256", "abc", "'sha256' must be 64"),
    ],
)
def test_malformed_fields_are_named(tmp_path, field, value, fragment):
    write_model(tmp_path, "bad", family_graph(FAMILIES["u2net"]), family="u2net",
                **{field: value})
    with pytest.raises(ModelError, match=f"model 'bad': manifest field {fragment}"):
        model_spec("bad", tmp_path)


def test_the_real_u2netp_passes_the_start_up_checks(tmp_path):
    folder = tmp_path / "models"
    shutil.copytree(default_model_dir(), folder)
    engine = Engine.create("u2netp", model_dir=folder, threads=1)
    assert engine.model.spec.family == "u2net"


def _reference_mask(family_name, picture, session, size):
    """Each family's reference pipeline, transcribed from its published code (not from the
    engine): rembg u2net.py, DIS IS-Net/Inference.py, BiRefNet's README example."""
    from PIL import Image

    from cutout.engine.resampling import torch_bilinear

    family = FAMILIES[family_name]
    if family_name == "u2net":
        small = np.asarray(picture.resize(family.input_size, Image.Resampling.LANCZOS), float)
        small = small / small.max()
    elif family_name == "isnet":
        small = torch_bilinear(np.asarray(picture, np.float32), family.input_size)
        small = np.floor(small) / 255.0  # .type(torch.uint8), then /255
    else:
        small = np.asarray(picture.resize(family.input_size, Image.Resampling.BILINEAR), float)
        small = small / 255.0
    mean = (0.5,) * 3 if family_name == "isnet" else (0.485, 0.456, 0.406)
    std = (1.0,) * 3 if family_name == "isnet" else (0.229, 0.224, 0.225)
    tensor = ((small - mean) / std).transpose(2, 0, 1)[np.newaxis].astype(np.float32)
    out = session.run(None, {"input": tensor})[0][0, 0].astype(np.float64)
    if family_name == "birefnet":
        out = 1 / (1 + np.exp(-out))
        mask = Image.fromarray((out * 255).astype(np.uint8), mode="L")  # ToPILImage
        return np.asarray(mask.resize(size), float)  # Pillow's default: bicubic
    if family_name == "isnet":
        big = torch_bilinear(out.astype(np.float32), size).astype(np.float64)
        return ((big - big.min()) / (big.max() - big.min()) * 255).astype(np.uint8)
    small_mask = ((out - out.min()) / (out.max() - out.min()) * 255).astype(np.uint8)
    return np.asarray(Image.fromarray(small_mask, mode="L").resize(
        size, Image.Resampling.LANCZOS), float)


def _detailed_picture(size):
    """Red ramp (max 218, so /255 and /max differ), blue its mirror, a fine checker on
    the right half (so resize kernels differ)."""
    from PIL import Image

    width, height = size
    red = np.tile(np.linspace(0, 218, width), (height, 1))
    checker = ((np.indices((height, width)).sum(axis=0) // 2) % 2) * 90.0
    red[:, width // 2:] = np.clip(red[:, width // 2:] * 0.5 + checker[:, width // 2:], 0, 218)
    pixels = np.stack([red, np.full_like(red, 100), 218 - red], axis=-1)
    return Image.fromarray(pixels.astype(np.uint8))


WRONG_VALUES = {
    "input_scale": lambda f: "255" if f.input_scale == "image_max" else "image_max",
    "mean": lambda f: [0.3, 0.3, 0.3],
    "std": lambda f: [0.15, 0.15, 0.15],
    "colour_order": lambda f: "BGR",
    "resize_in": lambda f: "lanczos" if f.resize_in != "lanczos" else "pil_bilinear",
    "resize_out": lambda f: "lanczos" if f.resize_out != "lanczos" else "torch_bilinear",
    "activation": lambda f: "none" if f.activation == "sigmoid" else "sigmoid",
    "output_normalisation": lambda f: "none" if f.output_normalisation == "min_max"
    else "min_max",
}


@pytest.mark.parametrize("field", sorted(WRONG_VALUES))
@pytest.mark.parametrize("family_name", ["u2net", "isnet", "birefnet"])
def test_each_field_of_each_family_matches_its_reference_and_a_wrong_value_fails(
        tmp_path, family_name, field):
    import onnxruntime as ort

    # Given a tiny graph of the family, a detailed picture and the reference's mask
    family = FAMILIES[family_name]
    graph = family_graph(family)
    width, height = family.input_size
    picture = _detailed_picture((width * 3 // 2 + 7, height * 5 // 4 + 3))
    session = ort.InferenceSession(graph.SerializeToString(), providers=["CPUExecutionProvider"])
    reference = _reference_mask(family_name, picture, session, picture.size)

    def engine_mask(**entry):
        name = "tiny-" + "-".join(entry) if entry else "tiny"
        write_model(tmp_path, name, graph, family=family_name, **entry)
        model = SegmentationModel(model_spec(name, tmp_path), threads=1)
        return np.asarray(model.mask_at(model.predict(picture), picture.size), float)

    # When the engine runs with the family's values / Then it gives the reference's mask
    assert np.abs(engine_mask() - reference).max() <= 2.0
    # And with this one field wrong, it does not
    wrong = engine_mask(**{field: WRONG_VALUES[field](family)})
    assert np.abs(wrong - reference).max() > 2.0, f"{family_name}: {field} left no trace"
