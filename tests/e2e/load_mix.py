"""Mixed traffic through `cutout serve`: every route, good and bad inputs, signed uploads.

Shared by the load test (tests/e2e/test_load.py) and the route benchmark
(benchmarks/bench_routes.py). A task is one client action (a signed upload is four requests:
POST /v1/uploads, the signed PUT, the removal by `upload_id`, the signed GET of the result);
each request comes back as an `Answer`, labelled with the route it went to.
"""

from __future__ import annotations

import base64
import io
import json
import random
import secrets
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests
from PIL import Image, ImageDraw

REMOVEBG = "POST /v1.0/removebg"
OVER_GATEWAY_LIMIT = 10 * 1024 * 1024 + 1  # API Gateway refuses bodies over 10 MB


@dataclass(frozen=True)
class Answer:
    """One request's outcome."""

    kind: str  # the task that sent it
    route: str  # "METHOD /path" of the API, or "S3 PUT"/"S3 GET" for a signed link
    status: int
    content_type: str
    body: bytes
    seconds: float

    @property
    def from_api(self) -> bool:
        return not self.route.startswith("S3 ")

    def json(self) -> object:
        return json.loads(self.body)


def small_images() -> dict[str, bytes]:
    """A 96x72 subject on a plain background, as JPEG and PNG: decode and encode stay cheap."""
    picture = Image.new("RGB", (96, 72), (214, 221, 230))
    ImageDraw.Draw(picture).ellipse((28, 14, 70, 66), fill=(160, 60, 40))
    encoded = {}
    for name, form in (("jpeg", "JPEG"), ("png", "PNG")):
        buffer = io.BytesIO()
        picture.save(buffer, form)
        encoded[name] = buffer.getvalue()
    return encoded


