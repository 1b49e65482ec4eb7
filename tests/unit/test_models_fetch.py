"""`cutout models fetch` against a real HTTP server on 127.0.0.1 serving a tiny ONNX model.

The catalogue's URL and hashes are replaced through CUTOUT_MODEL_CATALOGUE (the documented
override); the download, the Range resume, the hash checks and the manifest are the real ones.
"""

import hashlib
import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

import pytest
from tiny_models import family_graph

from cutout.cli.main import main
from cutout.engine.catalogue import BUILT_IN, CATALOGUE_VARIABLE
from cutout.engine.families import FAMILIES
from cutout.engine.models import default_model_dir, model_spec

TINY = family_graph(FAMILIES["u2net"]).SerializeToString()


class Server(ThreadingHTTPServer):
    body = TINY
    cut_after: int | None = None  # close the connection after this many bytes
    redirect_to = ""
    ranges: list


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        server = self.server
        server.ranges.append(self.headers.get("Range"))
        if server.redirect_to:
            self.send_response(302)
            self.send_header("Location", server.redirect_to)
            self.end_headers()
            return
        body, start = server.body, 0
        if self.headers.get("Range"):
            start = int(self.headers["Range"].removeprefix("bytes=").rstrip("-"))
            if start >= len(body):
                self.send_response(416)
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        payload = body[start:]
        if server.cut_after is not None:
            payload = payload[:server.cut_after]
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = Server(("127.0.0.1", 0), Handler)
    httpd.ranges = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def folder(tmp_path):
    target = tmp_path / "models"
    shutil.copytree(default_model_dir(), target)
    return target


def catalogue(tmp_path, monkeypatch, server, **fields):
    url = f"http://127.0.0.1:{server.server_address[1]}/tiny.onnx"
    entry = {"family": "u2net", "url": url, "file": "tiny.onnx", "licence": "Apache-2.0",
             "source": "made by the test", "sha256": hashlib.sha256(TINY).hexdigest(),
             **fields}
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps({"tiny": entry}))
    monkeypatch.setenv(CATALOGUE_VARIABLE, str(path))


def fetch(folder, *extra):
    return main(["models", "fetch", "tiny", "--dir", str(folder), *extra])


def on_disk(folder):
    return sorted(path.name for path in folder.iterdir())


def test_fetch_verifies_the_hash_and_writes_the_entry(tmp_path, monkeypatch, server, folder,
                                                      capsys):
    catalogue(tmp_path, monkeypatch, server)
    assert fetch(folder) == 0, capsys.readouterr().err
    assert (folder / "tiny.onnx").read_bytes() == TINY
    spec = model_spec("tiny", folder)
    assert spec.sha256 == hashlib.sha256(TINY).hexdigest() and spec.family == "u2net"
    assert spec.licence == "Apache-2.0" and "127.0.0.1" in spec.source
    assert not [name for name in on_disk(folder) if name.endswith((".part", ".tmp"))]
    capsys.readouterr()
    assert main(["models", "verify", "tiny", "--dir", str(folder)]) == 0
    # a second fetch of the same name is refused unless --replace
    assert fetch(folder) == 1 and "--replace" in capsys.readouterr().err
    assert fetch(folder, "--replace") == 0


@pytest.mark.parametrize("pin", [{"sha256": "0" * 64}, {"sha256": "", "md5": "0" * 32}])
def test_a_hash_mismatch_is_refused_and_nothing_is_left_on_disk(tmp_path, monkeypatch, server,
                                                                folder, capsys, pin):
    catalogue(tmp_path, monkeypatch, server, **pin)
    before, manifest = on_disk(folder), (folder / "manifest.json").read_text()
    assert fetch(folder) == 1
    error = capsys.readouterr().err
    assert "the catalogue pins 000" in error and "deleted it" in error
    assert on_disk(folder) == before
    assert (folder / "manifest.json").read_text() == manifest


def test_an_md5_only_entry_is_checked_by_md5_and_pinned_by_sha256(tmp_path, monkeypatch,
                                                                  server, folder, capsys):
    catalogue(tmp_path, monkeypatch, server, sha256="",
              md5=hashlib.md5(TINY, usedforsecurity=False).hexdigest())
    assert fetch(folder) == 0, capsys.readouterr().err
    assert model_spec("tiny", folder).sha256 == hashlib.sha256(TINY).hexdigest()


