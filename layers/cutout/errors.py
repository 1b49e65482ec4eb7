"""Typed errors of the whole library; the API maps them to status codes in one place.

Each error carries a stable machine-readable `code` and the HTTP `status` it means for a
client. Messages are written for a person and never contain image bytes, keys or URLs.
"""

from __future__ import annotations


class CutoutError(Exception):
    """Base of every error the library raises on purpose."""

    code = "internal_error"
    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- client mistakes -------------------------------------------------------------------
class InvalidRequest(CutoutError):
    code = "invalid_request"
    status = 400


class InvalidOption(InvalidRequest):
    code = "invalid_option"


class ImageTooLarge(CutoutError):
    """The input (bytes or pixels) is over a configured bound: refused before allocating."""

    code = "image_too_large"
    status = 413


class UnsupportedMediaType(CutoutError):
    code = "unsupported_media_type"
    status = 415


class UndecodableImage(CutoutError):
    """Not an image, a truncated one, or a format we do not read."""

    code = "undecodable_image"
    status = 422


class ImageTooComplex(CutoutError):
    """Its decoding work is not bounded by its size (a scan, chunk or frame bomb): refused
    from the container's structure before decoding."""

    code = "image_too_complex"
    status = 422


class Unauthorized(CutoutError):
    code = "unauthorized"
    status = 401


class Forbidden(CutoutError):
    code = "forbidden"
    status = 403


class NotFound(CutoutError):
    code = "not_found"
    status = 404


class Conflict(CutoutError):
    code = "conflict"
    status = 409


class AdminKeyRequired(Forbidden):
    """Only a key created with `--scope admin` turns the training opt-in on (any key turns it
    off)."""

    code = "admin_key_required"


class ErasureInProgress(Conflict):
    """The account's opt-out is still deleting its training data; the opt-in can be turned
    on again once `training_erasure.state` is `done`."""

    code = "erasure_in_progress"


class Throttled(CutoutError):
    code = "throttled"
    status = 429


# --- server side -----------------------------------------------------------------------
class ConfigurationError(CutoutError):
    """A setting is missing or invalid; the message names it."""

    code = "configuration_error"
    status = 500


class ModelError(CutoutError):
    """The model file is missing, unknown, or does not match its manifest checksum."""

    code = "model_error"
    status = 500


class TrainingDeletionFailed(CutoutError):
    """S3 refused to delete some of an account's training objects; retrying repeats it."""

    code = "training_deletion_failed"
    status = 503


class ServiceUnavailable(CutoutError):
    """AWS (S3, DynamoDB, KMS) throttled, failed or timed out after the client's own retries;
    nothing was left half-written, so the same request may be sent again after `Retry-After`."""

    code = "service_unavailable"
    status = 503
    # What the client reads: the detail (service, operation, AWS code) stays in our logs.
    public_message = ("a service this API depends on is busy or failing; retry after the "
                      "Retry-After delay and quote the request id if it persists")


class ResultTooLarge(CutoutError):
    """The encoded result does not fit a synchronous response; use the upload flow."""

    code = "result_too_large"
    status = 413


# --- request sources, keys, uploads and accounts ----------------------------------------
class MissingSource(InvalidRequest):
    """The request names no image: no body, no `image_file`, `image_base64` or `upload_id`."""

    code = "missing_source"


class MultipleSources(InvalidRequest):
    """The request names more than one image source; exactly one is allowed."""

    code = "multiple_sources"


class ImageUrlRefused(InvalidRequest):
    """We never fetch a URL the client names from inside the private network."""

    code = "image_url_not_supported"


class ImageUrlNotAllowed(InvalidRequest):
    """`image_url` names something other than an object of this account in an allow-listed
    bucket (or its own upload): never fetched, and the message says what is accepted."""

    code = "image_url_not_allowed"


class ImageObjectNotFound(NotFound):
    """The object `image_url` names is not there, or S3 refused the session to read it
    (without ListBucket S3 answers both 403, so the two are one error)."""

    code = "image_url_not_found"


class UnknownKey(Unauthorized):
    """The presented API key is not one we issued (or no key was presented)."""

    code = "invalid_api_key"


class RevokedKey(Unauthorized):
    code = "revoked_api_key"


class UploadNotFound(NotFound):
    """No upload with that id for this account (another account's id looks the same)."""

    code = "upload_not_found"


class AccountNotFound(NotFound):
    code = "account_not_found"


class KeyNotFound(NotFound):
    code = "key_not_found"


# --- the remove.bg route's own refusals (remove.bg's codes)
class FileTooLarge(ImageTooLarge):
    """The file is over what one synchronous request carries (remove.bg: `file_too_large`)."""

    code = "file_too_large"
    status = 400


class UnsupportedOption(InvalidOption):
    """A remove.bg option this service does not implement (with a value other than its default)."""

    code = "unsupported_option"


class ResolutionTooHigh(ImageTooLarge):
    """The image has more pixels than the deployment decodes."""

    code = "resolution_too_high"
    status = 400


class UnknownForeground(InvalidRequest):
    """The model found no subject: remove.bg answers this as an error, not an empty image."""

    code = "unknown_foreground"


# --- the sweeper
class SweepIncomplete(CutoutError):
    """S3 refused to delete some expired objects; the next run tries them again."""

    code = "sweep_incomplete"
    status = 500


# --- catalogue batches (`POST /v1/batches`): every refusal happens before anything runs,
# so a job that starts can only fail item by item.
class BatchesNotEnabled(CutoutError):
    """The deployment names no source and destination buckets (`cutout:batch_*_buckets`)."""

    code = "batches_not_enabled"
    status = 403


class InvalidLocation(InvalidRequest):
    """A source or destination that is not `s3://bucket/prefix/`."""

    code = "invalid_location"


class BucketNotAllowed(InvalidRequest):
    """A bucket the deployment's allow-list does not name for that role."""

    code = "bucket_not_allowed"


class LocationsOverlap(InvalidRequest):
    """Source and destination overlap (either inside the other, or a shared bucket's layout
    broken): an output could be written over a source, or read as one by a later run."""

    code = "locations_overlap"


class LocationNotOwned(Forbidden):
    """A prefix outside the calling account's own folder (`<account_id>/`) of the bucket."""

    code = "location_not_owned"


class EmptySource(InvalidRequest):
    """Nothing under the source prefix: a job would list nothing and do nothing."""

    code = "empty_source"


class BatchNotFound(NotFound):
    """No batch with that id for this account (another account's batch is not found either)."""

    code = "batch_not_found"


# --- remove.bg's other routes and backgrounds ------------------------------------------
class TrainingNotOptedIn(Forbidden):
    """`POST /v1.0/improve` from an account whose AI Training Data switch is off: nothing
    was kept, and the message says where the switch is."""

    code = "training_opt_in_required"


class MultipleBackgrounds(InvalidRequest):
    """More than one background was named (`bg_color`, `bg_image_file`, `bg_upload_id`):
    exactly one at most."""

    code = "multiple_bg_sources"
