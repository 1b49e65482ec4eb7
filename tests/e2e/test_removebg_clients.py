"""Real remove.bg client libraries against `cutout serve`'s `POST /v1.0/removebg`, unchanged
but for the endpoint: PyPI `removebg` (Accept */*, size=regular, an untyped file part,
expects the image bytes) and, when npm is at hand, npm `remove.bg` (always Accept
application/json, expects `{"data": {"result_b64": ...}}`; it would hang on image bytes)."""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import numpy as np
import pytest
import removebg
import removebg.removebg as removebg_module
import requests
from e2e_local_api import start_local_api
from PIL import Image

from cutout.data.usage_plans import DEFAULT_STACK_NAME, USAGE_PLAN_OUTPUT
from cutout.local.demo import DEMO_ACCOUNT_ID
from cutout.local.moto_stack import ACCESS_KEY_ID, CATALOGUE_BUCKET, REGION, SECRET_ACCESS_KEY

NPM_PACKAGE = "remove.bg@1.3.0"
NPM_INSTALL_SECONDS = 240
CLIENT_SECONDS = 120  # a bound, never asserted: a client waiting for the wrong answer fails
WRONG_KEY = "co_live_" + "x" * 43
OVER_THE_GATEWAY_LIMIT = 10 * 1024 * 1024 + 1  # API Gateway's 10 MB request limit
API_KEY = "co_live_e2e-removebg-clients-key-for-tests-only"
# `cutout serve --catalogue-bucket`: the allow-listed bucket an image_url may name (the
# least-privilege check maps it to the integration deployment's source: served_calls.py)
DEMO_BUCKET = "acme-catalogue-photos"

# Drives the npm client with only its endpoint changed: remove.bg calls `unirest.post(URL)`
# at request time, so wrapping `post` on the shared unirest module redirects it.
NODE_SCRIPT = r"""
const unirest = require("unirest");
const post = unirest.post;
unirest.post = () => post(process.env.REMOVEBG_URL);
const removeBg = require("remove.bg");
const [mode, source, outputFile] = process.argv.slice(2);
const options = {apiKey: process.env.REMOVEBG_KEY, size: "regular", type: "auto", outputFile,
                 ...JSON.parse(process.env.REMOVEBG_OPTIONS || "{}")};
const calls = {
  file: () => removeBg.removeBackgroundFromImageFile({...options, path: source}),
  base64: () => removeBg.removeBackgroundFromImageBase64({...options, base64img: source}),
  url: () => removeBg.removeBackgroundFromImageUrl({...options, url: source}),
};
calls[mode]().then(
  (result) => { delete result.base64img; console.log(JSON.stringify({ok: result})); },
  (errors) => console.log(JSON.stringify({errors})),
);
"""


@pytest.fixture(scope="module")
def local_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """`cutout serve` with a demo bucket of its own name, as a user trying image_url would."""
    api = start_local_api(tmp_path_factory.mktemp("serve"), API_KEY,
                          extra_args=("--catalogue-bucket", DEMO_BUCKET))
    yield api
    api.terminate()


@contextmanager
def loopback_http() -> Iterator[tuple[str, list[str]]]:
    """A URL on loopback that answers an image to anyone, and the paths it was asked for."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/photo.jpg", asked
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def removebg_endpoint(local_api, monkeypatch) -> str:
    """The PyPI client pointed at the local API (it has no setting for its base URL)."""
    endpoint = f"{local_api.base_url}/v1.0/removebg"
    monkeypatch.setattr(removebg_module, "API_ENDPOINT", endpoint)
    return endpoint


def cutout_of(path: Path) -> Image.Image:
    image = Image.open(path)
    image.load()
    return image


@contextmanager
def throttled_to_one_request(local_api) -> Iterator[None]:
    """The stack's usage plan throttled to a burst of one request per key, refilled far
    never (set in moto, as `cutout serve` reads it per request); the plan
    is unthrottled again afterwards. One request spends the key's only token."""
    apigateway = boto3.client("apigateway", endpoint_url=local_api.moto_endpoint,
                              region_name=REGION, aws_access_key_id=ACCESS_KEY_ID,
                              aws_secret_access_key=SECRET_ACCESS_KEY)
    outputs = boto3.client(
        "cloudformation", endpoint_url=local_api.moto_endpoint, region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY,
    ).describe_stacks(StackName=DEFAULT_STACK_NAME)["Stacks"][0]["Outputs"]
    plan = next(o["OutputValue"] for o in outputs if o["OutputKey"] == USAGE_PLAN_OUTPUT)

    # A rate of 0: the one token never comes back while the test runs.
    apigateway.update_usage_plan(usagePlanId=plan, patchOperations=[
        {"op": "replace", "path": "/throttle/rateLimit", "value": "0"},
        {"op": "replace", "path": "/throttle/burstLimit", "value": "1"}])
    try:
        spent = requests.get(f"{local_api.base_url}/v1/account", timeout=CLIENT_SECONDS,
                             headers={"x-api-key": local_api.api_key})
        assert spent.status_code == 200
        yield
    finally:
        apigateway.update_usage_plan(usagePlanId=plan, patchOperations=[
            {"op": "remove", "path": "/throttle"}])


