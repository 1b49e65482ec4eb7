"""Remove a background for an account: read the source, run the engine, keep only what is allowed.

Only for the container function (it imports the engine). Nothing about a request is
written anywhere unless the account opted in to training, and then exactly the input and
the mask go to the training store. A result is written to the transient bucket only when it
must leave as a signed link (the input came by upload, or it is too large to return inline).
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from cutout.data.accounts import AccountStore
from cutout.data.training import TrainingStore
from cutout.data.transient import TransientStore
from cutout.engine import CutoutResult, RemovalOptions
from cutout.errors import MissingSource
from cutout.service.requests import RemovalRequest
from cutout.service.uploads import MAX_UPLOAD_BYTES

_SAFE_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")


class RemovalEngine(Protocol):
    def remove(self, data: bytes, options: RemovalOptions, keep_mask: bool = False) -> Any: ...


@dataclass(frozen=True)
class ResultLink:
    """A signed GET for a stored result; the URL is for the client only, never logged."""

    url: str = field(repr=False)
    expires_in: int


@dataclass(frozen=True)
class Removal:
    """What one request produced: the result, and a link when it leaves through S3."""

    result: CutoutResult = field(repr=False)
    link: ResultLink | None
    processing_ms: float
    trained: bool = False


class RemovalService:
    """One request at a time; holds collaborators only, never request data."""

    def __init__(self, engine: RemovalEngine, accounts: AccountStore, transient: TransientStore,
                 training: TrainingStore, *, result_url_ttl: int = 300,
                 zero_retention: bool = False) -> None:
        self._engine = engine
        self._accounts = accounts
        self._transient = transient
        self._training = training
        self._result_url_ttl = result_url_ttl
        self._zero_retention = zero_retention

    def remove(self, request: RemovalRequest, account_id: str, request_id: str) -> Removal:
        """Run one removal; answers a link when the input came through an upload."""
        started = time.perf_counter()
        options = RemovalOptions.from_params(request.params)  # bad options fail before any read
        image, content_type = request.image, request.image_content_type
        try:
            if request.upload_id is not None:
                image = self._transient.read_upload(account_id, request.upload_id,
                                                    MAX_UPLOAD_BYTES)
            if image is None:
                raise MissingSource("name an image: image_file, image_base64 or upload_id")
            opted_in = self._accounts.get_account(account_id).opt_in
            result = self._engine.remove(image, options, keep_mask=opted_in)
            trained = opted_in and self._capture(account_id, request_id, image, content_type,
                                                 result.mask_png)
            result.mask_png = None  # the mask has served its only purpose
            link = self.publish(result, account_id) if request.upload_id else None
        finally:
            if self._zero_retention and request.upload_id is not None:
                self._transient.delete_upload(account_id, request.upload_id)
        elapsed = round((time.perf_counter() - started) * 1000, 2)
        return Removal(result=result, link=link, processing_ms=elapsed, trained=trained)

    def publish(self, result: CutoutResult, account_id: str) -> ResultLink:
        """Store the result under the account's prefix and sign a short-lived GET for it."""
        result_id = secrets.token_urlsafe(24)
        key = self._transient.put_result(account_id, result_id, result.extension, result.data,
                                         result.content_type)
        url = self._transient.presign_result(key, self._result_url_ttl)
        return ResultLink(url=url, expires_in=self._result_url_ttl)

    def _capture(self, account_id: str, request_id: str, image: bytes, content_type: str,
                 mask_png: bytes | None) -> bool:
        if mask_png is None:
            return False
        folder = request_id if _SAFE_ID.match(request_id) else secrets.token_hex(16)
        self._training.put_contribution(account_id, folder, image, content_type, mask_png)
        # An opt-out may have landed while we worked: its sweep could have run before our
        # write, so look again and take our own contribution back if the flag is now off.
        if not self._accounts.get_account(account_id).opt_in:
            self._training.delete_contribution(account_id, folder)
            return False
        return True


def build_removal_service(settings: Any, engine: RemovalEngine | None = None,
                          stores: Any = None) -> RemovalService:
    """The service for a deployment: the shared engine and the stores from `settings`."""
    from cutout.data.stores import Stores
    from cutout.engine import Engine

    stores = stores or Stores.from_settings(settings)
    engine = engine or Engine.shared(model_name=settings.model_name,
                                     max_pixels=settings.max_pixels,
                                     threads=settings.inference_threads)
    return RemovalService(engine, stores.accounts, stores.transient, stores.training,
                          result_url_ttl=settings.result_url_ttl_seconds,
                          zero_retention=settings.zero_retention)
