"""The model families a deployer can choose, with the processing each was trained with.

Constants are those of the reference implementation, rembg's sessions (u2net.py,
dis_general_use.py, birefnet_general.py): every family divides the resized RGB picture by
its own maximum, subtracts a mean and divides by a std per channel, feeds NCHW float32,
reads channel 0 of output 0 and min-max normalises it to 0..255; BiRefNet puts a sigmoid
before the min-max. The memory hint is a starting point for the Lambda function
(docs/models-and-edges.md says which figures were measured and which are estimates).
"""

from __future__ import annotations

from dataclasses import dataclass

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
INPUT_SCALES = ("image_max", "255")  # divide by the picture's own maximum, or by 255
COLOUR_ORDERS = ("RGB", "BGR")
ACTIVATIONS = ("none", "sigmoid")


@dataclass(frozen=True)
class Family:
    """How a family's models are fed and read, and what a deployment should give them."""

    name: str
    members: str  # the published models of the family, for messages and docs
    input_size: tuple[int, int]  # (width, height)
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    input_scale: str = "image_max"
    colour_order: str = "RGB"
    output_index: int = 0
    activation: str = "none"
    memory_mb: int = 3008  # Lambda memory to start from


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family(
            name="u2net",
            members="u2net, u2netp, u2net_human_seg, silueta",
            input_size=(320, 320),
            mean=IMAGENET_MEAN,
            std=IMAGENET_STD,
        ),
        Family(
            name="isnet",
            members="isnet-general-use",
            input_size=(1024, 1024),
            mean=(0.5, 0.5, 0.5),
            std=(1.0, 1.0, 1.0),
            memory_mb=6144,
        ),
        Family(
            name="birefnet",
            members="BiRefNet-general, BiRefNet-general-lite (and the other BiRefNet heads)",
            input_size=(1024, 1024),
            mean=IMAGENET_MEAN,
            std=IMAGENET_STD,
            activation="sigmoid",
            memory_mb=10240,
        ),
    )
}


def family_named(name: object) -> Family | None:
    """The family called `name`, or None."""
    return FAMILIES.get(name) if isinstance(name, str) else None
