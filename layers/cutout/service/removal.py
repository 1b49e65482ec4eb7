"""Remove a background for an account: read the source, run the engine, keep only what is allowed.

Only for the container function (it imports the engine). Nothing about a request is
written anywhere unless the account opted in to training, and then exactly the input and
the mask of a removal that succeeded go to the training store. A result leaves inline when
it fits the caller's `inline_limit`; otherwise (or when the input came by upload) it is
written to the transient bucket and leaves as a short-lived signed link.

Under an AWS outage (`ServiceUnavailable`, 503) nothing is left half-written: a zero-retention
upload is deleted before anything is written, a stored result whose link cannot be signed is
deleted, and a training capture is best effort (the cutout is owed): a half-written or
unconfirmed contribution is taken back and the request still succeeds.

Each object a request leaves written goes on its retention receipt (`cutout.service.receipt`)
with its delete-by time, once it is sure to stay: a result once its link is signed, a
contribution once confirmed (or once taking it back failed).
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from cutout.data.accounts import AccountStore
from cutout.data.aws import AwsError
from cutout.data.training import TrainingStore
from cutout.data.transient import TransientStore
from cutout.engine import CutoutResult, RemovalOptions
from cutout.errors import (
    CutoutError,
    ImageUrlNotAllowed,
    ResultTooLarge,
    ServiceUnavailable,
    TrainingDeletionFailed,
)
from cutout.limits import INLINE_RESULT_BYTES, MAX_OBJECT_IMAGE_BYTES
from cutout.service.image_url import ImageUrls
from cutout.service.receipt import RESULT, TRAINING_INPUT, TRAINING_MASK, Lifetimes, Receipt
from cutout.service.requests import BucketObject, InlineImage, RemovalRequest, UploadedImage
from cutout.service.retention import RetentionRule
from cutout.service.usage import UsageMeter
from cutout.settings import Settings

if TYPE_CHECKING:
    from cutout.data.stores import Stores

logger = logging.getLogger(__name__)

_SAFE_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
# The stored input's media type comes from its own first bytes, never from a client string.
_SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"),
               (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif"), (b"BM", "image/bmp"),
               (b"II*\x00", "image/tiff"), (b"MM\x00*", "image/tiff"))


class RemovalEngine(Protocol):
    def remove(self, data: bytes, options: RemovalOptions, keep_mask: bool = False,
               background: bytes | None = None) -> CutoutResult: ...


class NoForeground(Exception):
    """Raised by `RemovalService.remove(require_foreground=True)` for an empty mask."""


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
                 zero_retention: bool = False, usage: UsageMeter | None = None,
                 image_urls: ImageUrls | None = None,
                 lifetimes: Lifetimes | None = None) -> None:
        self._engine = engine
        # Without a deployment's lifetimes: the default schedule and training retention.
        self._lifetimes = lifetimes or Lifetimes(
            RetentionRule(result_link_life=timedelta(seconds=result_url_ttl)),
            Settings.training_retention_days)
        self._image_urls = image_urls
        self._usage = usage if usage is not None else UsageMeter(accounts)
        self._accounts = accounts
        self._transient = transient
        self._training = training
        self._result_url_ttl = result_url_ttl
        self._zero_retention = zero_retention

    def remove(self, request: RemovalRequest, account_id: str, request_id: str, *,
               inline_limit: int = INLINE_RESULT_BYTES, link_allowed: bool = True,
               require_foreground: bool = False, receipt: Receipt | None = None) -> Removal:
        """Run one removal and decide how its result leaves.

        A result over `inline_limit` bytes, or any result of an uploaded input, leaves as a
        signed link; where no link is allowed (remove.bg's contract) it is `ResultTooLarge`.
        With `require_foreground`, an empty mask is `NoForeground` and nothing is kept.
        What it writes goes on `receipt`.
        """
        receipt = receipt if receipt is not None else Receipt()
        started = time.perf_counter()
        source = request.source
        if isinstance(source, BucketObject):  # refused before any AWS call if not the account's
            source = self._url_rule().resolve(source, account_id)
        # The opt-in first: a table outage must not use up the caller's upload.
        opted_in = self._accounts.get_account(account_id).opt_in
        image = self._read(source, account_id, request_id)
        background = None if request.background is None else \
            self._read(request.background, account_id, request_id)
        result = self._engine.remove(image, request.options, keep_mask=opted_in,
                                     background=background)
        if require_foreground and result.foreground is None:
            raise NoForeground("the model saw no subject to keep")
        must_link = isinstance(source, UploadedImage) or len(result.data) > inline_limit
        if must_link and not link_allowed:
            raise ResultTooLarge("the result is too large to return inline")
        link = self.publish(result, account_id, receipt) if must_link else None
        # Captured only once the removal has succeeded and its answer (its link) is decided.
        trained = opted_in and self._capture(account_id, request_id, image, result.mask_png,
                                             receipt)
        result.mask_png = None  # the mask has served its only purpose
        self._usage.record(account_id, result.width * result.height)  # counted on success
        elapsed = round((time.perf_counter() - started) * 1000, 2)
        return Removal(result=result, link=link, processing_ms=elapsed, trained=trained)

    def publish(self, result: CutoutResult, account_id: str,
                receipt: Receipt | None = None) -> ResultLink:
        """Store the result under the account's prefix and sign a short-lived GET for it."""
        result_id = secrets.token_urlsafe(24)
        key = self._transient.put_result(account_id, result_id, result.extension, result.data,
                                         result.content_type)
        try:
            url = self._transient.presign_result(key, self._result_url_ttl)
        except Exception:
            # The link is a stored result's only way out: without it, the result goes too.
            if not _quietly(lambda: self._transient.delete_objects([key]),
                            "result not deleted"):
                _on(receipt).add(RESULT, self._lifetimes.result())
            raise
        _on(receipt).add(RESULT, self._lifetimes.result())
        return ResultLink(url=url, expires_in=self._result_url_ttl)

    def _url_rule(self) -> ImageUrls:
        if self._image_urls is None:
            raise ImageUrlNotAllowed("this service reads no image_url: send the image itself")
        return self._image_urls

    def _read(self, source: InlineImage | UploadedImage | BucketObject, account_id: str,
              request_id: str) -> bytes:
        """The image; a zero-retention upload is deleted once read, before anything is written
        (so a failed deletion, a 503, leaves nothing else behind). An upload S3 could not
        serve was not read: it stays for the retry a 503 invites. An allow-listed object is
        the customer's own and is never deleted."""
        if isinstance(source, InlineImage):
            return source.data
        if isinstance(source, BucketObject):
            return self._url_rule().read(source, account_id, request_id,
                                         MAX_OBJECT_IMAGE_BYTES)
        try:
            image = self._transient.read_upload(account_id, source.upload_id,
                                                MAX_OBJECT_IMAGE_BYTES)
        except ServiceUnavailable:
            raise
        except Exception:  # read and refused (too large, not found): used up all the same
            self._used_up(source, account_id)
            raise
        self._used_up(source, account_id)
        return image

    def _used_up(self, source: UploadedImage, account_id: str) -> None:
        if self._zero_retention:
            self._transient.delete_upload(account_id, source.upload_id)

    def _capture(self, account_id: str, request_id: str, image: bytes,
                 mask_png: bytes | None, receipt: Receipt) -> bool:
        if mask_png is None:
            return False
        folder = request_id if _SAFE_ID.match(request_id) else secrets.token_hex(16)
        try:
            self._training.put_contribution(account_id, folder, image,
                                            sniffed_media_type(image), mask_png)
            # An opt-out may have landed while we worked: its sweep could have run before our
            # write, so look again and take our own contribution back if the flag is now off.
            kept = self._accounts.get_account(account_id).opt_in
        except ServiceUnavailable as outage:
            # Best effort: the input without its mask (or unconfirmed) is taken back below.
            logger.warning("training contribution not stored", extra={"detail": outage.message})
            kept = False
        except Exception:
            self._take_back(account_id, folder, receipt)
            raise
        if kept:
            self._kept(receipt)
        else:
            self._take_back(account_id, folder, receipt)
        return kept

    def _take_back(self, account_id: str, folder: str, receipt: Receipt) -> None:
        if not _quietly(lambda: self._training.delete_contribution(account_id, folder),
                        "training contribution not taken back"):
            self._kept(receipt)  # it may still be there: the receipt says until when

    def _kept(self, receipt: Receipt) -> None:
        delete_by = self._lifetimes.training()
        receipt.add(TRAINING_INPUT, delete_by)
        receipt.add(TRAINING_MASK, delete_by)


def _quietly(undo: Callable[[], object], failure: str) -> bool:
    """Undo a write while answering another error (or a best-effort miss): log its failure by
    error code, never raise it over the error the caller is owed. Whether it was undone."""
    try:
        undo()
    except (*AwsError, TrainingDeletionFailed) as error:
        detail = error.message if isinstance(error, CutoutError) else type(error).__name__
        logger.error(failure, extra={"detail": detail})
        return False
    return True


def _on(receipt: Receipt | None) -> Receipt:
    return receipt if receipt is not None else Receipt()


def sniffed_media_type(image: bytes) -> str:
    """The media type an image's own signature declares (`application/octet-stream` if none)."""
    if image[:4] == b"RIFF" and image[8:12] == b"WEBP":
        return "image/webp"
    for signature, media in _SIGNATURES:
        if image.startswith(signature):
            return media
    return "application/octet-stream"


def build_removal_service(settings: Settings, engine: RemovalEngine | None = None,
                          stores: Stores | None = None) -> RemovalService:
    """The service for a deployment: the shared engine and the stores from `settings`."""
    from cutout import wiring
    from cutout.engine import Engine
    from cutout.service.image_url import build_image_urls

    stores = stores or wiring.stores(settings)
    engine = engine or Engine.shared(model_name=settings.model_name,
                                     max_pixels=settings.max_pixels,
                                     threads=settings.inference_threads)
    return RemovalService(engine, stores.accounts, stores.transient, stores.training,
                          result_url_ttl=settings.result_url_ttl_seconds,
                          zero_retention=settings.zero_retention,
                          image_urls=build_image_urls(settings),
                          lifetimes=Lifetimes.from_settings(settings))
