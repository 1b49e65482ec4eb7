"""Opt-in training checks: the training store expires what it keeps, and every account opted
in got there by a recorded, explicit change (the default is off). Account ids only."""

from __future__ import annotations

from typing import Any

from cutout.data.accounts import OPTIN_SK_PREFIX, PROFILE
from cutout.data.schema import PARTITION_KEY, SORT_KEY, account_pk
from cutout.verify.report import Check, Evidence, Verifies
from cutout.verify.retention import expiry_days
from cutout.verify.stack import Deployment

PROMISE = ("opt-in training only: off by default, changed only by an explicit call; only then "
           "is an image kept beyond 24 h, in a separate training store")


@Verifies("training.store_expiry", PROMISE,
           "s3 GetBucketLifecycleConfiguration of the training store: an enabled expiration rule")
def store_expiry(deployment: Deployment, this: Verifies) -> Check:
    bucket = deployment.required("TrainingBucketName")
    days = expiry_days(deployment.client("s3"), bucket)
    failures = [] if days else [f"the training store {bucket} keeps objects forever (no "
                                "whole-bucket expiration rule)"]
    return this.result(failures,
                       [Evidence(deployment.bucket_arn(bucket), "Rules[].Expiration.Days", days)],
                       f"The training store expires what it keeps after {days} day(s).")


@Verifies("training.opted_in", PROMISE,
           ("dynamodb Scan of the account profiles (opt_in true), then Query of each one's "
            "opt-in history: the latest recorded change turned it on"))
def opted_in_accounts(deployment: Deployment, this: Verifies) -> Check:
    table = deployment.required("AccountsTableName")
    dynamodb = deployment.client("dynamodb")
    opted, profiles = [], 0
    for page in dynamodb.get_paginator("scan").paginate(
            TableName=table, FilterExpression="#sk = :p",
            ExpressionAttributeNames={"#sk": SORT_KEY}, ExpressionAttributeValues={
                ":p": {"S": PROFILE}}):
        profiles += len(page["Items"])
        opted += [item[PARTITION_KEY]["S"].removeprefix(account_pk("")) for item in page["Items"]
                  if item.get("opt_in", {}).get("BOOL")]
    unexplained = [account for account in opted if not _last_change_on(dynamodb, table, account)]
    evidence = [Evidence(f"table {table}", "accounts / opted in", f"{profiles} / {len(opted)}"),
                Evidence(f"table {table}", "opted-in account ids", sorted(opted))]
    failures = [f"account(s) {', '.join(sorted(unexplained))} are opted in without a recorded "
                "opt-in change"] if unexplained else []
    return this.result(failures, evidence,
                       f"{len(opted)} of {profiles} account(s) opted in, each by a recorded "
                       "change; the rest keep the default, off.")


def _last_change_on(dynamodb: Any, table: str, account: str) -> bool:
    found = dynamodb.query(
        TableName=table, ConsistentRead=True, ScanIndexForward=False, Limit=1,
        KeyConditionExpression="#pk = :a AND begins_with(#sk, :o)",
        ExpressionAttributeNames={"#pk": PARTITION_KEY, "#sk": SORT_KEY},
        ExpressionAttributeValues={":a": {"S": account_pk(account)}, ":o": {"S": OPTIN_SK_PREFIX}},
    )["Items"]
    return bool(found and found[0].get("opt_in", {}).get("BOOL"))


CHECKS = (store_expiry, opted_in_accounts)
