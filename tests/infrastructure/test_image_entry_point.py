"""Every function started as Lambda starts it: the real entry point under the runtime client.

The inference image's file tree is built from the Dockerfile's own steps (lambda_tree.py:
hash-locked pins installed wheels-only for Lambda's platform, the model and code copied as the
Dockerfile copies them; this machine's Python, 3.11, where the image runs 3.13), its CMD is
started with `python -m awslambdaric` against a Runtime API on loopback (runtime_api.py), and
API Gateway proxy events go in. The zip functions start from their asset folders with the
library layer as infrastructure/layer.py packages it. Nothing of this machine's venv is on
their path, so a module the image forgot, a handler path that moved or a file no COPY brings
fails here rather than at the first request in AWS. AWS's own services are moto's server on
loopback; the authorizer's answer (run the same way) is what the other functions receive.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace

import pytest
from lambda_tree import (
    UnknownStep,
    build_image_tree,
    build_zip_trees,
    image_steps,
    lambda_environment,
    start_function,
)
from PIL import Image
from runtime_api import RuntimeApi

from cutout.data.aws import dynamodb_resource, s3_client
from cutout.data.batch_stores import BatchData
from cutout.data.batches import BatchRecord
from cutout.data.stores import Stores
from cutout.local.authorizer import RequestAuthorizer
from cutout.local.demo import create_demo_account
from cutout.local.events import proxy_event
from cutout.local.gateway import merged_headers
from cutout.local.moto_stack import MotoStack
from cutout.settings import Settings

# Builds two file trees from PyPI's wheels (~300 MB on a fresh machine): not `make quick`'s
pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def image_tree(tmp_path_factory):
    """Built once a session (it installs ~200 MB of wheels; pip's cache keeps reruns short),
    removed after it (pytest would keep three sessions' copies)."""
    root = tmp_path_factory.mktemp("inference-image")
    yield build_image_tree(root)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def zip_trees(tmp_path_factory):
    root = tmp_path_factory.mktemp("zip-functions")
    yield build_zip_trees(root)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def aws():
    with MotoStack() as resources:
        yield resources


@pytest.fixture(scope="module")
def demo(aws):
    with _patched_env(aws.environment()):
        settings = Settings.from_env()
        stores = Stores.from_clients(settings, s3_client(), dynamodb_resource())
        return create_demo_account(stores.accounts)


@contextlib.contextmanager
def _patched_env(values):
    import os

    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class Started:
    """One function process polling its own Runtime API; `invoke` answers as Lambda would."""

    def __init__(self, tree, function, environment, cmd=None):
        self.api = RuntimeApi().start()
        env = lambda_environment(tree, self.api.address, function, environment)
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in stop(); not a pipe)
        self.process = start_function(tree, env, self.log, cmd)

    def invoke(self, event):
        outcome = self.api.invoke(event)
        if outcome.kind == "init-error":
            raise AssertionError(f"init failed: {outcome.body}\n{self.output()[-4000:]}")
        return outcome

    def output(self) -> str:
        """What the function printed so far (its CloudWatch log in AWS)."""
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.api.stop()
        self.log.close()


@pytest.fixture(scope="module")
def start(aws):
    started = []

    def run(tree, function, cmd=None):
        function_process = Started(tree, function, aws.environment(), cmd)
        started.append(function_process)
        return function_process

    yield run
    for function_process in started:
        function_process.stop()


@pytest.fixture(scope="module")
def authorizer(zip_trees, start):
    return start(zip_trees["authorizer"], "authorizer")


@pytest.fixture(scope="module")
def authorize(authorizer, demo):
    """`requestContext.authorizer` for the demo key, from the authorizer function itself."""

    def invoke(event):
        outcome = authorizer.invoke(event)
        if outcome.kind == "error":
            raise Exception(outcome.body["errorMessage"])
        return outcome.body

    gateway = RequestAuthorizer(invoke, require_usage_key=False)
    return lambda method, path: gateway.authorize(method, path, {"x-api-key": demo.api_key})


@pytest.fixture(scope="module")
def inference(image_tree, start):
    return start(image_tree, "remove-background")


def _jpeg() -> bytes:
    picture = Image.new("RGB", (96, 72), (235, 235, 235))
    for x in range(30, 66):
        for y in range(18, 54):
            picture.putpixel((x, y), (200, 30, 60))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=90)
    return out.getvalue()


