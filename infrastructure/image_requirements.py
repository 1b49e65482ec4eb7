"""Hash-pin the inference image's requirements: `python -m infrastructure.image_requirements`.

`functions/remove_background/requirements.txt` lists every package of the image at an exact
version. This rewrites each line with the sha256 of every wheel pip could pick for it on the
Lambda base image (CPython 3.13, manylinux, x86_64 or aarch64), read from PyPI's index, so
the Docker build (`pip install --require-hashes`) installs exactly those bytes or fails.
Run it after changing a version; tests/infrastructure checks the result against PyPI.
"""

from __future__ import annotations

import json
import re
import sys
import urllib.request
from pathlib import Path

REQUIREMENTS = Path(__file__).resolve().parent.parent / "functions" / "remove_background" \
    / "requirements.txt"
PYTHON_TAGS = ("cp313", "abi3", "py3", "py2.py3")
_WHEEL = re.compile(r"-(?P<python>[^-]+)-(?P<abi>[^-]+)-(?P<platform>[^-]+)\.whl$")
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9_.-]+)(?P<extras>\[[a-z,]+\])?==(?P<version>[\w.]+)")


def lambda_wheel(filename: str) -> bool:
    """A wheel the Lambda Python 3.13 image can install (either architecture)."""
    match = _WHEEL.search(filename)
    if not match:
        return False
    python_ok = any(tag in match["python"].split(".") or match["python"] == tag
                    for tag in PYTHON_TAGS)
    abi_ok = match["abi"] in ("cp313", "abi3", "none")
    platform = match["platform"]
    platform_ok = platform == "any" or (
        "manylinux" in platform and ("x86_64" in platform or "aarch64" in platform))
    return python_ok and abi_ok and platform_ok


def wheel_hashes(name: str, version: str) -> list[str]:
    """sha256 of every Lambda-installable wheel of name==version (PyPI simple API, PEP 691)."""
    request = urllib.request.Request(
        f"https://pypi.org/simple/{name}/",
        headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (fixed https)
        files = json.load(response)["files"]
    hashes = sorted({f["hashes"]["sha256"] for f in files
                     if f["filename"].split("-")[1] == version and lambda_wheel(f["filename"])})
    if not hashes:
        raise SystemExit(f"{name}=={version} has no wheel for the Lambda Python 3.13 image")
    return hashes


def main() -> None:
    lines = []
    for line in REQUIREMENTS.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("--hash") or stripped == "":
            continue
        match = _PIN.match(stripped)
        if not match:
            lines.append(line)  # comments
            continue
        requirement = stripped.split()[0].rstrip("\\").strip()
        hashes = wheel_hashes(match["name"], match["version"])
        lines.append(f"{requirement} \\")
        lines.extend(f"    --hash=sha256:{h}" + (" \\" if i < len(hashes) - 1 else "")
                     for i, h in enumerate(hashes))
    REQUIREMENTS.write_text("\n".join(lines) + "\n")
    print(f"hashed {sum(1 for x in lines if _PIN.match(x))} requirements", file=sys.stderr)


if __name__ == "__main__":
    main()
