"""The model families a deployer can choose, each processed exactly as its reference does.

Every processing step is a manifest field, and each family's values are transcribed from
the one pipeline its weights are judged against (`reference` names it):

- u2net (u2net, u2netp...): rembg's `sessions/u2net.py`, the pipeline our u2netp figures are
  compared with (IoU 1.000): Lanczos in, divide by the picture's own maximum, ImageNet
  mean/std, output 0 min-max normalised, Lanczos out.
- isnet (isnet-general-use): xuebinqin/DIS `IS-Net/Inference.py`: bilinear resize without
  antialiasing (torch `F.upsample`, align_corners=False) truncated to uint8, /255, mean 0.5
  std 1.0, output 0 (the sigmoid is inside the graph), bilinear back, min-max.
- birefnet: ZhengPeng7/BiRefNet README inference: torchvision `Resize` on a PIL picture
  (Pillow bilinear), `ToTensor` (/255), ImageNet `Normalize`, sigmoid of the logits,
  `ToPILImage` (x255 truncated, no min-max), Pillow `resize` with its default (bicubic).

The memory hint is a starting point for the Lambda function (docs/models-and-edges.md says
which figures were measured and which are estimates).
"""

from __future__ import annotations

from dataclasses import dataclass

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
INPUT_SCALES = ("image_max", "255")  # divide by the picture's own maximum, or by 255
COLOUR_ORDERS = ("RGB", "BGR")
ACTIVATIONS = ("none", "sigmoid")
# lanczos, pil_bilinear, pil_bicubic: Pillow's filters (antialiased when shrinking);
# torch_bilinear: torch's F.interpolate(mode="bilinear", align_corners=False), no antialias
RESIZE_KERNELS = ("lanczos", "pil_bilinear", "pil_bicubic", "torch_bilinear")
# min_max: stretch the prediction to 0..255; none: prediction (0..1) x 255, truncated
OUTPUT_NORMALISATIONS = ("min_max", "none")

U2NET_REFERENCE = "rembg sessions/u2net.py (danielgatis/rembg)"
ISNET_REFERENCE = "IS-Net/Inference.py (xuebinqin/DIS)"
BIREFNET_REFERENCE = "README inference example (ZhengPeng7/BiRefNet)"


@dataclass(frozen=True)
class Family:
    """How a family's models are fed and read, and what a deployment should give them."""

    name: str
    members: str  # the published models of the family, for messages and docs
    reference: str  # the pipeline every value below is transcribed from
    input_size: tuple[int, int]  # (width, height)
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    input_scale: str
    resize_in: str
    resize_out: str
    output_normalisation: str
    colour_order: str = "RGB"
    output_index: int = 0
    activation: str = "none"
    memory_mb: int = 3008  # Lambda memory to start from
    timeout_seconds: int = 29  # Lambda timeout to start from (API Gateway waits 29 s)


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family(
            name="u2net",
            members="u2net, u2netp, u2net_human_seg, silueta",
            reference=U2NET_REFERENCE,
            input_size=(320, 320),
            mean=IMAGENET_MEAN,
            std=IMAGENET_STD,
            input_scale="image_max",
            resize_in="lanczos",
            resize_out="lanczos",
            output_normalisation="min_max",
        ),
        Family(
            name="isnet",
            members="isnet-general-use",
            reference=ISNET_REFERENCE,
            input_size=(1024, 1024),
            mean=(0.5, 0.5, 0.5),
            std=(1.0, 1.0, 1.0),
            input_scale="255",
            resize_in="torch_bilinear",
            resize_out="torch_bilinear",
            output_normalisation="min_max",
            memory_mb=6144,
        ),
        Family(
            name="birefnet",
            members="BiRefNet-general, BiRefNet-general-lite (and the other BiRefNet heads)",
            reference=BIREFNET_REFERENCE,
            input_size=(1024, 1024),
            mean=IMAGENET_MEAN,
            std=IMAGENET_STD,
            input_scale="255",
            resize_in="pil_bilinear",
            resize_out="pil_bicubic",
            output_normalisation="none",
            activation="sigmoid",
            memory_mb=10240,
        ),
    )
}


def family_named(name: object) -> Family | None:
    """The family called `name`, or None."""
    return FAMILIES.get(name) if isinstance(name, str) else None