def _answer(outcome):
    assert outcome.kind == "response", outcome.body
    answer = outcome.body
    body = answer.get("body") or ""
    raw = base64.b64decode(body) if answer.get("isBase64Encoded") else body.encode()
    headers = merged_headers(answer.get("headers"), answer.get("multiValueHeaders"))
    return answer["statusCode"], {name.lower(): value for name, value in headers}, raw


def test_the_image_cmd_cuts_out_a_jpeg_as_a_png_with_alpha(inference, authorize):
    path = "/v1/remove-background"
    event = proxy_event("POST", path, headers={"Content-Type": "image/jpeg"}, body=_jpeg(),
                        authorizer=authorize("POST", path))
    status, headers, body = _answer(inference.invoke(event))
    assert status == 200, body[:500]
    assert headers["content-type"] == "image/png"
    cutout = Image.open(io.BytesIO(body))
    assert cutout.mode == "RGBA" and cutout.size == (96, 72)
    alpha = cutout.getchannel("A")
    assert alpha.getextrema()[0] < 128 < alpha.getextrema()[1]  # a background was removed
    # and what the function printed (CloudWatch, in AWS) holds neither image
    log = inference.output()
    assert "request" in log.lower(), "no log at all: this check would prove nothing"
    for image in (event["body"], base64.b64encode(body).decode()):
        assert image[100:160] not in log


def test_the_image_cmd_answers_a_broken_image_with_a_json_4xx(inference, authorize):
    path = "/v1/remove-background"
    event = proxy_event("POST", path, headers={"Content-Type": "image/jpeg"},
                        body=b"\xff\xd8\xff\xe0 not a jpeg at all",
                        authorizer=authorize("POST", path))
    status, headers, body = _answer(inference.invoke(event))
    assert 400 <= status < 500
    assert headers["content-type"].startswith("application/json")
    assert json.loads(body)["error"]["code"]


def test_the_image_cmd_refuses_an_event_without_the_authorizers_caller(inference):
    # The gateway never forwards such a request; if one arrives, it is refused, never a 500.
    event = proxy_event("POST", "/v1/remove-background", headers={"Content-Type": "image/jpeg"},
                        body=_jpeg())
    status, headers, body = _answer(inference.invoke(event))
    assert 400 <= status < 500, body[:500]
    assert json.loads(body)["error"]["code"]


def test_the_batch_workers_cmd_takes_a_distributed_map_batch(image_tree, start, aws, demo):
    # The worker's own entry point (infrastructure/batch.py names it) on the payload
    # Step Functions' ItemBatcher sends, for a job the API recorded: one image to cut out,
    # one missing; the answer is the counts the state machine selects.
    worker = start(image_tree, "batch-worker", ["batch_items.handler"])
    bucket, me, batch_id = aws.catalogue_bucket, f"{demo.account_id}/", "0" * 32
    with _patched_env(aws.environment()):
        BatchData.from_clients(Settings.from_env(), s3_client(),
                               dynamodb_resource()).store.create(BatchRecord(
            account_id=demo.account_id, batch_id=batch_id, source=f"s3://{bucket}/{me}shoot/",
            destination=f"s3://{bucket}/{me}cutouts/"))
    aws.client("s3").put_object(Bucket=bucket, Key=f"{me}shoot/a.jpg", Body=_jpeg())
    item = {"Etag": '"0"', "LastModified": 1796180874, "Size": 10, "StorageClass": "STANDARD"}
    payload = {
        "Items": [{**item, "Key": f"{me}shoot/a.jpg"}, {**item, "Key": f"{me}shoot/gone.jpg"}],
        "BatchInput": {"account_id": demo.account_id, "batch_id": batch_id,
                       "source_bucket": bucket, "source_prefix": f"{me}shoot/",
                       "destination_bucket": bucket, "destination_prefix": f"{me}cutouts/",
                       "options": {"format": "png"}, "overwrite": False},
    }
    outcome = worker.invoke(payload)
    assert outcome.kind == "response", (outcome.body, worker.output())
    assert (outcome.body["batch_id"], outcome.body["done"], outcome.body["failed"]) == (
        batch_id, 1, 1)
    written = aws.client("s3").get_object(Bucket=bucket, Key=f"{me}cutouts/a.png")["Body"]
    assert Image.open(io.BytesIO(written.read())).mode == "RGBA"