def test_a_noncommercial_licence_is_refused_unless_accepted_by_name(tmp_path, monkeypatch,
                                                                    server, folder, capsys):
    catalogue(tmp_path, monkeypatch, server, licence="CC-BY-NC-4.0", commercial_use=False)
    before = on_disk(folder)
    assert fetch(folder) == 1
    assert "--accept-licence CC-BY-NC-4.0" in capsys.readouterr().err
    assert fetch(folder, "--accept-licence", "MIT") == 1
    assert on_disk(folder) == before and server.ranges == []  # nothing was even requested
    assert fetch(folder, "--accept-licence", "CC-BY-NC-4.0") == 0
    spec = model_spec("tiny", folder)
    assert spec.licence_accepted and not spec.commercial_use


def test_an_interrupted_download_resumes_with_a_range_request(tmp_path, monkeypatch, server,
                                                              folder, capsys):
    catalogue(tmp_path, monkeypatch, server)
    server.cut_after = len(TINY) // 2
    assert fetch(folder) == 1
    assert "run the command again to resume" in capsys.readouterr().err
    # the half is kept under a hidden .part name, never under the model's own name
    assert not (folder / "tiny.onnx").exists()
    assert (folder / ".tiny.onnx.part").stat().st_size == len(TINY) // 2
    server.cut_after = None
    assert fetch(folder) == 0, capsys.readouterr().err
    assert server.ranges == [None, f"bytes={len(TINY) // 2}-"]
    assert (folder / "tiny.onnx").read_bytes() == TINY
    assert not (folder / ".tiny.onnx.part").exists()


def test_a_body_larger_than_the_pinned_size_is_refused(tmp_path, monkeypatch, server, folder,
                                                       capsys):
    catalogue(tmp_path, monkeypatch, server, size=len(TINY) - 1)
    before = on_disk(folder)
    assert fetch(folder) == 1
    assert f"the catalogue pins {len(TINY) - 1}" in capsys.readouterr().err
    assert on_disk(folder) == before


def test_plain_http_is_refused_off_this_machine_and_in_redirects(tmp_path, monkeypatch, server,
                                                                 folder, capsys):
    catalogue(tmp_path, monkeypatch, server, url="http://example.com/tiny.onnx")
    assert fetch(folder) == 1 and "is not an https URL" in capsys.readouterr().err
    catalogue(tmp_path, monkeypatch, server)
    server.redirect_to = "http://example.com/tiny.onnx"
    assert fetch(folder) == 1 and "is not an https URL" in capsys.readouterr().err
    assert not (folder / "tiny.onnx").exists()


def test_every_built_in_entry_is_https_at_its_publisher_with_a_pinned_hash():
    names = {entry.name for entry in BUILT_IN}
    assert {"isnet-general-use", "u2net", "u2netp", "birefnet-general-lite"} <= names
    for entry in BUILT_IN:
        url = urlparse(entry.url)
        assert url.scheme == "https" and url.hostname == "github.com", entry.name
        assert url.path.startswith("/danielgatis/rembg/releases/download/"), entry.name
        assert len(entry.sha256) == 64 or len(entry.md5) == 32, entry.name
        assert entry.family in FAMILIES and entry.licence and entry.hash_note, entry.name


def test_the_catalogue_pins_the_committed_u2netp():
    u2netp = next(entry for entry in BUILT_IN if entry.name == "u2netp")
    data = (default_model_dir() / "u2netp.onnx").read_bytes()
    assert hashlib.sha256(data).hexdigest() == u2netp.sha256 == model_spec("u2netp").sha256
    assert hashlib.md5(data, usedforsecurity=False).hexdigest() == u2netp.md5
    assert len(data) == u2netp.size


def test_fetch_without_a_name_lists_the_catalogue(capsys):
    assert main(["models", "fetch"]) == 0
    listing = capsys.readouterr().out
    assert "isnet-general-use" in listing and "CC-BY-NC-4.0" in listing
