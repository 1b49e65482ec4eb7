"""`cutout preflight`: what would make `cdk deploy` fail, found before it runs: the Lambda
memory and concurrency quotas against the deployment's settings, a container builder (Docker
or Finch), Node for the CDK CLI, and the CDK bootstrap stack. Each failure names its fix."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cutout.verify.report import Check, Evidence, check, not_applicable

NEW_ACCOUNT_MEMORY_CAP_MB = 3008  # what new accounts may be held to until a quota increase
UNRESERVED_FLOOR = 100  # Lambda keeps at least this much concurrency unreserved
MIN_NODE_MAJOR = 22  # the oldest Node the CDK libraries (jsii) support today
BOOTSTRAP_STACK = "CDKToolkit"
DEPLOY = "cdk deploy succeeds"
Runner = Callable[[list[str]], str | None]


def run_version(command: list[str]) -> str | None:
    """The command's first output line, or None when it is missing or fails."""
    if shutil.which(command[0]) is None:
        return None
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30,  # noqa: S603
                              check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    output = (done.stdout or done.stderr).strip().splitlines()
    return output[0] if done.returncode == 0 and output else None


def lambda_memory(service_quotas: Any, memory_mb: int, model: str, model_memory_mb: int) -> Check:
    how = "service-quotas ListServiceQuotas (lambda): a memory quota, against inference_memory_mb"
    evidence = [Evidence("setting", "inference_memory_mb", memory_mb),
                Evidence(f"model {model}", "memory_mb (models/manifest.json)", model_memory_mb)]
    if memory_mb <= NEW_ACCOUNT_MEMORY_CAP_MB:
        return check("preflight.lambda_memory", DEPLOY, how, [], evidence,
                     f"{memory_mb} MB fits even a new account's "
                     f"{NEW_ACCOUNT_MEMORY_CAP_MB} MB cap.")
    quota = _memory_quota(service_quotas)
    evidence.append(Evidence("service quotas: lambda", "function memory quota (MB)", quota))
    if quota is None:
        return not_applicable(
            "preflight.lambda_memory", DEPLOY, how,
            f"The account shows no memory quota; new accounts can be held to "
            f"{NEW_ACCOUNT_MEMORY_CAP_MB} MB, which would fail the deploy with a MemorySize "
            f"error for {memory_mb} MB: if it does, ask AWS Support for a Lambda memory increase "
            f"or set cutout:inference_memory_mb to {NEW_ACCOUNT_MEMORY_CAP_MB}.")
    failures = [] if quota >= memory_mb else [
        f"the account's Lambda memory quota is {quota:g} MB, below inference_memory_mb "
        f"{memory_mb}: request an increase in Service Quotas or set cutout:inference_memory_mb "
        f"to {quota:g} or less"]
    return check("preflight.lambda_memory", DEPLOY, how, failures, evidence,
                 f"The Lambda memory quota ({quota:g} MB) admits {memory_mb} MB.")


def _memory_quota(service_quotas: Any) -> float | None:
    try:
        for page in service_quotas.get_paginator("list_service_quotas").paginate(
                ServiceCode="lambda"):
            for quota in page.get("Quotas", []):
                if "memory" in quota.get("QuotaName", "").lower():
                    return float(quota["Value"])
    except (ClientError, BotoCoreError):
        return None
    return None


def concurrency(lambda_client: Any, reserved: dict[str, int]) -> Check:
    how = "lambda GetAccountSettings: ConcurrentExecutions and UnreservedConcurrentExecutions"
    limits = lambda_client.get_account_settings()["AccountLimit"]
    total, unreserved = limits["ConcurrentExecutions"], limits["UnreservedConcurrentExecutions"]
    wanted = sum(reserved.values())
    evidence = [Evidence("lambda account settings", "ConcurrentExecutions", total),
                Evidence("lambda account settings", "UnreservedConcurrentExecutions", unreserved),
                *(Evidence("setting", name, value) for name, value in reserved.items())]
    failures = []
    if wanted and unreserved - wanted < UNRESERVED_FLOOR:
        failures.append(
            f"reserving {wanted} would leave {unreserved - wanted} unreserved, below the "
            f"{UNRESERVED_FLOOR} Lambda keeps: lower the reserved concurrency settings to at most "
            f"{max(0, unreserved - UNRESERVED_FLOOR)} in all, or request a concurrency increase "
            f"(the account's quota is {total})")
    return check("preflight.concurrency", DEPLOY, how, failures, evidence,
                 f"Reserving {wanted} leaves {unreserved - wanted} of {total} unreserved.")


def container_builder(run: Runner = run_version) -> Check:
    how = "docker version (or finch --version): the engine that builds the inference image"
    docker = run(["docker", "version", "--format", "{{.Server.Version}}"])
    finch = None if docker else run(["finch", "--version"])
    evidence = [Evidence("docker", "server version", docker), Evidence("finch", "version", finch)]
    failures = [] if docker or finch else [
        "neither a running Docker engine nor Finch was found: the inference image cannot be "
        "built; start Docker (or install Finch and set CDK_DOCKER=finch)"]
    return check("preflight.container_builder", DEPLOY, how, failures, evidence,
                 f"{'Docker ' + docker if docker else 'Finch ' + str(finch)} can build the image.")


def node(run: Runner = run_version) -> Check:
    how = "node --version: the CDK CLI runs on Node"
    version = run(["node", "--version"])
    match = re.match(r"v?(\d+)", version or "")
    major = int(match.group(1)) if match else None
    failures = []
    if major is None:
        failures.append("Node was not found: install Node "
                        f"{MIN_NODE_MAJOR} or later for the CDK CLI")
    elif major < MIN_NODE_MAJOR:
        failures.append(f"Node {version} is too old for the CDK CLI: install Node "
                        f"{MIN_NODE_MAJOR} or later")
    return check("preflight.node", DEPLOY, how, failures, [Evidence("node", "version", version)],
                 f"Node {version} runs the CDK CLI.")


def bootstrap(cloudformation: Any, region: str) -> Check:
    how = f"cloudformation DescribeStacks {BOOTSTRAP_STACK}: present and in a *_COMPLETE state"
    try:
        stacks = cloudformation.describe_stacks(StackName=BOOTSTRAP_STACK)["Stacks"]
        status = stacks[0]["StackStatus"] if stacks else None
    except ClientError:
        status = None
    failures = []
    if status is None:
        failures.append(f"the region {region} is not bootstrapped for the CDK: run "
                        f"`cdk bootstrap aws://ACCOUNT/{region}`")
    elif not status.endswith("_COMPLETE") or "ROLLBACK" in status:
        failures.append(f"the {BOOTSTRAP_STACK} stack is {status}: fix or re-run `cdk bootstrap`")
    return check("preflight.bootstrap", DEPLOY, how, failures,
                 [Evidence(f"stack {BOOTSTRAP_STACK} in {region}", "StackStatus", status)],
                 f"The CDK bootstrap stack is {status}.")