def refusal_of(call: Callable[[], object]) -> requests.HTTPError:
    """The PyPI client's documented error for one call, which must come within the bound."""
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(call)
        with pytest.raises(requests.HTTPError) as refused:
            future.result(timeout=CLIENT_SECONDS)
    return refused.value


def removebg_error_of(error: requests.HTTPError) -> dict:
    """What the PyPI client itself reads of an error body (`errors[0]["title"]`), whole."""
    body = error.response.json()
    # a gateway refusal also carries our `error` beside it (cutout.api.gateway_templates)
    assert "errors" in body and len(body["errors"]) == 1
    return body["errors"][0]


def assert_a_cutout_of(image: Image.Image, size: tuple[int, int]) -> None:
    assert image.format == "PNG" and image.mode == "RGBA" and image.size == size
    alpha = np.asarray(image)[..., 3]
    assert (alpha == 255).any() and (alpha == 0).any()


# --- PyPI `removebg` ----------------------------------------------------------------------
def test_the_python_client_saves_a_cutout_of_a_file(removebg_endpoint, local_api, photo_path,
                                                    tmp_path):
    # Given the client with the demo key and a photo in a folder of its own
    photo = tmp_path / "chelsea.jpg"
    shutil.copy(photo_path, photo)
    client = removebg.RemoveBg(local_api.api_key, str(tmp_path / "removebg-errors.log"))
    # When it removes the background of the file (multipart, size=regular, Accept */*)
    client.remove_background_from_img_file(str(photo))
    # Then it saved the PNG cutout beside the photo, at the photo's size (under 0.25 MP)
    assert_a_cutout_of(cutout_of(tmp_path / "chelsea.jpg_no_bg.png"), (451, 300))


def test_the_python_client_saves_a_cutout_of_base64_on_a_colour(removebg_endpoint, local_api,
                                                                photo_path, tmp_path):
    # Given the photo as base64, sent as a URL-encoded form with a background colour
    client = removebg.RemoveBg(local_api.api_key, str(tmp_path / "removebg-errors.log"))
    target = tmp_path / "flat.jpg"
    # When the client asks for it on white
    client.remove_background_from_base64_img(base64.b64encode(photo_path.read_bytes()).decode(),
                                             new_file_name=str(target), bg_color="ffffff")
    # Then format auto gave an opaque JPEG
    image = cutout_of(target)
    assert image.format == "JPEG" and image.size == (451, 300)


def test_the_python_client_cuts_out_an_allow_listed_s3_image_url(removebg_endpoint, local_api,
                                                                moto_s3, photo_path, tmp_path):
    # Given the photo in the demo bucket `cutout serve` was told to allow-list, in the demo
    # account's own folder, as its banner says
    assert f"s3://{DEMO_BUCKET}/{DEMO_ACCOUNT_ID}/" in local_api.log()
    key = f"{DEMO_ACCOUNT_ID}/by-url/photo.jpg"
    moto_s3.put_object(Bucket=DEMO_BUCKET, Key=key, Body=photo_path.read_bytes())
    client = removebg.RemoveBg(local_api.api_key, str(tmp_path / "removebg-errors.log"))
    target = tmp_path / "by-url.png"
    # When the client asks for it by its s3:// location
    client.remove_background_from_img_url(f"s3://{DEMO_BUCKET}/{key}",
                                          new_file_name=str(target))
    # Then it wrote the cutout (size=regular: at most 0.25 MP, the photo's proportions)
    assert_a_cutout_of(cutout_of(target), (451, 300))
    # And the default catalogue bucket is not on this stack's list: the flag replaced it
    with pytest.raises(requests.HTTPError) as refused:
        client.remove_background_from_img_url(f"s3://{CATALOGUE_BUCKET}/{key}",
                                              new_file_name=str(tmp_path / "other.png"))
    assert refused.value.response.json()["errors"][0]["code"] == "image_url_not_allowed"


