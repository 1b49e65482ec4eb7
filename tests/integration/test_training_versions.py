"""Training deletes remove every version, so a training store with versioning on keeps nothing.

The stack keeps versioning off (and expires noncurrent versions if it is ever turned on);
these tests prove the data layer does not rely on that: on moto, with versioning enabled.
"""

from __future__ import annotations

import boto3
from integration_support import REGION


def _versions(settings, prefix: str) -> list:
    listed = boto3.client("s3", region_name=REGION).list_object_versions(
        Bucket=settings.training_bucket, Prefix=prefix)
    return listed.get("Versions", []) + listed.get("DeleteMarkers", [])


def test_taking_back_one_contribution_leaves_no_version_of_it(stores, settings):
    # Given a versioned training store holding two contributions of one account
    boto3.client("s3", region_name=REGION).put_bucket_versioning(
        Bucket=settings.training_bucket, VersioningConfiguration={"Status": "Enabled"})
    stores.training.put_contribution("acct_v", "req1", b"in", "image/png", b"mask")
    stores.training.put_contribution("acct_v", "req1", b"in2", "image/png", b"mask2")
    stores.training.put_contribution("acct_v", "req10", b"other", "image/png", b"mask")
    # When the first request's contribution is taken back (an opt-out raced the capture)
    stores.training.delete_contribution("acct_v", "req1")
    # Then no version or delete marker of it is left, and the other request is untouched
    assert _versions(settings, "training/acct_v/req1/") == []
    assert len(_versions(settings, "training/acct_v/req10/")) == 2