def test_a_handler_path_the_image_lacks_fails_its_init(image_tree, start):
    # What a renamed module or a CMD pointing nowhere does in Lambda: Runtime.ImportModuleError
    broken = start(image_tree, "remove-background", ["handlers.handler"])
    outcome = broken.api.invoke({})
    assert outcome.kind == "init-error"
    assert outcome.body["errorType"] == "Runtime.ImportModuleError"


@pytest.mark.parametrize("forgotten", ["cutout", "aws_lambda_powertools", "isal"])
def test_a_tree_without_a_copied_folder_or_an_installed_wheel_fails_its_init(
        image_tree, start, tmp_path, forgotten):
    # The same tree less one entry (the library COPY, a pinned wheel): the CMD cannot load
    task = tmp_path / "task"
    task.mkdir()
    for entry in image_tree.task_root.iterdir():
        if entry.name != forgotten:
            (task / entry.name).symlink_to(entry)
    broken = start(replace(image_tree, task_root=task), "remove-background")
    outcome = broken.api.invoke({})
    assert outcome.kind == "init-error", outcome.body
    assert outcome.body["errorType"] == "Runtime.ImportModuleError"
    assert forgotten in outcome.body["errorMessage"]


# Counts every module Python compiles from source while `import handler` runs in the tree.
_COUNT_COMPILES = """
import importlib.machinery, json
compiled = []
original = importlib.machinery.SourceFileLoader.source_to_code
def counted(self, data, path, **options):
    compiled.append(str(path))
    return original(self, data, path, **options)
importlib.machinery.SourceFileLoader.source_to_code = counted
import handler
print(json.dumps(compiled))
"""


def test_the_image_cold_start_compiles_no_module_from_source(image_tree):
    # Given the image's tree, which Lambda mounts read-only (no bytecode can be written)
    env = lambda_environment(image_tree, "127.0.0.1:9", "remove-background", {})
    # When its CMD's module is imported, as the runtime client's init does
    done = subprocess.run([sys.executable, "-S", "-c", _COUNT_COMPILES], cwd=image_tree.task_root,
                          env=env, capture_output=True, text=True, timeout=120, check=True)
    # Then every module it loads came with its bytecode: the Dockerfile's compileall step,
    # pip's for the wheels; a source compiled at each cold start would be listed here
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_a_dockerfile_step_the_replay_does_not_know_is_refused(tmp_path):
    # An ENV or WORKDIR added to the Dockerfile would change the image but not this tree
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM public.ecr.aws/lambda/python:3.13\nENV CUTOUT_X=1\n"
                          'CMD ["handler.handler"]\n')
    with pytest.raises(UnknownStep, match="ENV"):
        image_steps(dockerfile)
    assert image_steps().cmd == ["handler.handler"]  # and the real one is read whole


@pytest.mark.parametrize("function, method, path, status", [
    ("account", "GET", "/v1/account", 200),
    ("uploads", "POST", "/v1/uploads", 201),
])
def test_each_zip_function_answers_from_its_asset_and_the_layer(
        zip_trees, start, authorize, function, method, path, status):
    started = start(zip_trees[function], function)
    event = proxy_event(method, path, authorizer=authorize(method, path))
    answer_status, headers, body = _answer(started.invoke(event))
    assert answer_status == status, body[:500]
    assert json.loads(body)


def test_the_authorizer_logs_neither_the_key_nor_its_hash(authorizer, authorize, demo):
    from cutout.service.keys import hash_key

    authorize("GET", "/v1/account")
    log = authorizer.output()
    assert log.strip(), "the authorizer wrote no log at all: this check would prove nothing"
    assert demo.api_key not in log and hash_key(demo.api_key) not in log


def test_the_sweeper_runs_from_its_asset_and_the_layer(zip_trees, start):
    sweeper = start(zip_trees["sweeper"], "sweeper")
    outcome = sweeper.invoke({"version": "0", "detail-type": "Scheduled Event",
                              "source": "aws.events", "detail": {}})
    assert outcome.kind == "response", (outcome.body, sweeper.output())