def test_the_python_client_is_told_a_public_image_url_is_not_fetched(removebg_endpoint,
                                                                     local_api, tmp_path):
    # Given the client asked to work from a URL: public, the metadata service's, and one
    # on loopback that would answer anyone with an image
    client = removebg.RemoveBg(local_api.api_key, str(tmp_path / "removebg-errors.log"))
    with loopback_http() as (reachable, asked):
        for url in ("https://example.com/a.jpg", "http://169.254.169.254/latest/meta-data",
                    reachable):
            # When it calls, Then the API refuses in remove.bg's shape, saying what it accepts
            with pytest.raises(requests.HTTPError) as refused:
                client.remove_background_from_img_url(url, new_file_name=str(tmp_path / "x.png"))
            assert refused.value.response.status_code == 400
            error = refused.value.response.json()["errors"][0]
            assert (error["code"], error["title"]) == ("image_url_not_allowed",
                                                       "Image URL not allowed")
            assert "s3://<bucket>/<key>" in error["detail"] and "never fetched" in error["detail"]
    # And nothing was fetched (the loopback server was never asked) or written
    assert asked == []
    assert not (tmp_path / "x.png").exists()


def test_keys_are_refused_by_the_gateway_in_remove_bgs_shape(removebg_endpoint, local_api,
                                                             photo_path):
    # Given a photo sent with an unknown key, and with none at all
    files = {"image_file": photo_path.read_bytes()}
    unknown = requests.post(removebg_endpoint, files=files, timeout=CLIENT_SECONDS,
                            headers={"X-Api-Key": "co_live_" + "x" * 43})
    missing = requests.post(removebg_endpoint, files=files, timeout=CLIENT_SECONDS)
    # Then the gateway refuses both before any function ran, from the stack's own gateway
    # response templates: remove.bg's auth_failed "API Key invalid" beside our error, with
    # the gateway's status (403 for a wrong key; 401 for none, where remove.bg says 403: a
    # gateway response's status is one per response type)
    assert (unknown.status_code, missing.status_code) == (403, 401)
    for answer in (unknown, missing):
        assert answer.json()["errors"][0]["code"] == "auth_failed"
        assert answer.json()["errors"][0]["title"] == "API Key invalid"
        assert answer.json()["error"]["code"] in ("forbidden", "unauthorized")


def test_the_python_client_raises_http_errors_with_remove_bgs_titles(removebg_endpoint,
                                                                     local_api, photo_path,
                                                                     tmp_path):
    # Given the photo, and a file over the gateway's 10 MB
    log = str(tmp_path / "removebg-errors.log")
    huge = tmp_path / "huge.jpg"
    huge.write_bytes(bytes(OVER_THE_GATEWAY_LIMIT))
    # When the client calls with a wrong key, with none, and with a file too large
    wrong = refusal_of(lambda: removebg.RemoveBg(WRONG_KEY, log)
                       .remove_background_from_img_file(str(photo_path)))
    missing = refusal_of(lambda: removebg.RemoveBg(None, log)
                         .remove_background_from_img_file(str(photo_path)))
    too_large = refusal_of(lambda: removebg.RemoveBg(local_api.api_key, log)
                           .remove_background_from_img_file(str(huge)))
    # Then each raised requests' HTTPError with remove.bg's code and title (and the
    # gateway's status: 401 without a key and 413 too large, where remove.bg says 403, 400)
    assert (wrong.response.status_code, missing.response.status_code) == (403, 401)
    for error in (wrong, missing):
        assert removebg_error_of(error)["title"] == "API Key invalid"
        assert removebg_error_of(error)["code"] == "auth_failed"
    assert too_large.response.status_code == 413
    assert removebg_error_of(too_large)["code"] == "file_too_large"
    assert removebg_error_of(too_large)["title"] == "File too large"


