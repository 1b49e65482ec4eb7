"""Authenticated access checks: every method but the account page's three files uses the
stack's authorizer, every issued key sits in the stack's usage plan, and no bucket is public."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from cutout.api.routes import ROUTES
from cutout.data.schema import PARTITION_KEY, key_pk
from cutout.verify.report import Check, Evidence, NotApplicable, Verifies
from cutout.verify.stack import Deployment

PROMISE = ("authenticated access: every request needs a valid API key; missing, unknown or "
           "revoked keys are rejected before any image is read")
CLOSED = "closed loop: never a public or guessable URL"
# The route table marks exactly the account page's static files public.
PUBLIC_METHODS = frozenset((route.method, route.path) for route in ROUTES if not route.authorized)
BLOCK_ALL = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


@Verifies("access.authorizer", PROMISE,
           ("apigateway GetResources and GetMethod of each method: authorizationType CUSTOM "
            "with the stack's authorizer (the account page's three files excepted)"))
def authorizer_on_every_method(deployment: Deployment, this: Verifies) -> Check:
    api_id = deployment.required("RestApiId")
    apigateway = deployment.client("apigateway")
    authorizers = {item["id"] for item in apigateway.get_authorizers(
        restApiId=api_id).get("items", [])}
    evidence, failures = [], []
    for resource in apigateway.get_paginator("get_resources").paginate(restApiId=api_id):
        for item in resource.get("items", []):
            for method in item.get("resourceMethods", {}) or {}:
                found = apigateway.get_method(restApiId=api_id, resourceId=item["id"],
                                              httpMethod=method)
                kind, authorizer = found.get("authorizationType"), found.get("authorizerId")
                where = f"{method} {item['path']}"
                evidence.append(Evidence(where, "authorizationType/authorizerId",
                                         f"{kind}/{authorizer}"))
                if (method, item["path"]) in PUBLIC_METHODS:
                    continue
                if kind != "CUSTOM" or authorizer not in authorizers:
                    failures.append(f"{where} does not use the stack's authorizer ({kind})")
    return this.result(failures, evidence,
                       "Every method except the account page's static files uses the API-key "
                       "authorizer.")


@Verifies("access.usage_plan", PROMISE,
           ("dynamodb Scan of the accounts table for un-revoked key items (hashes, counted "
            "only), apigateway GetUsagePlanKeys of the stack's plan: every hash is an enabled key"))
def keys_in_usage_plan(deployment: Deployment, this: Verifies) -> Check:
    plan, table = deployment.output("UsagePlanId"), deployment.output("AccountsTableName")
    if not plan or not table:
        raise NotApplicable("No UsagePlanId or AccountsTableName output.")
    issued = _active_key_hashes(deployment.client("dynamodb"), table)
    apigateway = deployment.client("apigateway")
    in_plan = set()
    for page in apigateway.get_paginator("get_usage_plan_keys").paginate(usagePlanId=plan):
        in_plan |= {item.get("value") for item in page.get("items", [])}
    missing = len(issued - in_plan)
    evidence = [Evidence(f"usage plan {plan}", "keys issued / of them in the plan",
                         f"{len(issued)} / {len(issued) - missing}")]
    failures = [f"{missing} issued key(s) are not in the usage plan (cutout admin "
                "issue-key mirrors them; re-issue those keys)"] if missing else []
    return this.result(failures, evidence,
                       f"All {len(issued)} issued key(s) sit in the stack's usage plan.")


def _active_key_hashes(dynamodb: Any, table: str) -> set[str]:
    """Hashes of keys not revoked: read to compare, never printed."""
    hashes = set()
    prefix = key_pk("")
    for page in dynamodb.get_paginator("scan").paginate(
            TableName=table, ProjectionExpression="#pk, revoked_at",
            ExpressionAttributeNames={"#pk": PARTITION_KEY},
            FilterExpression="begins_with(#pk, :k)",
            ExpressionAttributeValues={":k": {"S": prefix}}):
        hashes |= {item[PARTITION_KEY]["S"].removeprefix(prefix) for item in page["Items"]
                   if "revoked_at" not in item}
    return hashes


@Verifies("access.no_public_bucket", CLOSED,
           ("s3 GetPublicAccessBlock (all four settings on) and GetBucketPolicyStatus "
            "(IsPublic false) of each bucket"))
def no_public_bucket(deployment: Deployment, this: Verifies) -> Check:
    s3, evidence, failures = deployment.client("s3"), [], []
    for bucket in deployment.of_type("AWS::S3::Bucket"):
        name, arn = bucket.physical_id, deployment.bucket_arn(bucket.physical_id)
        try:
            block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
        except ClientError:
            block = {}
        off = [setting for setting in BLOCK_ALL if not block.get(setting)]
        try:
            public = s3.get_bucket_policy_status(Bucket=name)["PolicyStatus"]["IsPublic"]
        except ClientError:
            public = False  # no bucket policy: nothing in a policy makes it public
        evidence += [Evidence(arn, "PublicAccessBlockConfiguration", block),
                     Evidence(arn, "PolicyStatus.IsPublic", public)]
        if off:
            failures.append(f"bucket {name} has {', '.join(off)} off")
        if public:
            failures.append(f"bucket {name} is public by its policy")
    return this.result(failures, evidence,
                       "No bucket is public: the public access block is fully on and no policy "
                       "grants public access.")


CHECKS = (authorizer_on_every_method, keys_in_usage_plan, no_public_bucket)
