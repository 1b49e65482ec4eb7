"""The well-known models `cutout models fetch NAME` can take, each pinned where it is published.

Every entry names its canonical location (rembg's GitHub release v0.0.0, where rembg itself
downloads them), its family, licence, size and a pinned hash. A sha256 is pinned where this
project could establish it (u2netp: computed from the committed file, whose md5 is rembg's);
for the others rembg publishes only md5s (its `sessions/*.py`, `download_models`), so the md5
is what is pinned and checked, and the sha256 of the verified file is written to the manifest,
which pins it from then on. Other projects quote sha256s for these files, but they disagree
with one another (one quotes a "sha256" for u2net that is rembg's md5 padded out), so none is
trusted here. `size` is the byte count where sources agree; a body larger than it is cut off.

`CUTOUT_MODEL_CATALOGUE` names a JSON file whose entries replace or extend these (a mirror,
or the tests' loopback server); its URLs follow the same rule (https, or http to loopback).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from cutout.errors import ModelError

CATALOGUE_VARIABLE = "CUTOUT_MODEL_CATALOGUE"
REMBG_RELEASE = "https://github.com/danielgatis/rembg/releases/download/v0.0.0"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
# SPDX ids whose terms forbid commercial use (the Creative Commons NonCommercial family and
# the like); a model under one is fetched and deployed only once its licence is accepted.
NONCOMMERCIAL_MARKERS = ("-NC", "NonCommercial", "non-commercial")


@dataclass(frozen=True)
class CatalogueEntry:
    """One published model: where it is, how to check it, what it is and may be used for."""

    name: str
    family: str
    url: str
    file: str  # the name it gets in models/
    licence: str  # SPDX id
    source: str  # who trained it and where the weights are published
    sha256: str = ""  # pinned where established; else empty and md5 is checked
    md5: str = ""  # rembg's published checksum
    size: int = 0  # bytes, where known; 0 when sources disagree
    hash_note: str = ""  # where each pinned hash comes from
    commercial_use: bool = True
    # measured at 12 MP by benchmarks/bench_engine.py (peak RSS of a fresh process, seconds);
    # 0 where the weights could not be run here, and synth falls back to the family's estimate
    peak_rss_mb: int = 0
    seconds_12mp: float = 0.0
    measured_on: str = ""
    extra: dict = field(default_factory=dict)  # further manifest fields (e.g. input_size)

    def manifest_fields(self) -> dict:
        """What the manifest entry records about the file's origin and measured needs."""
        fields = {"licence": self.licence, "source": f"{self.source}; fetched from {self.url}",
                  "commercial_use": self.commercial_use}
        if self.peak_rss_mb:
            fields.update(peak_rss_mb=self.peak_rss_mb, seconds_12mp=self.seconds_12mp,
                          measured_on=self.measured_on)
        return {**fields, **self.extra}


