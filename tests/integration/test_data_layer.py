"""The data layer on moto: conditional writes where a race could corrupt state, keys stored
only as hashes, SSE-KMS on every write, deletes that leave no version behind."""

from __future__ import annotations

import json
from dataclasses import replace

import boto3
import pytest
from integration_support import (
    REGION,
    LocalContext,
    answer_of,
    bucket_keys,
    disc_image,
    load_function,
)

from cutout.data.accounts import ApiKeyRecord
from cutout.data.training import TrainingStore
from cutout.errors import (
    AccountNotFound,
    Conflict,
    ImageTooLarge,
    KeyNotFound,
    TrainingDeletionFailed,
)
from cutout.local.events import proxy_event
from cutout.service.keys import generate_key, hash_key


def test_an_account_is_created_once(accounts):
    accounts.create_account("acct_fixed")
    with pytest.raises(Conflict):
        accounts.create_account("acct_fixed")


def test_a_stale_opt_in_write_is_refused(stores, accounts):
    # Given two writers that read the same version of the account
    account = accounts.create_account()
    stale = stores.accounts.get_account(account.account_id)
    stores.accounts.write_opt_in(stale, True, "2026-01-01T00:00:00.000000Z", "a", "n1")
    # When the second writes from its stale read, Then it is refused, and one change is recorded
    with pytest.raises(Conflict):
        stores.accounts.write_opt_in(stale, False, "2026-01-01T00:00:01.000000Z", "b", "n2")
    assert stores.accounts.get_account(account.account_id).opt_in is True
    assert len(stores.accounts.opt_in_history(account.account_id)) == 1


def test_a_key_is_stored_only_for_an_existing_account_and_only_once(stores, accounts):
    key = generate_key()
    record = ApiKeyRecord(key.key_hash, "acct_missing", key.key_prefix, "2026-01-01T00:00:00Z")
    with pytest.raises(AccountNotFound):
        stores.accounts.put_key(record)
    account = accounts.create_account()
    record = replace(record, account_id=account.account_id)
    stores.accounts.put_key(record)
    with pytest.raises(Conflict):
        stores.accounts.put_key(record)


def test_the_table_never_holds_a_key(settings, accounts):
    # Given an issued key
    account = accounts.create_account()
    new_key, _ = accounts.issue_key(account.account_id)
    # Then the table holds its hash and prefix, never the secret part
    items = boto3.client("dynamodb", region_name=REGION).scan(
        TableName=settings.accounts_table)["Items"]
    dumped = json.dumps(items)
    assert new_key.secret not in dumped
    assert new_key.secret[len(new_key.key_prefix):] not in dumped
    assert hash_key(new_key.secret) in dumped
    assert new_key.secret not in repr(new_key)


def test_a_revocation_keeps_its_first_time(stores, accounts):
    account = accounts.create_account()
    _, record = accounts.issue_key(account.account_id)
    first = stores.accounts.revoke_key(record.key_hash, "2026-01-01T00:00:00.000000Z")
    again = stores.accounts.revoke_key(record.key_hash, "2027-01-01T00:00:00.000000Z")
    assert first.revoked_at == again.revoked_at == "2026-01-01T00:00:00.000000Z"
    with pytest.raises(KeyNotFound):
        stores.accounts.revoke_key("0" * 64, "2026-01-01T00:00:00.000000Z")


def test_keys_of_one_account_are_listed_by_the_index(accounts):
    first, second = accounts.create_account(), accounts.create_account()
    accounts.issue_key(first.account_id)
    accounts.issue_key(first.account_id)
    accounts.issue_key(second.account_id)
    assert len(accounts.list_keys(first.account_id)) == 2
    assert {k.account_id for k in accounts.list_keys(second.account_id)} == {second.account_id}


def test_every_transient_write_is_kms_encrypted_under_the_account(stores, settings):
    key = stores.transient.put_result("acct_a", "r1", "png", b"\x89PNG", "image/png")
    assert key == "results/acct_a/r1.png"
    head = boto3.client("s3", region_name=REGION).head_object(Bucket=settings.transient_bucket,
                                                              Key=key)
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms",
                                                                   settings.kms_key_id)


