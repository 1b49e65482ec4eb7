"""Opt-in training only: off keeps nothing anywhere, on keeps exactly input + mask,
opting out stops the capture at once and deletes what was kept."""

from __future__ import annotations

import io

import boto3
from integration_support import REGION, bucket_keys, load_function
from PIL import Image

from cutout.data import schema

PATH = "/v1/remove-background"


def set_opt_in(gateway, caller, value: bool):
    answer = gateway.request("PUT", "/v1/account/training-opt-in", key=caller.secret,
                             headers={"Content-Type": "application/json"},
                             body='{"opt_in": %s}' % ("true" if value else "false"))
    assert answer.status == 200
    return answer.json()


def remove(gateway, caller, image: bytes):
    answer = gateway.request("POST", PATH, key=caller.secret, body=image,
                             headers={"Content-Type": "image/png"})
    assert answer.status == 200
    return answer


def table_items(settings) -> list[dict]:
    return boto3.client("dynamodb", region_name=REGION).scan(
        TableName=settings.accounts_table)["Items"]


def test_non_opted_in_account_leaves_nothing_behind(gateway, caller, settings, png_image):
    # Given an account that never opted in, and the table as it is before the request
    items_before = table_items(settings)
    # When it removes a background
    remove(gateway, caller, png_image)
    # Then no bucket holds anything, and the table changed only by the day's usage counter
    # (two numbers, requests and pixels: nothing of the image)
    assert bucket_keys(settings.transient_bucket) == []
    assert bucket_keys(settings.training_bucket) == []
    after = table_items(settings)
    usage = [item for item in after if item["sk"]["S"].startswith("USAGE#")]
    assert [item for item in after if item not in usage] == items_before
    assert [set(item) for item in usage] == [{"pk", "sk", *schema.USAGE_COUNTERS}]


def test_opted_in_account_keeps_exactly_input_and_mask(gateway, caller, settings, png_image):
    # Given an account that opted in
    set_opt_in(gateway, caller, True)
    # When it removes a background
    answer = remove(gateway, caller, png_image)
    request_id = answer.headers["X-Request-Id"]
    # Then the training store holds exactly the input as sent and the mask, nothing else
    input_key = schema.training_object_key(caller.account_id, request_id, "input")
    mask_key = schema.training_object_key(caller.account_id, request_id, "mask.png")
    assert sorted(bucket_keys(settings.training_bucket)) == sorted([input_key, mask_key])
    s3 = boto3.client("s3", region_name=REGION)
    stored_input = s3.get_object(Bucket=settings.training_bucket, Key=input_key)
    assert stored_input["Body"].read() == png_image
    mask = Image.open(io.BytesIO(
        s3.get_object(Bucket=settings.training_bucket, Key=mask_key)["Body"].read()))
    assert mask.mode == "L" and mask.size == (320, 240)
    # KMS-encrypted with the deployment's key
    for key in (input_key, mask_key):
        head = s3.head_object(Bucket=settings.training_bucket, Key=key)
        assert head["ServerSideEncryption"] == "aws:kms"
        assert head["SSEKMSKeyId"] == settings.kms_key_id
    # And the transient bucket still holds nothing
    assert bucket_keys(settings.transient_bucket) == []


def test_opting_out_deletes_what_was_kept_and_stops_capture(gateway, caller, other_caller,
                                                            settings, png_image, jpeg_image):
    # Given two opted-in accounts that each contributed
    for who in (caller, other_caller):
        set_opt_in(gateway, who, True)
    remove(gateway, caller, png_image)
    remove(gateway, caller, png_image)
    remove(gateway, other_caller, png_image)
    # When the first opts out
    answer = set_opt_in(gateway, caller, False)
    # Then everything it contributed is gone, and it is told how much
    assert answer["deleted_training_objects"] == 4
    assert answer["training_opt_in"] is False
    remaining = bucket_keys(settings.training_bucket)
    assert not [k for k in remaining if k.startswith(schema.training_prefix(caller.account_id))]
    # And the other account's contribution is untouched
    assert len([k for k in remaining
                if k.startswith(schema.training_prefix(other_caller.account_id))]) == 2
    # And its next request keeps nothing
    remove(gateway, caller, png_image)
    assert not [k for k in bucket_keys(settings.training_bucket)
                if k.startswith(schema.training_prefix(caller.account_id))]


