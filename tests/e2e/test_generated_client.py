"""A client generated from the committed openapi.json by a standard generator
(openapi-python-client) calls the local API: the document describes the API that runs."""

from __future__ import annotations

import importlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]
GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture(scope="module")
def client_package(tmp_path_factory):
    """`cutout_client`, generated at test time from openapi.json (never committed)."""
    folder = tmp_path_factory.mktemp("generated")
    done = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(REPO_ROOT / "openapi.json"),
         "--meta", "none", "--output-path", str(folder / "cutout_client")],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PATH": f"{GENERATOR.parent}:{os.environ.get('PATH', '')}"})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module("cutout_client")
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n.split(".")[0] == "cutout_client"]:
            del sys.modules[name]


@pytest.fixture
def client(client_package, local_api):
    return client_package.Client(base_url=local_api.base_url,
                                 headers={"x-api-key": local_api.api_key}, timeout=120)


def test_the_generated_client_reads_the_account_and_its_switch(client):
    # Given the generated client, When it reads the account
    from cutout_client.api.account import get_account
    from cutout_client.models import Account

    account = get_account.sync(client=client)
    # Then it parses the answer into the documented model: the switch is off by default
    assert isinstance(account, Account)
    assert account.training_opt_in is False


def test_the_generated_client_removes_a_background_through_a_signed_upload(client):
    # Given a small picture PUT through the signed upload the generated client asked for
    import requests
    from cutout_client.api.removal import remove_background
    from cutout_client.api.uploads import create_upload
    from cutout_client.models import RemoveBackgroundJsonBody, ResultLink

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "PNG")
    upload = create_upload.sync(client=client)
    put = requests.put(upload.upload_url, data=buffer.getvalue(), timeout=60,
                       headers=upload.headers.to_dict())
    assert put.status_code == 200
    # When the generated operation names the upload in the JSON body the document describes
    link = remove_background.sync(client=client,
                                  body=RemoveBackgroundJsonBody(upload_id=upload.upload_id))
    # Then the answer parses as the documented ResultLink, and its link serves a PNG cutout
    assert isinstance(link, ResultLink)
    assert (link.width, link.height, link.content_type) == (64, 48, "image/png")
    cutout = Image.open(io.BytesIO(requests.get(link.result_url, timeout=60).content))
    assert (cutout.format, cutout.mode, cutout.size) == ("PNG", "RGBA", (64, 48))


def test_the_generated_client_gets_a_signed_upload_and_the_privacy_answers(client):
    # Given the generated client
    from cutout_client.api.privacy import get_privacy
    from cutout_client.api.uploads import create_upload
    from cutout_client.models import Privacy, Upload

    # When it asks for a signed upload and for the privacy answers
    upload = create_upload.sync(client=client)
    privacy = get_privacy.sync(client=client)
    # Then both parse into their documented models
    assert isinstance(upload, Upload) and upload.method == "PUT"
    assert isinstance(privacy, Privacy)
    assert {answer.topic for answer in privacy.answers} >= {"upload", "retention", "training"}


def test_the_generated_client_reads_a_refusal_as_the_documented_error(client_package,
                                                                      local_api):
    # Given a client with a key the deployment never issued
    from cutout_client.api.account import get_account
    from cutout_client.models import Error

    stranger = client_package.Client(base_url=local_api.base_url, timeout=60,
                                     headers={"x-api-key": "co_live_" + "x" * 43})
    # When it reads the account
    answer = get_account.sync(client=stranger)
    # Then the refusal parses as the documented error shape
    assert isinstance(answer, Error)
    assert answer.error.code == "forbidden"