def test_an_opt_out_leaves_no_version_behind_in_a_versioned_training_store(stores, settings):
    # Given a training bucket with versioning on, and two contributions
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_bucket_versioning(Bucket=settings.training_bucket,
                             VersioningConfiguration={"Status": "Enabled"})
    stores.training.put_contribution("acct_a", "req1", b"in", "image/png", b"mask")
    stores.training.put_contribution("acct_a", "req1", b"in2", "image/png", b"mask2")
    # When the account's data is deleted
    assert stores.training.delete_account_data("acct_a") == 2
    # Then no version and no delete marker is left
    listed = s3.list_object_versions(Bucket=settings.training_bucket)
    assert listed.get("Versions", []) == [] and listed.get("DeleteMarkers", []) == []


def test_zero_retention_deletes_an_upload_once_it_was_used(settings, stores, accounts):
    # Given a zero-retention deployment and an uploaded image
    from cutout.service.removal import build_removal_service
    from cutout.service.uploads import UploadService

    zero = replace(settings, zero_retention=True)
    account = accounts.create_account()
    upload = UploadService(stores.transient).create(account.account_id)
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=settings.transient_bucket, Key=f"uploads/{account.account_id}/{upload.upload_id}",
        Body=disc_image())
    handler = load_function("remove_background").make_handler(
        build_removal_service(zero, stores=stores))
    event = proxy_event("POST", "/v1/remove-background",
                        headers={"Content-Type": "application/json"},
                        body=json.dumps({"upload_id": upload.upload_id}),
                        authorizer={"account_id": account.account_id, "key_prefix": "p"})
    # When it is processed
    assert answer_of(handler(event, LocalContext())).status == 200
    # Then only the result (behind its short link) remains
    remaining = bucket_keys(settings.transient_bucket)
    assert [k.split("/")[0] for k in remaining] == ["results"]


def test_a_key_is_revoked_by_hash_only_within_its_own_account(accounts):
    owner, stranger = accounts.create_account(), accounts.create_account()
    _, record = accounts.issue_key(owner.account_id)
    with pytest.raises(KeyNotFound):
        accounts.revoke_key(stranger.account_id, record.key_hash)
    assert accounts.revoke_key(owner.account_id, record.key_hash).revoked


class _RefusingS3:
    """The moto client, except that DeleteObjects refuses every key one by one, as real S3
    can (AccessDenied on one object) while the call itself succeeds."""

    def __init__(self, s3):
        self._s3 = s3

    def __getattr__(self, name):
        return getattr(self._s3, name)

    def delete_objects(self, Bucket, Delete):  # noqa: N803 - boto3's parameter names
        refused = [{"Key": o["Key"], "Code": "AccessDenied", "Message": "Access Denied"}
                   for o in Delete["Objects"]]
        return {"Errors": refused}


def test_an_opt_out_whose_deletion_s3_refused_is_an_error_not_a_quiet_success(stores, settings):
    # Given an opted-in account's contribution, and S3 refusing to delete its objects
    stores.training.put_contribution("acct_refused", "req1", b"input", "image/png", b"mask")
    s3 = boto3.client("s3", region_name="us-east-1")
    refusing = TrainingStore(_RefusingS3(s3), settings.training_bucket, settings.kms_key_id)
    # When the account's data is deleted / Then the failure is raised, with no key in it
    with pytest.raises(TrainingDeletionFailed) as failure:
        refusing.delete_account_data("acct_refused")
    assert "AccessDenied" in str(failure.value) and "acct_refused" not in str(failure.value)
    # and the objects are still there, as the error says
    listed = s3.list_objects_v2(Bucket=settings.training_bucket, Prefix="training/acct_refused/")
    assert listed["KeyCount"] == 2


def test_an_upload_is_read_with_a_bound_never_whole(stores, settings):
    # Given uploads just under, at and over a 1 KB limit, and an empty one
    s3 = boto3.client("s3", region_name=REGION)
    for name, size in (("under", 1023), ("exact", 1024), ("over", 5000), ("empty", 0)):
        s3.put_object(Bucket=settings.transient_bucket, Key=f"uploads/acct_b/{name}",
                      Body=b"x" * size)
    # When they are read with max_bytes=1024
    read = lambda name: stores.transient.read_upload("acct_b", name, max_bytes=1024)  # noqa: E731
    # Then the ones within the limit come back whole and the larger one is refused
    assert len(read("under")) == 1023 and len(read("exact")) == 1024
    assert read("empty") == b""
    with pytest.raises(ImageTooLarge):
        read("over")