class Traffic:
    """The tasks, against one running API with one valid key."""

    def __init__(self, base_url: str, api_key: str, timeout: float = 180) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.timeout = timeout
        self.images = small_images()
        self.tasks: dict[str, Callable[[], list[Answer]]] = {
            name.removeprefix("task_"): getattr(self, name)
            for name in dir(self) if name.startswith("task_")}

    # --- sending ---------------------------------------------------------------------------
    def _send(self, kind: str, route: str, url: str, *, key: str | None = "valid",
              **arguments) -> Answer:
        headers = dict(arguments.pop("headers", {}))
        if key == "valid":
            headers["x-api-key"] = self.api_key
        elif key is not None:
            headers["x-api-key"] = key
        first, second = route.split(" ", 1)
        method = second if first == "S3" else first
        started = time.perf_counter()
        response = requests.request(method, url, headers=headers, timeout=self.timeout,
                                    **arguments)
        return Answer(kind, route, response.status_code,
                      response.headers.get("content-type", ""), response.content,
                      time.perf_counter() - started)

    def _api(self, kind: str, route: str, path: str | None = None, **arguments) -> Answer:
        return self._send(kind, route, self.base_url + (path or route.split(" ", 1)[1]),
                          **arguments)

    # --- reads and switches ----------------------------------------------------------------
    def task_account(self) -> list[Answer]:
        return [self._api("account", "GET /v1/account")]

    def task_privacy(self) -> list[Answer]:
        return [self._api("privacy", "GET /v1/privacy")]

    def task_account_page(self) -> list[Answer]:
        path = random.choice(("/account", "/account/account.js", "/account/account.css"))
        return [self._api("account_page", f"GET {path}", key=None)]

    def task_opt_in(self) -> list[Answer]:
        return [self._api("opt_in", "PUT /v1/account/training-opt-in",
                          json={"opt_in": random.random() < 0.5})]

    def opt_out(self) -> Answer:
        """Turn the switch off (and delete what was captured): the account as it started."""
        return self._api("opt_out", "PUT /v1/account/training-opt-in", json={"opt_in": False})

    # --- removals (each runs the engine once) ----------------------------------------------
    def task_removal_raw(self) -> list[Answer]:
        return [self._api("removal_raw", "POST /v1/remove-background",
                          data=self.images["jpeg"], headers={"content-type": "image/jpeg"})]

    def task_removal_multipart(self) -> list[Answer]:
        return [self._api("removal_multipart", "POST /v1/remove-background",
                          files={"image_file": ("photo.png", self.images["png"], "image/png")},
                          data={"format": "webp"})]

    def task_removal_json(self) -> list[Answer]:
        encoded = base64.b64encode(self.images["jpeg"]).decode("ascii")
        return [self._api("removal_json", "POST /v1/remove-background",
                          json={"image_base64": encoded, "bg_color": "#ffffff"})]

    def task_removebg_multipart(self) -> list[Answer]:
        return [self._api("removebg_multipart", REMOVEBG, files={
            "image_file": ("photo.jpg", self.images["jpeg"], "image/jpeg")},
            data={"size": "auto"})]

    def task_removebg_json(self) -> list[Answer]:
        encoded = base64.b64encode(self.images["jpeg"]).decode("ascii")
        return [self._api("removebg_json", REMOVEBG, json={"image_file_b64": encoded},
                          headers={"accept": "application/json"})]

    # --- signed uploads ----------------------------------------------------------------------
    def _upload(self, kind: str) -> tuple[list[Answer], dict | None]:
        created = self._api(kind, "POST /v1/uploads")
        if created.status != 201:
            return [created], None
        return [created], created.json()

    def task_upload_only(self) -> list[Answer]:
        """A link asked for and never used: nothing may be stored."""
        return self._upload("upload_only")[0]

    def task_upload_put(self) -> list[Answer]:
        """An image uploaded and never removed: the sweeper's to delete."""
        answers, upload = self._upload("upload_put")
        if upload is not None:
            answers.append(self._send("upload_put", "S3 PUT", upload["upload_url"], key=None,
                                      data=self.images["jpeg"], headers=upload["headers"]))
        return answers

    def task_upload_removal(self) -> list[Answer]:
        """The whole flow: link, signed PUT, removal by `upload_id`, signed GET of the result."""
        answers, upload = self._upload("upload_removal")
        if upload is None:
            return answers
        answers.append(self._send("upload_removal", "S3 PUT", upload["upload_url"], key=None,
                                  data=self.images["jpeg"], headers=upload["headers"]))
        removal = self._api("upload_removal", "POST /v1/remove-background",
                            json={"upload_id": upload["upload_id"]})
        answers.append(removal)
        if removal.status == 200:
            answers.append(self._send("upload_removal", "S3 GET", removal.json()["result_url"],
                                      key=None))
        return answers

    # --- bad inputs ------------------------------------------------------------------------
    def task_wrong_key(self) -> list[Answer]:
        route = random.choice(("GET /v1/account", "POST /v1/uploads", REMOVEBG))
        return [self._api("wrong_key", route, key="co_live_" + secrets.token_urlsafe(32))]

    def task_no_key(self) -> list[Answer]:
        route = random.choice(("GET /v1/privacy", "POST /v1/remove-background",
                               "PUT /v1/account/training-opt-in"))
        return [self._api("no_key", route, key=None)]

    def task_garbage_image(self) -> list[Answer]:
        return [self._api("garbage_image", "POST /v1/remove-background",
                          data=b"\xff\xd8\xff\xe0 not really a jpeg" * 20,
                          headers={"content-type": "image/jpeg"})]

    def task_garbage_json(self) -> list[Answer]:
        body = random.choice((b'{"image_base64": ', b'{"image_base64": "@@not base64@@"}',
                              b"[1, 2, 3]", b'{"upload_id": "../../etc/passwd"}',
                              b'{"upload_id": "' + secrets.token_urlsafe(32).encode() + b'"}'))
        return [self._api("garbage_json", "POST /v1/remove-background", data=body,
                          headers={"content-type": "application/json"})]

    def task_garbage_media_type(self) -> list[Answer]:
        return [self._api("garbage_media_type", "POST /v1/remove-background",
                          data=b"hello", headers={"content-type": "text/plain"})]

    def task_garbage_opt_in(self) -> list[Answer]:
        body = random.choice((b'{"opt_in": "yes"}', b"true", b"{", b'{"opt_in": 1}'))
        return [self._api("garbage_opt_in", "PUT /v1/account/training-opt-in", data=body,
                          headers={"content-type": "application/json"})]

    def task_garbage_removebg(self) -> list[Answer]:
        if random.random() < 0.5:
            return [self._api("garbage_removebg", REMOVEBG,
                              files={"image_file": ("x.jpg", b"\x00garbage" * 30, "image/jpeg")})]
        return [self._api("garbage_removebg", REMOVEBG,
                          data={"image_url": "http://169.254.169.254/latest/meta-data/"})]

    def task_garbage_part_header(self) -> list[Answer]:
        """A multipart part header with a line break in it (a header injection attempt)."""
        boundary = secrets.token_hex(12)
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image_file\"; "
                f"filename=\"a.jpg\"\r\nContent-Type: image/jpeg\nX-Injected: yes\r\n\r\n"
                ).encode() + self.images["jpeg"] + f"\r\n--{boundary}--\r\n".encode()
        route = random.choice(("POST /v1/remove-background", REMOVEBG))
        return [self._api("garbage_part_header", route, data=body, headers={
            "content-type": f"multipart/form-data; boundary={boundary}"})]

    def task_garbage_batch(self) -> list[Answer]:
        if random.random() < 0.5:
            return [self._api("garbage_batch", "POST /v1/batches",
                              json={"source": "s3://not-allowed/x/", "destination": "nope"})]
        return [self._api("garbage_batch", "GET /v1/batches/{batch_id}",
                          path=f"/v1/batches/{secrets.token_hex(8)}")]

    def task_unknown_route(self) -> list[Answer]:
        method, path = random.choice((("GET", "/v1/nope"), ("POST", "/v2/remove-background"),
                                      ("GET", "/account/secret.txt"), ("DELETE", "/v1/account"),
                                      ("PATCH", "/v1/uploads"), ("GET", "/")))
        return [self._api("unknown_route", f"{method} {path}")]

    def task_oversized_body(self) -> list[Answer]:
        return [self._api("oversized_body", "POST /v1/remove-background",
                          data=b"\xff" * OVER_GATEWAY_LIMIT,
                          headers={"content-type": "image/jpeg"})]

    def task_oversized_header(self) -> list[Answer]:
        return [self._api("oversized_header", "GET /v1/account",
                          headers={"x-padding": "a" * 100_000})]