U2NET_SOURCE = "U^2-Net by Xuebin Qin et al. (github.com/xuebinqin/U-2-Net), rembg's ONNX export"
BUILT_IN: tuple[CatalogueEntry, ...] = (
    CatalogueEntry(
        name="u2netp", family="u2net", url=f"{REMBG_RELEASE}/u2netp.onnx", file="u2netp.onnx",
        licence="Apache-2.0", source=U2NET_SOURCE,
        sha256="309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8",
        md5="8e83ca70e441ab06c318d82300c84806", size=4_574_861,
        hash_note="sha256 computed from the committed models/u2netp.onnx, whose md5 is rembg's "
                  "(sessions/u2netp.py)",
        peak_rss_mb=0, seconds_12mp=0.0, measured_on="",
    ),
    CatalogueEntry(
        name="u2net", family="u2net", url=f"{REMBG_RELEASE}/u2net.onnx", file="u2net.onnx",
        licence="Apache-2.0", source=U2NET_SOURCE,
        md5="60024c5c889badc19c04ad937298a77b",
        hash_note="md5 from rembg sessions/u2net.py; sha256 not established; size not pinned "
                  "(sources disagree)",
    ),
    CatalogueEntry(
        name="isnet-general-use", family="isnet", url=f"{REMBG_RELEASE}/isnet-general-use.onnx",
        file="isnet-general-use.onnx", licence="Apache-2.0",
        source="IS-Net (DIS) by Xuebin Qin et al. (github.com/xuebinqin/DIS), rembg's ONNX export",
        md5="fc16ebd8b0c10d971d3513d564d01e29", size=178_648_008,
        hash_note="md5 from rembg sessions/dis_general_use.py; sha256 not established",
    ),
    CatalogueEntry(
        name="birefnet-general-lite", family="birefnet",
        url=f"{REMBG_RELEASE}/BiRefNet-general-bb_swin_v1_tiny-epoch_232.onnx",
        file="birefnet-general-lite.onnx", licence="MIT",
        source="BiRefNet (Swin-T backbone) by Peng Zheng et al. (github.com/ZhengPeng7/BiRefNet), "
               "rembg's ONNX export",
        md5="4fab47adc4ff364be1713e97b7e66334", size=224_005_088,
        hash_note="md5 from rembg sessions/birefnet_general_lite.py; sha256 not established",
    ),
    CatalogueEntry(
        name="birefnet-general", family="birefnet",
        url=f"{REMBG_RELEASE}/BiRefNet-general-epoch_244.onnx", file="birefnet-general.onnx",
        licence="MIT",
        source="BiRefNet by Peng Zheng et al. (github.com/ZhengPeng7/BiRefNet), rembg's ONNX "
               "export",
        md5="7a35a0141cbbc80de11d9c9a28f52697", size=972_666_916,
        hash_note="md5 from rembg sessions/birefnet_general.py; sha256 not established",
    ),
    CatalogueEntry(
        name="bria-rmbg", family="birefnet", url=f"{REMBG_RELEASE}/bria-rmbg-2.0.onnx",
        file="bria-rmbg-2.0.onnx", licence="CC-BY-NC-4.0", commercial_use=False,
        source="RMBG-2.0 by BRIA AI (huggingface.co/briaai/RMBG-2.0, BiRefNet architecture); "
               "commercial use needs a licence from BRIA",
        sha256="5b486f08200f513f460da46dd701db5fbb47d79b4be4b708a19444bcd4e79958",
        hash_note="sha256 as rembg publishes it (sessions/bria_rmbg.py); size not pinned",
        # rembg's session reads this export's output as it is (no sigmoid of its own)
        extra={"activation": "none"},
    ),
)


def forbids_commercial_use(licence: str) -> bool:
    """Whether an SPDX id names a licence that forbids commercial use."""
    return any(marker.lower() in licence.lower() for marker in NONCOMMERCIAL_MARKERS)


def check_url(url: str, what: str) -> None:
    """HTTPS only; plain http only to this machine (a local mirror, the tests' server)."""
    parsed = urlparse(url)
    if parsed.scheme == "https" and parsed.hostname:
        return
    if parsed.scheme == "http" and parsed.hostname in LOOPBACK_HOSTS:
        return
    raise ModelError(f"{what}: {url!r} is not an https URL (plain http is accepted only from "
                     "this machine, 127.0.0.1 or localhost)")


def catalogue() -> dict[str, CatalogueEntry]:
    """The built-in entries, with `CUTOUT_MODEL_CATALOGUE`'s replacing or adding to them."""
    entries = {entry.name: entry for entry in BUILT_IN}
    override = os.environ.get(CATALOGUE_VARIABLE)
    if override:
        entries.update(_read_override(Path(override)))
    return entries


def catalogue_entry(name: str) -> CatalogueEntry:
    """The entry called `name`; an unknown name lists the known ones."""
    entries = catalogue()
    if name not in entries:
        raise ModelError(f"no well-known model called {name!r}; the catalogue has: "
                         f"{', '.join(sorted(entries))} (or add a file with `cutout models add`)")
    return entries[name]


def _read_override(path: Path) -> dict[str, CatalogueEntry]:
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ModelError(f"{CATALOGUE_VARIABLE} {path}: unreadable ({error})") from None
    known = set(asdict(BUILT_IN[0]))
    entries = {}
    for name, fields in (raw.items() if isinstance(raw, dict) else []):
        if not isinstance(fields, dict) or set(fields) - known:
            raise ModelError(f"{CATALOGUE_VARIABLE} {path}: entry {name!r} must be an object "
                             f"of {', '.join(sorted(known - {'name'}))}")
        entries[name] = CatalogueEntry(**{**fields, "name": name})
    return entries
