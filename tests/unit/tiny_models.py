"""Tiny ONNX graphs with a model family's input and output shapes and a checkable answer.

No weights but u2netp exist here, so each family's processing is proven on graphs built
on the spot: the answer depends on the input size (fixed in the graph), the normalisation
(a clip makes mean and std visible through the min-max), the channel order (the graph
reads channel 0 only) and the activation (BiRefNet's head gives logits).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper
from PIL import Image

from cutout.engine.families import FAMILIES, Family
from cutout.engine.models import MANIFEST, family_entry

OPSET = 17
# Vertical bands: red rises, blue falls (so reading blue for red gives another answer)
BAND_REDS = (0, 40, 80, 110, 130, 150, 180, 220, 255)
GREEN = 128
LOGIT_GAIN = 4.0


def band_picture(size: tuple[int, int]) -> Image.Image:
    """Flat vertical bands, each wide enough that resizing leaves its centre untouched."""
    width, height = size
    pixels = np.zeros((height, width, 3), dtype=np.uint8)
    edges = np.linspace(0, width, len(BAND_REDS) + 1).astype(int)
    for red, left, right in zip(BAND_REDS, edges[:-1], edges[1:], strict=True):
        pixels[:, left:right] = (red, GREEN, 255 - red)
    return Image.fromarray(pixels)


def band_centres(width: int) -> list[int]:
    edges = np.linspace(0, width, len(BAND_REDS) + 1)
    return [int((a + b) / 2) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def expected_mask_values(family: Family, channel_values=BAND_REDS) -> np.ndarray:
    """The mask (0..255) the reference pipeline gives at each band, from the family's
    published constants (typed here from rembg's sessions, not read from the engine)."""
    published = {
        "u2net": ((0.485, 0.229), "none"),
        "isnet": ((0.5, 1.0), "none"),
        "birefnet": ((0.485, 0.229), "sigmoid"),
    }
    (mean, std), activation = published[family.name]
    normalised = (np.asarray(channel_values, dtype=np.float64) / 255.0 - mean) / std
    if activation == "sigmoid":
        value = 1 / (1 + np.exp(-LOGIT_GAIN * normalised))
    else:
        value = np.clip(normalised, 0.0, 1.0)
    return (value - value.min()) / (value.max() - value.min()) * 255.0


def family_graph(family: Family, input_size: tuple[int, int] | None = None) -> onnx.ModelProto:
    """Input 1x3xHxW like the family's; outputs like its exports, the answer at output 0.

    U^2-Net and IS-Net give several side outputs (1x1xHxW; here the answer's negation, so
    reading the wrong one fails); BiRefNet gives logits (1x1xHxW), the engine adds sigmoid.
    """
    width, height = input_size or family.input_size
    nodes = [
        helper.make_node("Constant", [], ["starts"], value=_ints([0])),
        helper.make_node("Constant", [], ["ends"], value=_ints([1])),
        helper.make_node("Constant", [], ["axes"], value=_ints([1])),
        helper.make_node("Slice", ["input", "starts", "ends", "axes"], ["red"]),
    ]
    if family.activation == "sigmoid":
        nodes += [
            helper.make_node("Constant", [], ["gain"], value=_floats([LOGIT_GAIN])),
            helper.make_node("Mul", ["red", "gain"], ["answer"]),
        ]
        side_outputs = 0
    else:
        nodes += [
            helper.make_node("Constant", [], ["low"], value=_floats([0.0], scalar=True)),
            helper.make_node("Constant", [], ["high"], value=_floats([1.0], scalar=True)),
            helper.make_node("Clip", ["red", "low", "high"], ["clipped"]),
            # spread to -4..4, so that a sigmoid or a missing min-max shows
            helper.make_node("Constant", [], ["spread"], value=_floats([8.0], scalar=True)),
            helper.make_node("Constant", [], ["shift"], value=_floats([4.0], scalar=True)),
            helper.make_node("Mul", ["clipped", "spread"], ["spread_out"]),
            helper.make_node("Sub", ["spread_out", "shift"], ["answer"]),
        ]
        side_outputs = 6 if family.name == "u2net" else 5
    outputs = [_tensor("answer", height, width, channels=1)]
    for index in range(side_outputs):
        nodes.append(helper.make_node("Neg", ["answer"], [f"side{index}"]))
        outputs.append(_tensor(f"side{index}", height, width, channels=1))
    graph = helper.make_graph(
        nodes, f"tiny-{family.name}", [_tensor("input", height, width, channels=3)], outputs
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def write_model(folder: Path, name: str, model: onnx.ModelProto, **entry) -> Path:
    """Save the graph under `folder` and add its manifest entry (hash included)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.onnx"
    data = model.SerializeToString()
    path.write_bytes(data)
    manifest_path = folder / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"models": {}}
    family = FAMILIES[entry.pop("family")]
    manifest["models"][name] = {
        **family_entry(family),
        "file": path.name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "licence": "CC0-1.0",
        "source": "built by the tests",
        **entry,
    }
    manifest_path.write_text(json.dumps(manifest, indent=2))
    return path


def _tensor(name: str, height: int, width: int, channels: int):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, channels, height, width])


def _ints(values):
    return helper.make_tensor("v", TensorProto.INT64, [len(values)], values)


def _floats(values, scalar: bool = False):
    dims = [] if scalar else [len(values)]
    return helper.make_tensor("v", TensorProto.FLOAT, dims, values)