# How many of each task one round of the mix sends: cheap reads and refusals dominate, as
# in real traffic; 40 removals keep the engine busy without making the run long.
MIX: dict[str, int] = {
    "account": 110, "privacy": 50, "account_page": 45, "opt_in": 16,
    "upload_only": 14, "upload_put": 8, "upload_removal": 8,
    "removal_raw": 8, "removal_multipart": 8, "removal_json": 6,
    "removebg_multipart": 6, "removebg_json": 4,
    "wrong_key": 30, "no_key": 30, "garbage_image": 20, "garbage_json": 20,
    "garbage_media_type": 6, "garbage_opt_in": 10, "garbage_removebg": 16,
    "garbage_part_header": 6, "garbage_batch": 8, "unknown_route": 30,
    "oversized_body": 4, "oversized_header": 4,
}


def plan(mix: dict[str, int], seed: int) -> list[str]:
    """Every task of `mix`, in a shuffled (reproducible) order."""
    order = [kind for kind, count in mix.items() for _ in range(count)]
    random.Random(seed).shuffle(order)
    return order


def run(traffic: Traffic, kinds: Iterable[str], concurrency: int) -> list[Answer]:
    """Send the tasks `concurrency` at a time; every request's answer, in completion order."""
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        done = pool.map(lambda kind: traffic.tasks[kind](), list(kinds))
        return [answer for answers in done for answer in answers]
