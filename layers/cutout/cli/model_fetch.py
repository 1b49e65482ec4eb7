"""`cutout models fetch NAME`: a well-known model from its published location, verified.

Runs on the deployer's machine, never at run time (the image carries what `models/` holds).
The body goes to a hidden `.FILE.part` beside the manifest, so an interrupted download
resumes (an HTTP Range request) and a half-written file never carries a model's name. Only a
body whose pinned hash matches (and whose graph passes the engine's start-up checks) is
renamed into place; a mismatch deletes it. The manifest is rewritten through a temporary file
and a rename, so it is never half-written either.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from cutout.engine.catalogue import CatalogueEntry, check_url
from cutout.engine.families import FAMILIES
from cutout.engine.models import MANIFEST, family_entry, read_manifest, spec_from_entry
from cutout.errors import ModelError
from cutout.numbers import parse_count

BLOCK = 1 << 20
TIMEOUT_SECONDS = 60
USER_AGENT = "cutout-models-fetch"


class _SafeRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect (GitHub sends release assets to its object store) only to https."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102
        check_url(newurl, "redirect")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch(entry: CatalogueEntry, folder: Path, accept_licence: str | None = None,
          replace: bool = False, say: Callable[[str], None] = print) -> dict:
    """Download, verify and register `entry` in `folder`; returns its manifest entry."""
    if not entry.commercial_use and accept_licence != entry.licence:
        raise ModelError(
            f"model {entry.name!r} is licensed {entry.licence}, which forbids commercial use; "
            f"fetch it only if your use is allowed, with --accept-licence {entry.licence}")
    check_url(entry.url, f"model {entry.name!r}")
    if not (entry.sha256 or entry.md5):
        raise ModelError(f"model {entry.name!r} has no pinned hash; refusing to fetch it")
    manifest = read_manifest(folder)
    if entry.name in manifest["models"] and not replace:
        raise ModelError(f"model {entry.name!r} is already in the manifest (use --replace)")
    target = folder / entry.file
    part = folder / f".{entry.file}.part"
    _download(entry, part, say)
    try:
        sha256 = _check_hashes(entry, part)
        record = {
            **family_entry(FAMILIES[entry.family]),
            "file": entry.file,
            "sha256": sha256,
            **entry.manifest_fields(),
        }
        if not entry.commercial_use:
            record["licence_accepted"] = True
        spec = spec_from_entry(entry.name, folder, record)
        from cutout.cli.models import _check_graph

        _check_graph(spec, part)
    except ModelError:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, target)
    manifest["models"][entry.name] = record
    _write_manifest(folder, manifest)
    return record


def _download(entry: CatalogueEntry, part: Path, say: Callable[[str], None]) -> None:
    """Fetch the body into `part`, resuming what an earlier attempt left there."""
    have = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": USER_AGENT}
    if have:
        headers["Range"] = f"bytes={have}-"
    opener = urllib.request.build_opener(_SafeRedirects)
    # check_url above admits only https (or http to this machine), never file: or others
    request = urllib.request.Request(entry.url, headers=headers)  # noqa: S310
    try:
        response = opener.open(request, timeout=TIMEOUT_SECONDS)
    except urllib.error.HTTPError as error:
        if error.code == 416 and have:  # the part already holds the whole body
            return
        raise ModelError(f"model {entry.name!r}: {entry.url} answered {error.code} "
                         f"{error.reason}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ModelError(f"model {entry.name!r}: cannot reach {entry.url} ({reason})") from None
    with response:
        resumed = bool(have) and response.status == 206
        if not resumed:
            have = 0
        size = parse_count(response.headers.get("Content-Length"))
        expected = have + size if size is not None else None
        if entry.size and expected is not None and expected != entry.size:
            part.unlink(missing_ok=True)
            raise ModelError(f"model {entry.name!r}: {entry.url} offers {expected} bytes, the "
                             f"catalogue pins {entry.size}; refusing it")
        say(f"{'resuming' if resumed else 'fetching'} {entry.url} "
            f"({'from byte ' + str(have) if resumed else (expected or 'unknown size')})")
        received = have
        try:
            with part.open("ab" if resumed else "wb") as handle:
                while block := response.read(BLOCK):
                    received += len(block)
                    if entry.size and received > entry.size:
                        handle.close()
                        part.unlink(missing_ok=True)
                        raise ModelError(f"model {entry.name!r}: the body is larger than the "
                                         f"catalogue's {entry.size} bytes; refusing it")
                    handle.write(block)
        except (OSError, http.client.HTTPException) as error:
            raise ModelError(f"model {entry.name!r}: the download stopped after {received} "
                             f"bytes ({type(error).__name__}); run the command again to "
                             "resume it") from None
    if expected is not None and received < expected:
        raise ModelError(f"model {entry.name!r}: the download stopped after {received} of "
                         f"{expected} bytes; run the command again to resume it")


def _check_hashes(entry: CatalogueEntry, part: Path) -> str:
    """Every pinned hash must match; returns the file's sha256 for the manifest."""
    sha256, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    with part.open("rb") as handle:
        while block := handle.read(BLOCK):
            sha256.update(block)
            md5.update(block)
    for algorithm, pinned, digest in (("sha256", entry.sha256, sha256.hexdigest()),
                                      ("md5", entry.md5, md5.hexdigest())):
        if pinned and pinned.lower() != digest:
            raise ModelError(f"model {entry.name!r}: the downloaded file's {algorithm} is "
                             f"{digest}, the catalogue pins {pinned}; deleted it")
    return sha256.hexdigest()


def _write_manifest(folder: Path, manifest: dict) -> None:
    temporary = folder / f".{MANIFEST}.tmp"
    temporary.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(temporary, folder / MANIFEST)
