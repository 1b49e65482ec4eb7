"""Runs every check group against a deployment (and the live probes when given a key)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from botocore.exceptions import BotoCoreError, ClientError

from cutout.verify import access, encryption, network, retention, training
from cutout.verify.probes import Target, run_probes
from cutout.verify.report import FAIL, Check, Report
from cutout.verify.stack import Deployment

GROUPS: tuple[Iterable[Callable[[Deployment], Check]], ...] = (
    encryption.CHECKS, network.CHECKS, access.CHECKS, retention.CHECKS, training.CHECKS)


def verify_stack(deployment: Deployment, api_key: str | None = None) -> Report:
    """Each promise against what the stack holds; a check that cannot read fails, naming why."""
    report = Report(f"cutout verify: stack {deployment.name}"
                    + (f" in {deployment.region}" if deployment.region else ""))
    for group in GROUPS:
        for run in group:
            report.checks.append(_guarded(run, deployment))
    if api_key:
        url = deployment.output("ApiUrl") or ""
        report.checks += run_probes(Target(url, api_key, deployment.client("s3"),
                                           deployment.output("TransientBucketName"),
                                           deployment.now))
    return report


def verify_local(target: Target) -> Report:
    """The live probes only, against `cutout serve`."""
    return Report(f"cutout verify: local API at {target.base_url}", run_probes(target))


def _guarded(run: Callable[[Deployment], Check], deployment: Deployment) -> Check:
    try:
        return run(deployment)
    except (ClientError, BotoCoreError) as error:  # e.g. AccessDenied: say so, keep going
        name = run.__name__
        return Check(name, "could not be read", FAIL,
                     f"Reading for {name} failed: {error}.", (), "")