def test_the_python_client_is_throttled_in_remove_bgs_terms(removebg_endpoint, local_api,
                                                            photo_path, tmp_path):
    # Given the key's usage plan throttle spent
    client = removebg.RemoveBg(local_api.api_key, str(tmp_path / "removebg-errors.log"))
    with throttled_to_one_request(local_api):
        # When the client calls
        error = refusal_of(lambda: client.remove_background_from_img_file(str(photo_path)))
    # Then it raised with 429, remove.bg's title, and the delay to wait
    assert error.response.status_code == 429
    assert removebg_error_of(error)["title"] == "Rate limit exceeded"
    assert error.response.headers["Retry-After"] == "1"


def test_a_native_route_keeps_its_own_error_shape(local_api):
    # Given no key, When a native route is called, Then the gateway answers in the native shape
    answer = requests.get(f"{local_api.base_url}/v1/account", timeout=CLIENT_SECONDS)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "unauthorized"


# --- npm `remove.bg` ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def npm_client(tmp_path_factory) -> Path:
    """The npm package installed into a throw-away folder; skipped without node and npm."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed to drive the npm remove.bg client")
    folder = tmp_path_factory.mktemp("npm-removebg")
    (folder / "package.json").write_text('{"name": "cutout-removebg-e2e", "private": true}')
    try:
        done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--ignore-scripts",
                               "--loglevel=error", NPM_PACKAGE], cwd=folder,
                              capture_output=True, text=True, timeout=NPM_INSTALL_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.skip(f"npm install {NPM_PACKAGE} did not finish (no registry reachable?)")
    if done.returncode != 0:
        pytest.skip(f"npm install {NPM_PACKAGE} failed (no registry reachable?): "
                    f"{done.stderr.strip()[-300:]}")
    (folder / "drive.js").write_text(NODE_SCRIPT)
    return folder


def run_npm_client(folder: Path, local_api, mode: str, source: str, output: Path,
                   key: str | None = "", options: dict | None = None) -> dict:
    """One call of the npm client, bounded in time; `key` "" is the demo key, None none;
    `options` are the client's own (scale, position, bg_color, ...), as a caller passes them.

    (With no `apiKey` at all the client fails in Node before sending, on an undefined header
    value; "no key" is therefore its empty key, an `X-Api-Key` header with nothing in it.)"""
    env = {"PATH": str(Path(shutil.which("node")).parent),
           "REMOVEBG_KEY": "" if key is None else key or local_api.api_key,
           "REMOVEBG_URL": f"{local_api.base_url}/v1.0/removebg",
           "REMOVEBG_OPTIONS": json.dumps(options or {})}
    done = subprocess.run(["node", "drive.js", mode, source, str(output)], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=CLIENT_SECONDS)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_node_client_gets_a_cutout_of_a_file_as_json(npm_client, local_api, photo_path,
                                                         tmp_path):
    # When the npm client sends the photo as a multipart file with Accept: application/json
    output = tmp_path / "node-cutout.png"
    answer = run_npm_client(npm_client, local_api, "file", str(photo_path), output)
    # Then it resolved with remove.bg's headers and wrote the decoded result_b64
    assert answer["ok"]["resultWidth"] == "451" and answer["ok"]["resultHeight"] == "300"
    assert answer["ok"]["creditsCharged"] == "0" and answer["ok"]["detectedType"] == "other"
    assert_a_cutout_of(cutout_of(output), (451, 300))


def test_the_node_client_cuts_out_an_allow_listed_s3_image_url(npm_client, local_api, moto_s3,
                                                              photo_path, tmp_path):
    # Given the photo in the demo bucket, under the demo account's folder
    key = f"{DEMO_ACCOUNT_ID}/by-url/node.jpg"
    moto_s3.put_object(Bucket=DEMO_BUCKET, Key=key, Body=photo_path.read_bytes())
    output = tmp_path / "node-by-url.png"
    # When the npm client names it by its s3:// location (its removeBackgroundFromImageUrl)
    answer = run_npm_client(npm_client, local_api, "url", f"s3://{DEMO_BUCKET}/{key}", output)
    # Then it resolved and wrote the cutout
    assert "ok" in answer, answer
    assert_a_cutout_of(cutout_of(output), (451, 300))


def test_the_node_client_gets_a_cutout_of_base64(npm_client, local_api, photo_path, tmp_path):
    # Given the photo as base64, which the npm client sends as JSON image_file_b64
    output = tmp_path / "node-b64.png"
    source = base64.b64encode(photo_path.read_bytes()).decode()
    # When it calls
    answer = run_npm_client(npm_client, local_api, "base64", source, output)
    # Then it resolved and wrote the cutout
    assert "ok" in answer, answer
    assert_a_cutout_of(Image.open(io.BytesIO(output.read_bytes())), (451, 300))


def test_the_node_client_is_told_an_image_url_is_not_fetched(npm_client, local_api, tmp_path):
    # Given the npm client asked to work from a URL on loopback
    # When it calls
    answer = run_npm_client(npm_client, local_api, "url", "http://127.0.0.1:1/a.jpg",
                            tmp_path / "never.png")
    # Then it rejected with remove.bg's errors, and nothing was fetched or written
    assert answer["errors"][0]["code"] == "image_url_not_allowed"
    assert not (tmp_path / "never.png").exists()


def test_the_node_client_rejects_with_remove_bgs_errors(npm_client, local_api, photo_path,
                                                        tmp_path):
    # Given the photo, and a file over the gateway's 10 MB
    huge = tmp_path / "huge.jpg"
    huge.write_bytes(bytes(OVER_THE_GATEWAY_LIMIT))
    never = tmp_path / "never.png"
    # When the npm client calls with a wrong key, with none, and with the file too large
    wrong = run_npm_client(npm_client, local_api, "file", str(photo_path), never, WRONG_KEY)
    missing = run_npm_client(npm_client, local_api, "file", str(photo_path), never, None)
    too_large = run_npm_client(npm_client, local_api, "file", str(huge), never)
    # Then it rejected each time with remove.bg's errors list (what it hands its caller)
    for answer in (wrong, missing):
        assert answer["errors"] == [{"title": "API Key invalid", "code": "auth_failed",
                                     "detail": answer["errors"][0]["detail"]}]
    assert too_large["errors"][0]["title"] == "File too large"
    assert too_large["errors"][0]["code"] == "file_too_large"
    assert not never.exists()


def test_the_node_client_is_throttled_in_remove_bgs_terms(npm_client, local_api, photo_path,
                                                          tmp_path):
    # Given the key's usage plan throttle spent
    with throttled_to_one_request(local_api):
        # When the npm client calls
        answer = run_npm_client(npm_client, local_api, "file", str(photo_path),
                                tmp_path / "never.png")
    # Then it rejected with remove.bg's rate-limit error
    assert answer["errors"][0]["title"] == "Rate limit exceeded"
    assert answer["errors"][0]["code"] == "throttled"


@pytest.mark.parametrize("mode", ["file", "base64"])
def test_the_node_client_frames_the_subject_with_scale_and_position(npm_client, local_api,
                                                                    photo_path, tmp_path, mode):
    # Given the photo cut out as it comes, and framed at 60% of the canvas, bottom-left,
    # as the npm client sends remove.bg's `scale` and `position` (a form field or JSON)
    source = str(photo_path) if mode == "file" else \
        base64.b64encode(photo_path.read_bytes()).decode()
    plain, framed = tmp_path / "plain.png", tmp_path / "framed.png"
    assert "ok" in run_npm_client(npm_client, local_api, mode, source, plain)
    answer = run_npm_client(npm_client, local_api, mode, source, framed,
                            options={"scale": "60%", "position": "0% 100%"})
    # Then it resolved with a cutout of the same canvas
    assert "ok" in answer, answer
    image = cutout_of(framed)
    assert_a_cutout_of(image, (451, 300))
    # And the subject's limiting side is 60% of it, against the left and bottom edges
    left, top, right, bottom = image.getchannel("A").getbbox()
    assert abs(max((right - left) / 451, (bottom - top) / 300) - 0.6) < 0.02
    assert left == 0 and bottom == 300
    assert image.getchannel("A").getbbox() != cutout_of(plain).getchannel("A").getbbox()
