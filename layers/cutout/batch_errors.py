"""Typed errors of catalogue batches (`POST /v1/batches`); mapped to answers like every other.

Every refusal happens before anything runs: a job that starts can only fail item by item.
"""

from __future__ import annotations

from cutout.errors import CutoutError, Forbidden, InvalidRequest, NotFound


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
