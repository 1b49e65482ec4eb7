"""24-hour rule checks: the transient bucket's 1-day lifecycle rule, the sweeper's schedule and
its recent runs, and the oldest object under `uploads/` and `results/` right now."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from cutout.data.transient import TRANSIENT_PREFIXES
from cutout.service.retention import RETENTION
from cutout.verify.report import Check, Evidence, NotApplicable, Verifies
from cutout.verify.stack import Deployment

PROMISE = ("24-hour rule: transient objects expire by a 1-day lifecycle rule and a scheduled "
           "sweeper deletes each before it is 24 hours old")
SWEEPER = "Sweeper"  # the sweeper function's logical id (infrastructure/functions.py) holds it
RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")


def expiry_days(s3: Any, bucket: str) -> int | None:
    """The shortest Expiration.Days of an enabled rule that covers every object."""
    try:
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    except ClientError:
        return None
    days = [rule["Expiration"]["Days"] for rule in rules
            if rule.get("Status") == "Enabled" and "Days" in rule.get("Expiration", {})
            and not (rule.get("Filter", {}).get("Prefix") or rule.get("Prefix"))
            and not {"Tag", "And"} & set(rule.get("Filter", {}))]
    return min(days) if days else None


@Verifies("retention.lifecycle", PROMISE,
           ("s3 GetBucketLifecycleConfiguration of the transient bucket: an enabled "
            "whole-bucket rule expiring objects after 1 day"))
def lifecycle_rule(deployment: Deployment, this: Verifies) -> Check:
    bucket = deployment.required("TransientBucketName")
    days = expiry_days(deployment.client("s3"), bucket)
    failures = [] if days == 1 else [
        f"the transient bucket {bucket} has " + ("no whole-bucket expiration rule" if days is None
                                                 else f"a {days}-day expiration, not 1 day")]
    return this.result(failures,
                       [Evidence(deployment.bucket_arn(bucket), "Rules[].Expiration.Days", days)],
                       "The transient bucket's lifecycle rule expires every object after 1 day.")


def _sweeper(deployment: Deployment) -> str | None:
    found = [item.physical_id for item in deployment.of_type("AWS::Lambda::Function")
             if SWEEPER in item.logical_id]
    return found[0] if found else None


def rate_of(expression: str | None) -> timedelta | None:
    match = RATE.fullmatch(expression or "")
    if not match:
        return None
    unit = match.group(2).rstrip("s") + "s"
    return timedelta(**{unit: int(match.group(1))})


@Verifies("retention.sweeper_schedule", PROMISE,
           ("events DescribeRule and ListTargetsByRule of the stack's rules: one ENABLED rate "
            "rule targets the sweeper, at most every 12 hours"))
def sweeper_schedule(deployment: Deployment, this: Verifies) -> Check:
    sweeper = _sweeper(deployment)
    if not sweeper:
        return Check("retention.sweeper_schedule", PROMISE, "fail",
                     "The stack has no sweeper function: only the lagging lifecycle rule deletes.",
                     (), this.how)
    events = deployment.client("events")
    sweeper_arn = deployment.client("lambda").get_function_configuration(
        FunctionName=sweeper)["FunctionArn"]
    evidence, schedules = [], []
    for rule in deployment.of_type("AWS::Events::Rule"):
        name = rule.physical_id.split("|")[-1]
        found = events.describe_rule(Name=name)
        targets = [item["Arn"] for item in events.list_targets_by_rule(Rule=name)["Targets"]]
        if sweeper_arn not in targets:
            continue
        evidence += [Evidence(found["Arn"], "State", found.get("State")),
                     Evidence(found["Arn"], "ScheduleExpression", found.get("ScheduleExpression"))]
        if found.get("State") == "ENABLED":
            schedules.append(rate_of(found.get("ScheduleExpression")))
    ok = [rate for rate in schedules if rate is not None and rate <= timedelta(hours=12)]
    failures = [] if ok else ["no enabled schedule runs the sweeper at least every 12 hours"]
    deployment.cache["sweep_interval"] = min(ok) if ok else None
    return this.result(failures, evidence,
                       f"An enabled rule runs the sweeper every {min(ok) if ok else ''}.")


@Verifies("retention.sweeper_runs", PROMISE,
           ("cloudwatch GetMetricStatistics AWS/Lambda Invocations and Errors of the sweeper "
            "over the last two schedule intervals: at least one run, no error"))
def sweeper_recent_runs(deployment: Deployment, this: Verifies) -> Check:
    sweeper = _sweeper(deployment)
    interval = deployment.cache.get("sweep_interval")
    if not sweeper or interval is None:
        raise NotApplicable("No scheduled sweeper to look at (see retention.sweeper_schedule).")
    end = deployment.now()
    start = end - 2 * interval
    totals = {name: _metric_sum(deployment.client("cloudwatch"), sweeper, name, start, end)
              for name in ("Invocations", "Errors")}
    evidence = [Evidence(f"lambda function {sweeper}", f"{name} since {start:%Y-%m-%dT%H:%MZ}",
                         value) for name, value in totals.items()]
    failures = []
    if totals["Invocations"] < 1:
        failures.append(f"the sweeper has not run in the last {2 * interval}")
    if totals["Errors"] > 0:
        failures.append(f"{totals['Errors']:g} sweeper run(s) failed in the last {2 * interval}")
    return this.result(failures, evidence,
                       f"The sweeper ran {totals['Invocations']:g} time(s) in the last "
                       f"{2 * interval} without an error.")


def _metric_sum(cloudwatch: Any, function: str, metric: str, start: datetime,
                end: datetime) -> float:
    points = cloudwatch.get_metric_statistics(
        Namespace="AWS/Lambda", MetricName=metric,
        Dimensions=[{"Name": "FunctionName", "Value": function}],
        StartTime=start, EndTime=end, Period=300, Statistics=["Sum"])["Datapoints"]
    return float(sum(point["Sum"] for point in points))


@Verifies("retention.oldest_object", PROMISE,
           (f"s3 ListObjectsV2 of the transient bucket under {', '.join(TRANSIENT_PREFIXES)}: the "
            "oldest LastModified (object keys are not reported)"))
def oldest_transient_object(deployment: Deployment, this: Verifies) -> Check:
    bucket = deployment.required("TransientBucketName")
    now, s3 = deployment.now(), deployment.client("s3")
    evidence, failures = [], []
    for prefix in TRANSIENT_PREFIXES:
        oldest = None
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                oldest = item["LastModified"] if oldest is None else min(oldest,
                                                                         item["LastModified"])
        age = now - oldest if oldest else None
        evidence.append(Evidence(f"{deployment.bucket_arn(bucket)}/{prefix}",
                                 "age of the oldest object",
                                 "empty" if age is None else _hours(age)))
        if age is not None and age > RETENTION:
            failures.append(f"an object under {prefix} is {_hours(age)} old, over 24 hours")
    return this.result(failures, evidence,
                       f"Nothing under {' or '.join(TRANSIENT_PREFIXES)} is older than 24 hours "
                       "right now.")


def _hours(age: timedelta) -> str:
    return f"{age.total_seconds() / 3600:.1f} h"


CHECKS = (lifecycle_rule, sweeper_schedule, sweeper_recent_runs, oldest_transient_object)
