"""Which `image_url` locations an account may name, and reading them.

A location is this account's when it is an object under `<account_id>/` in a bucket on the
deployment's source allow-list (the batches' list and folder rule, so one setting and one
rule say what an account's images are), or this account's own upload in the transient
bucket. Anything else is refused before any AWS call, with a message naming what is
accepted. An allow-listed object is read through a session of the image-url role whose
policy names that one object (`cutout.data.object_access.ObjectAccess`), HEAD before GET,
bounded like an upload; an upload is read as an `upload_id` would be.
"""

from __future__ import annotations

from typing import Protocol

from cutout.errors import (
    ConfigurationError,
    ImageObjectNotFound,
    ImageUrlNotAllowed,
)
from cutout.service.batch import account_folder
from cutout.service.requests import UPLOAD_ID, BucketObject, UploadedImage
from cutout.settings import Settings


class ObjectReader(Protocol):
    def read(self, account_id: str, request_id: str, bucket: str, key: str,
             max_bytes: int) -> bytes: ...


class ImageUrls:
    """The deployment's rule for `image_url`, and its reader; holds no request data."""

    def __init__(self, sources: frozenset[str], transient_bucket: str, region: str,
                 reader: ObjectReader | None) -> None:
        self._sources = sources
        self._transient_bucket = transient_bucket
        self._region = region
        self._reader = reader

    def resolve(self, location: BucketObject, account_id: str) -> BucketObject | UploadedImage:
        """The location as this account's object or upload; `ImageUrlNotAllowed` otherwise."""
        if location.region is not None and location.region != self._region:
            self._refuse(account_id, f"the URL names region {location.region}; this "
                                     f"deployment reads S3 in {self._region} only")
        if location.bucket == self._transient_bucket:
            upload_folder = f"uploads/{account_folder(account_id)}"
            upload_id = location.key.removeprefix(upload_folder)
            if location.key.startswith(upload_folder) and UPLOAD_ID.match(upload_id):
                return UploadedImage(upload_id)
            self._refuse(account_id, "in this deployment's transient bucket only this "
                                     "account's uploads may be named")
        if location.bucket not in self._sources:
            self._refuse(account_id, f"bucket {location.bucket!r} is not on the source "
                                     "allow-list")
        if not location.key.startswith(account_folder(account_id)):
            self._refuse(account_id, "the key is outside this account's folder")
        if self._reader is None:
            raise ConfigurationError("image_url needs the image-url role to read with "
                                     "(CUTOUT_IMAGE_URL_ROLE_ARN)")
        return location

    def read(self, location: BucketObject, account_id: str, request_id: str,
             max_bytes: int) -> bytes:
        """The bytes of a resolved allow-listed object; 404 when S3 has none to give."""
        from cutout.data.batch_objects import ObjectUnavailable

        if self._reader is None:  # resolve() has refused already
            raise ConfigurationError("image_url has no reader")
        try:
            return self._reader.read(account_id, request_id, location.bucket, location.key,
                                     max_bytes)
        except ObjectUnavailable as refused:
            # Without ListBucket S3 answers a missing object 403: the two are one answer.
            raise ImageObjectNotFound(
                f"image_url names no object this account can read ({refused.code}): check "
                "the bucket and key") from None

    def _refuse(self, account_id: str, reason: str) -> None:
        raise ImageUrlNotAllowed(f"image_url may name only this account's own images: "
                                 f"{self.accepted(account_id)}; {reason}")

    def accepted(self, account_id: str) -> str:
        """What this account may name, in words (the refusal's message)."""
        folder = account_folder(account_id)
        buckets = (", ".join(f"s3://{name}/{folder}..." for name in sorted(self._sources))
                   or "none: this deployment's source allow-list (cutout:batch_source_buckets) "
                      "is empty")
        return (f"an object in an allow-listed bucket under the account's folder ({buckets}), "
                f"also as https://<bucket>.s3.{self._region}.amazonaws.com/{folder}..., or the "
                f"account's upload s3://{self._transient_bucket}/uploads/{folder}<upload_id>")


def build_image_urls(settings: Settings) -> ImageUrls:
    """The rule of a deployment: its source allow-list, its transient bucket, its region."""
    from cutout.data.aws import current_region
    from cutout.data.object_access import ObjectAccess
    from cutout.service.batch import AllowList

    allow = AllowList.from_settings(settings)
    reader = ObjectAccess(settings.image_url_role_arn) if settings.image_url_role_arn else None
    return ImageUrls(allow.sources, settings.transient_bucket, current_region(), reader)
