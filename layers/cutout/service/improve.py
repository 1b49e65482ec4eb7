"""remove.bg's improvement program (`POST /v1.0/improve`): an image kept for training, only
for an account that opted in.

The opt-in is read first, strongly consistent, as a removal reads it: an account whose AI
Training Data switch is off is refused before its image is even read or decoded, and nothing
is written. An `image_url` names an object of the account's folder in an allow-listed bucket
(`cutout.service.image_url`, read as a removal reads it); an upload is not read here. An
opted-in account's image is decoded under the engine's bounds first (a bomb or a non-image
is refused, never stored), then kept in the training store with its note (tag
and file name), and the opt-in is read again: an opt-out that landed meanwhile takes the
submission back, as it does a removal's contribution. What stays written goes on the
request's retention receipt (`training-input`, `training-note`).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cutout.data.accounts import AccountStore
from cutout.data.aws import AwsError
from cutout.data.training import TrainingStore
from cutout.errors import (
    CutoutError,
    ImageUrlNotAllowed,
    TrainingDeletionFailed,
    TrainingNotOptedIn,
)
from cutout.limits import MAX_OBJECT_IMAGE_BYTES
from cutout.service.receipt import TRAINING_INPUT, TRAINING_NOTE, Lifetimes, Receipt
from cutout.service.removal import sniffed_media_type
from cutout.service.requests import BucketObject, InlineImage

if TYPE_CHECKING:
    from cutout.data.stores import Stores
    from cutout.service.image_url import ImageUrls
    from cutout.settings import Settings

logger = logging.getLogger(__name__)

NOT_OPTED_IN = (
    "this account has not opted in to AI training: nothing was kept. Images are kept for "
    "training only after the AI Training Data switch at the top of the account page "
    "(GET /account) is turned on with an admin key (or PUT /v1/account/training-opt-in)")
OPTED_OUT_MEANWHILE = (
    "this account opted out of AI training while the image was being stored: it was taken "
    "back and nothing was kept. Turn the AI Training Data switch on again on the account "
    "page (GET /account) to submit images")
NO_UPLOADS = ("image_url names an upload: /v1.0/improve reads only an object of this account's "
              "folder in an allow-listed bucket; send the image itself as image_file or "
              "image_file_b64")


@dataclass(frozen=True)
class Submission:
    """One image offered for training (sent inline, or an S3 object an `image_url` names),
    with remove.bg's optional `tag` and `image_filename`."""

    source: InlineImage | BucketObject
    tag: str | None = None
    filename: str | None = field(default=None, repr=False)  # a customer's name: not logged


class ImproveService:
    """Keeps submissions of opted-in accounts; holds collaborators only, never request data."""

    def __init__(self, accounts: AccountStore, training: TrainingStore,
                 check_image: Callable[[bytes], object], lifetimes: Lifetimes,
                 image_urls: ImageUrls | None = None,
                 new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        self._accounts = accounts
        self._image_urls = image_urls
        self._training = training
        self._lifetimes = lifetimes
        self._check_image = check_image  # decodes under the engine's bounds, or raises
        self._new_id = new_id

    def submit(self, submission: Submission, account_id: str, request_id: str,
               receipt: Receipt | None = None) -> str:
        """Keep the image for training and return its id; `TrainingNotOptedIn` otherwise.
        What it leaves written goes on `receipt`."""
        receipt = receipt if receipt is not None else Receipt()
        if not self._accounts.get_account(account_id).opt_in:
            raise TrainingNotOptedIn(NOT_OPTED_IN)
        image = self._image(submission.source, account_id, request_id)
        self._check_image(image)
        submission_id = self._new_id()
        note = json.dumps({"program": "improve", "tag": submission.tag,
                           "image_filename": submission.filename}).encode()
        try:
            self._training.put_submission(account_id, submission_id, image,
                                          sniffed_media_type(image), note)
            kept = self._accounts.get_account(account_id).opt_in
        except Exception:
            self._take_back(account_id, submission_id, receipt)  # nothing half-written stays
            raise
        if not kept:
            self._take_back(account_id, submission_id, receipt)
            raise TrainingNotOptedIn(OPTED_OUT_MEANWHILE)
        self._kept(receipt)
        logger.info("training submission kept", extra={"tag_given": submission.tag is not None})
        return submission_id

    def _image(self, source: InlineImage | BucketObject, account_id: str,
               request_id: str) -> bytes:
        if isinstance(source, InlineImage):
            return source.data
        if self._image_urls is None:
            raise ImageUrlNotAllowed("this service reads no image_url: send the image itself")
        location = self._image_urls.resolve(source, account_id)  # refused before any read
        if not isinstance(location, BucketObject):
            raise ImageUrlNotAllowed(NO_UPLOADS)
        return self._image_urls.read(location, account_id, request_id, MAX_OBJECT_IMAGE_BYTES)

    def _take_back(self, account_id: str, submission_id: str, receipt: Receipt) -> None:
        """Undo while another answer is owed: a failed undo is logged, never raised over it
        (the opt-out's erasure and the reconciler delete what is left), and the receipt says
        until when it may stay."""
        try:
            self._training.delete_contribution(account_id, submission_id)
        except (*AwsError, TrainingDeletionFailed) as error:
            detail = error.message if isinstance(error, CutoutError) else type(error).__name__
            logger.error("training submission not taken back", extra={"detail": detail})
            self._kept(receipt)

    def _kept(self, receipt: Receipt) -> None:
        delete_by = self._lifetimes.training()
        receipt.add(TRAINING_INPUT, delete_by)
        receipt.add(TRAINING_NOTE, delete_by)


def build_improve_service(settings: Settings, stores: Stores | None = None) -> ImproveService:
    """The service for a deployment: its stores, and the engine's decode bounds."""
    from cutout import wiring
    from cutout.engine.decode import decode_image
    from cutout.service.image_url import build_image_urls

    stores = stores or wiring.stores(settings)
    max_pixels = settings.max_pixels
    return ImproveService(stores.accounts, stores.training,
                          lambda image: decode_image(image, max_pixels),
                          Lifetimes.from_settings(settings), build_image_urls(settings))
