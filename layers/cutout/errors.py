"""Typed errors of the whole library; the API maps them to status codes in one place.

Each error carries a stable machine-readable `code` and the HTTP `status` it means for a
client. Messages are written for a person and never contain image bytes, keys or URLs.
"""

from __future__ import annotations

from typing import Any


class CutoutError(Exception):
    """Base of every error the library raises on purpose."""

    code = "internal_error"
    status = 500

    def __init_subclass__(cls, *, code: str | None = None, status: int | None = None,
                          **kwargs: Any) -> None:
        """An error names its code, and its status where its base's is not it, in its class
        line: `class Gone(NotFound, code="gone")`."""
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code
        if status is not None:
            cls.status = status

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- client mistakes -------------------------------------------------------------------
class InvalidRequest(CutoutError, code="invalid_request", status=400):
    pass


class InvalidOption(InvalidRequest, code="invalid_option"):
    pass


class ImageTooLarge(CutoutError, code="image_too_large", status=413):
    """The input (bytes or pixels) is over a configured bound: refused before allocating."""


class UnsupportedMediaType(CutoutError, code="unsupported_media_type", status=415):
    pass


class UndecodableImage(CutoutError, code="undecodable_image", status=422):
    """Not an image, a truncated one, or a format we do not read."""


class ImageTooComplex(CutoutError, code="image_too_complex", status=422):
    """Its decoding work is not bounded by its size (a scan, chunk or frame bomb): refused
    from the container's structure before decoding."""


class Unauthorized(CutoutError, code="unauthorized", status=401):
    pass


class Forbidden(CutoutError, code="forbidden", status=403):
    pass


class NotFound(CutoutError, code="not_found", status=404):
    pass


class Conflict(CutoutError, code="conflict", status=409):
    pass


class AdminKeyRequired(Forbidden, code="admin_key_required"):
    """Only a key created with `--scope admin` turns the training opt-in on (any key turns it
    off)."""


class ErasureInProgress(Conflict, code="erasure_in_progress"):
    """The account's opt-out is still deleting its training data; the opt-in can be turned
    on again once `training_erasure.state` is `done`."""


class Throttled(CutoutError, code="throttled", status=429):
    pass


# --- server side -----------------------------------------------------------------------
class ConfigurationError(CutoutError, code="configuration_error", status=500):
    """A setting is missing or invalid; the message names it."""


class ModelError(CutoutError, code="model_error", status=500):
    """The model file is missing, unknown, or does not match its manifest checksum."""


class TrainingDeletionFailed(CutoutError, code="training_deletion_failed", status=503):
    """S3 refused to delete some of an account's training objects; retrying repeats it."""


class ServiceUnavailable(CutoutError, code="service_unavailable", status=503):
    """AWS (S3, DynamoDB, KMS) throttled, failed or timed out after the client's own retries;
    nothing was left half-written, so the same request may be sent again after `Retry-After`."""

    # What the client reads: the detail (service, operation, AWS code) stays in our logs.
    public_message = ("a service this API depends on is busy or failing; retry after the "
                      "Retry-After delay and quote the request id if it persists")


class ResultTooLarge(CutoutError, code="result_too_large", status=413):
    """The encoded result does not fit a synchronous response; use the upload flow."""


# --- request sources, keys, uploads and accounts ----------------------------------------
class MissingSource(InvalidRequest, code="missing_source"):
    """The request names no image: no body, no `image_file`, `image_base64` or `upload_id`."""


class MultipleSources(InvalidRequest, code="multiple_sources"):
    """The request names more than one image source; exactly one is allowed."""


class ImageUrlRefused(InvalidRequest, code="image_url_not_supported"):
    """We never fetch a URL the client names from inside the private network."""


class ImageUrlNotAllowed(InvalidRequest, code="image_url_not_allowed"):
    """`image_url` names something other than an object of this account in an allow-listed
    bucket (or its own upload): never fetched, and the message says what is accepted."""


class ImageObjectNotFound(NotFound, code="image_url_not_found"):
    """The object `image_url` names is not there, or S3 refused the session to read it
    (without ListBucket S3 answers both 403, so the two are one error)."""


class UnknownKey(Unauthorized, code="invalid_api_key"):
    """The presented API key is not one we issued (or no key was presented)."""


class RevokedKey(Unauthorized, code="revoked_api_key"):
    pass


class UploadNotFound(NotFound, code="upload_not_found"):
    """No upload with that id for this account (another account's id looks the same)."""


class AccountNotFound(NotFound, code="account_not_found"):
    pass


class KeyNotFound(NotFound, code="key_not_found"):
    pass


# --- the remove.bg route's own refusals (remove.bg's codes)
class FileTooLarge(ImageTooLarge, code="file_too_large", status=400):
    """The file is over what one synchronous request carries (remove.bg: `file_too_large`)."""


class UnsupportedOption(InvalidOption, code="unsupported_option"):
    """A remove.bg option this service does not implement (with a value other than its default)."""


class ResolutionTooHigh(ImageTooLarge, code="resolution_too_high", status=400):
    """The image has more pixels than the deployment decodes."""


class UnknownForeground(InvalidRequest, code="unknown_foreground"):
    """The model found no subject: remove.bg answers this as an error, not an empty image."""


# --- the sweeper
class SweepIncomplete(CutoutError, code="sweep_incomplete", status=500):
    """S3 refused to delete some expired objects; the next run tries them again."""


# --- catalogue batches (`POST /v1/batches`): every refusal happens before anything runs,
# so a job that starts can only fail item by item.
class BatchesNotEnabled(CutoutError, code="batches_not_enabled", status=403):
    """The deployment names no source and destination buckets (`cutout:batch_*_buckets`)."""


class InvalidLocation(InvalidRequest, code="invalid_location"):
    """A source or destination that is not `s3://bucket/prefix/`."""


class BucketNotAllowed(InvalidRequest, code="bucket_not_allowed"):
    """A bucket the deployment's allow-list does not name for that role."""


class LocationsOverlap(InvalidRequest, code="locations_overlap"):
    """Source and destination overlap (either inside the other, or a shared bucket's layout
    broken): an output could be written over a source, or read as one by a later run."""


class LocationNotOwned(Forbidden, code="location_not_owned"):
    """A prefix outside the calling account's own folder (`<account_id>/`) of the bucket."""


class EmptySource(InvalidRequest, code="empty_source"):
    """Nothing under the source prefix: a job would list nothing and do nothing."""


class BatchNotFound(NotFound, code="batch_not_found"):
    """No batch with that id for this account (another account's batch is not found either)."""


# --- remove.bg's other routes and backgrounds ------------------------------------------
class TrainingNotOptedIn(Forbidden, code="training_opt_in_required"):
    """`POST /v1.0/improve` from an account whose AI Training Data switch is off: nothing
    was kept, and the message says where the switch is."""


class MultipleBackgrounds(InvalidRequest, code="multiple_bg_sources"):
    """More than one background was named (`bg_color`, `bg_image_file`, `bg_upload_id`):
    exactly one at most."""
