"""Encryption checks: TLS 1.2+ on every endpoint (the API's and the custom domain's security
policy, every bucket policy denying non-TLS requests) and the stack's own KMS key, rotation on,
on the buckets, the table and the log groups."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from cutout.verify.report import Check, Evidence, NotApplicable, Verifies, check, not_applicable
from cutout.verify.stack import Deployment

TLS = "encryption: TLS 1.2+ in transit on every endpoint"
AT_REST = ("encryption: a customer-managed KMS key (rotation on) encrypts the bucket, the table "
           "and the logs")
# API Gateway's TLS 1.2+ policies: the legacy name and the enhanced `SecurityPolicy_TLS12*`,
# `SecurityPolicy_TLS13*` family (which come with an endpoint access mode).
LEGACY_TLS12 = "TLS_1_2"
ACCESS_LOGS_BUCKET = "AccessLogs"  # S3 delivers server access logs only to an SSE-S3 bucket


def tls_policy_ok(policy: str | None) -> bool:
    if not policy:
        return False  # API Gateway's default for a REST API negotiates TLS 1.0
    return policy == LEGACY_TLS12 or policy.startswith(("SecurityPolicy_TLS12",
                                                        "SecurityPolicy_TLS13"))


def api_tls_policy(deployment: Deployment) -> Check:
    api_id = deployment.output("RestApiId")
    how = "apigateway GetRestApi: securityPolicy and endpointAccessMode"
    if not api_id:
        return not_applicable("tls.api_policy", TLS, how, "The stack has no RestApiId output.")
    api = deployment.client("apigateway").get_rest_api(restApiId=api_id)
    policy, mode = api.get("securityPolicy"), api.get("endpointAccessMode")
    arn = f"arn:aws:apigateway:{deployment.region}::/restapis/{api_id}"
    evidence = [Evidence(arn, "securityPolicy", policy),
                Evidence(arn, "endpointAccessMode", mode)]
    failures = []
    if not tls_policy_ok(policy):
        failures.append(f"the REST API's security policy is {policy or 'unset (TLS 1.0)'}, "
                        "not TLS 1.2 or later")
    if policy and policy.startswith("SecurityPolicy_") and mode != "STRICT":
        failures.append(f"an enhanced policy with endpoint access mode {mode}, not STRICT")
    return check("tls.api_policy", TLS, how, failures, evidence,
                 f"The REST API negotiates TLS under {policy}.")


@Verifies("tls.domain_policy", TLS,
           "apigateway GetDomainName: securityPolicy, for each custom domain of the stack")
def domain_tls_policy(deployment: Deployment, this: Verifies) -> Check:
    domains = deployment.of_type("AWS::ApiGateway::DomainName")
    if not domains:
        raise NotApplicable("The stack has no custom domain; the API's own policy applies.")
    evidence, failures = [], []
    for domain in domains:
        found = deployment.client("apigateway").get_domain_name(domainName=domain.physical_id)
        policy = found.get("securityPolicy")
        evidence.append(Evidence(domain.physical_id, "securityPolicy", policy))
        if not tls_policy_ok(policy):
            failures.append(f"custom domain {domain.physical_id} allows {policy or 'TLS 1.0'}")
    return this.result(failures, evidence,
                       "Every custom domain requires TLS 1.2 or later.")


def denies_insecure_transport(policy: dict[str, Any]) -> bool:
    """A Deny of every s3 action to everyone when aws:SecureTransport is false."""
    for statement in policy.get("Statement", []):
        condition = statement.get("Condition", {}).get("Bool", {})
        actions = statement.get("Action")
        actions = [actions] if isinstance(actions, str) else actions or []
        if (statement.get("Effect") == "Deny" and "s3:*" in actions
                and str(condition.get("aws:SecureTransport")).lower() == "false"):
            return True
    return False


@Verifies("tls.bucket_policies", TLS,
           "s3 GetBucketPolicy of each bucket: a Deny of s3:* when aws:SecureTransport is false")
def buckets_deny_non_tls(deployment: Deployment, this: Verifies) -> Check:
    s3 = deployment.client("s3")
    evidence, failures = [], []
    for bucket in deployment.of_type("AWS::S3::Bucket"):
        policy = bucket_policy(s3, bucket.physical_id)
        denies = denies_insecure_transport(policy)
        evidence.append(Evidence(deployment.bucket_arn(bucket.physical_id),
                                 "Policy: Deny when aws:SecureTransport=false", denies))
        if not denies:
            failures.append(f"bucket {bucket.physical_id} does not deny non-TLS requests")
    return this.result(failures, evidence,
                       "Every bucket's policy denies requests without TLS.")


def bucket_policy(s3: Any, bucket: str) -> dict[str, Any]:
    try:
        return json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "NoSuchBucketPolicy":
            return {}
        raise


@Verifies("encryption.buckets", AT_REST,
           ("s3 GetBucketEncryption of each bucket: SSE-KMS with the stack's key (the server "
            "access log bucket: SSE-S3, the only encryption S3 log delivery accepts)"))
def bucket_encryption(deployment: Deployment, this: Verifies) -> Check:
    s3, key_arn = deployment.client("s3"), deployment.key_arn
    evidence, failures = [], []
    for bucket in deployment.of_type("AWS::S3::Bucket"):
        try:
            rules = s3.get_bucket_encryption(Bucket=bucket.physical_id)[
                "ServerSideEncryptionConfiguration"]["Rules"]
        except ClientError:
            rules = []
        default = rules[0]["ApplyServerSideEncryptionByDefault"] if rules else {}
        algorithm, key = default.get("SSEAlgorithm"), default.get("KMSMasterKeyID")
        arn = deployment.bucket_arn(bucket.physical_id)
        evidence += [Evidence(arn, "SSEAlgorithm", algorithm), Evidence(arn, "KMSMasterKeyID", key)]
        if ACCESS_LOGS_BUCKET in bucket.logical_id:
            if algorithm not in ("AES256", "aws:kms"):
                failures.append(f"access log bucket {bucket.physical_id} is not encrypted")
        elif algorithm != "aws:kms" or not _same_key(key, key_arn):
            failures.append(f"bucket {bucket.physical_id} is encrypted with {algorithm} "
                            f"{key or ''}, not the stack's key".replace("  ", " "))
    return this.result(failures, evidence,
                       "Every data bucket is encrypted by default with the stack's KMS key.")


def _same_key(named: str | None, key_arn: str | None) -> bool:
    """S3 and DynamoDB may name the key by ARN or by id."""
    return bool(named and key_arn and (named == key_arn or key_arn.endswith("/" + named)))


@Verifies("encryption.table", AT_REST,
           "dynamodb DescribeTable: SSEDescription (SSEType KMS, KMSMasterKeyArn)")
def table_encryption(deployment: Deployment, this: Verifies) -> Check:
    name = deployment.required("AccountsTableName")
    table = deployment.client("dynamodb").describe_table(TableName=name)["Table"]
    sse = table.get("SSEDescription", {})
    evidence = [Evidence(table["TableArn"], "SSEDescription.SSEType", sse.get("SSEType")),
                Evidence(table["TableArn"], "SSEDescription.KMSMasterKeyArn",
                         sse.get("KMSMasterKeyArn"))]
    failures = []
    if sse.get("SSEType") != "KMS" or not _same_key(sse.get("KMSMasterKeyArn"),
                                                    deployment.key_arn):
        failures.append(f"table {name} is not encrypted with the stack's key")
    return this.result(failures, evidence,
                       "The accounts table is encrypted with the stack's KMS key.")


@Verifies("encryption.log_groups", AT_REST,
           "logs DescribeLogGroups: kmsKeyId of each log group the stack created")
def log_group_encryption(deployment: Deployment, this: Verifies) -> Check:
    logs, evidence, failures = deployment.client("logs"), [], []
    for group in deployment.of_type("AWS::Logs::LogGroup"):
        found = [item for item in logs.describe_log_groups(
            logGroupNamePrefix=group.physical_id).get("logGroups", [])
                 if item["logGroupName"] == group.physical_id]
        key = found[0].get("kmsKeyId") if found else None
        evidence.append(Evidence(found[0].get("arn", group.physical_id) if found
                                 else group.physical_id, "kmsKeyId", key))
        if not _same_key(key, deployment.key_arn):
            failures.append(f"log group {group.physical_id} is not encrypted with the stack's key")
    return this.result(failures, evidence,
                       "Every log group of the stack is encrypted with the stack's KMS key.")


@Verifies("encryption.key_rotation", AT_REST,
           "kms GetKeyRotationStatus of the stack's key")
def key_rotation(deployment: Deployment, this: Verifies) -> Check:
    key_id = deployment.required("KmsKeyId")
    enabled = deployment.client("kms").get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"]
    failures = [] if enabled else [f"automatic rotation of key {key_id} is off"]
    return this.result(failures,
                       [Evidence(deployment.key_arn or key_id, "KeyRotationEnabled", enabled)],
                       "The stack's KMS key rotates automatically.")


CHECKS = (api_tls_policy, domain_tls_policy, buckets_deny_non_tls, bucket_encryption,
          table_encryption, log_group_encryption, key_rotation)