def test_an_opt_out_landing_during_a_request_leaves_nothing_behind(settings, stores, accounts,
                                                                   caller, png_image):
    # Given an opted-in account whose opt-out arrives while its image is being processed
    from integration_support import LocalContext, answer_of

    from cutout.engine import Engine
    from cutout.local.events import proxy_event
    from cutout.service.removal import build_removal_service

    accounts.set_opt_in(caller.account_id, True, changed_by="test")
    engine = Engine.shared(model_name=settings.model_name, max_pixels=settings.max_pixels)

    class OptOutDuringInference:
        """The real engine; the account opts out between the opt-in read and the capture."""

        def remove(self, data, options, keep_mask=False, background=None):
            result = engine.remove(data, options, keep_mask=keep_mask, background=background)
            accounts.set_opt_in(caller.account_id, False, changed_by="test")
            return result

    handler = load_function("remove_background").make_handler(
        build_removal_service(settings, engine=OptOutDuringInference(), stores=stores))
    event = proxy_event("POST", PATH, headers={"Content-Type": "image/png"}, body=png_image,
                        authorizer={"account_id": caller.account_id, "key_prefix": "p"})
    # When the request completes
    assert answer_of(handler(event, LocalContext())).status == 200
    # Then its capture was taken back: the training store holds nothing of the account
    assert bucket_keys(settings.training_bucket) == []


def test_opting_out_with_nothing_kept_is_harmless(gateway, caller, accounts):
    answer = set_opt_in(gateway, caller, False)
    assert answer["deleted_training_objects"] == 0
    assert accounts.opt_in_history(caller.account_id) == []


# --- an opt-out larger than one request can delete -----------------------------------------
BUDGET = 300  # objects one request deletes at most (the deployment's default is 5,000)


def test_an_opt_out_larger_than_one_request_stops_capture_at_once_and_finishes(
        settings, stores, handlers, caller, png_image):
    from integration_support import Gateway, LocalContext

    from cutout.service.accounts import AccountService

    # Given an opted-in account whose contribution is more than two requests' budget
    budgeted = AccountService(stores.accounts, stores.training, erasure_budget=BUDGET)
    functions = {name: h for name, h in handlers.items() if name not in ("authorizer", "account")}
    functions["account"] = load_function("account").make_handler(budgeted, settings=settings)
    gateway = Gateway(handlers["authorizer"], functions)
    set_opt_in(gateway, caller, True)
    for n in range(325):  # 650 real objects in moto's S3
        stores.training.put_contribution(caller.account_id, f"req{n:04d}", b"in", "image/png",
                                         b"mask")
    prefix = schema.training_prefix(caller.account_id)

    def kept() -> int:
        return len([k for k in training_keys(settings) if k.startswith(prefix)])

    # When it opts out
    answer = set_opt_in(gateway, caller, False)
    # Then the switch is off from this first answer, and the erasure is in progress
    assert answer["training_opt_in"] is False
    assert answer["training_erasure"]["state"] == "in_progress"
    assert answer["deleted_training_objects"] == BUDGET
    assert kept() == 650 - BUDGET
    # And a request made now keeps nothing more
    remove(gateway, caller, png_image)
    assert kept() == 650 - BUDGET
    # And the switch cannot go on again before the erasure is done
    again = gateway.request("PUT", "/v1/account/training-opt-in", key=caller.secret,
                            headers={"Content-Type": "application/json"}, body='{"opt_in": true}')
    assert again.status == 409 and again.json()["error"]["code"] == "erasure_in_progress"
    # When the account page reads the account, Then the erasure moves on and says how far
    progress = gateway.request("GET", "/v1/account", key=caller.secret).json()
    assert progress["training_erasure"]["state"] == "in_progress"
    assert progress["training_erasure"]["deleted_objects"] == 2 * BUDGET
    # When the scheduled sweeper runs, Then it finishes the erasure
    load_function("sweeper").make_handler(settings=settings)(
        {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}, LocalContext())
    assert kept() == 0
    done = gateway.request("GET", "/v1/account", key=caller.secret).json()["training_erasure"]
    assert done["state"] == "done" and done["deleted_objects"] == 650
    assert done["finished_at"] is not None


def training_keys(settings) -> list[str]:
    """Every key of the training store (more than one listing page)."""
    s3 = boto3.client("s3", region_name=REGION)
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=settings.training_bucket):
        keys.extend(o["Key"] for o in page.get("Contents", []))
    return keys
