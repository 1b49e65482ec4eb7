"""Evaluates recorded AWS calls against the policies of the synthesized template.

For one request (tests/integration/aws_call_recorder.py) by one function: its role's
policies, the bucket policy, the KMS key policy (a data key for an SSE-KMS object is a KMS
request of its own, `kms:ViaService` S3) and the gateway endpoint policy the call passes
through. Explicit deny first, then allow, as IAM does.

moto's `IAMPolicyStatement` (moto.iam.access_control) decides whether a statement's Action /
NotAction and Resource match: its wildcards are IAM's `*` (no `?`, case-sensitive actions,
no NotResource). It is not used for conditions or principals: it answers DENIED (not "does
not apply") when an Allow's condition fails, and knows only a few operators. The condition
operators below (String*, Arn*, Bool, Numeric*, Null, ForAllValues/ForAnyValue, IfExists)
and the principal rules are ours. Not modelled: SCPs, permission boundaries, session
policies, the managed policies CDK attaches for logs and ENIs (no code of ours calls them),
the KMS key's encryption context. A DynamoDB call implies kms:Decrypt and kms:DescribeKey
on the table's key (DynamoDB calls them with the caller's permissions when it refreshes its
cached table key), an SSE-KMS PutObject kms:GenerateDataKey, a GetObject kms:Decrypt.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from aws_call_recorder import Request
from moto.iam.access_control import IAMPolicyStatement, PermissionResult

ACCOUNT = "123456789012"
REGION = "us-east-1"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/cutout-key"
VPC_ENDPOINT = "vpce-cutout-test"
# The deployment the integration tests create (integration_support.create_deployment).
TABLE, TRANSIENT, TRAINING = "cutout-test-accounts", "cutout-test-transient", "cutout-test-training"
STATE_MACHINE_FUNCTION = "state-machine"
# The batch-job role the worker assumes per job (cutout.data.batch_access), by the name the
# tests configure (its logical id is CDK's); its sessions are recorded as this principal.
JOB_FUNCTION = "batch-job"
JOB_ROLE_ID = "BatchJobRole"  # the start of its logical id
JOB_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/cutout-batch-job"
# The image-url role the API function assumes per image_url read (cutout.data.object_access).
IMAGE_URL_FUNCTION = "image-url"
IMAGE_URL_ROLE_ID = "BatchImageUrlRole"
IMAGE_URL_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/cutout-image-url"
# assumed roles: logical-id prefix -> (the principal their sessions are recorded as, ARN)
ASSUMED_ROLES = {JOB_ROLE_ID: (JOB_FUNCTION, JOB_ROLE_ARN),
                 IMAGE_URL_ROLE_ID: (IMAGE_URL_FUNCTION, IMAGE_URL_ROLE_ARN)}


@dataclass
class Statement:
    where: str  # "role policy <logical id>", "bucket policy", ...
    index: int
    body: dict[str, Any]

    def name(self) -> str:
        sid = self.body.get("Sid")
        return f"{self.where} statement #{self.index}" + (f" ({sid})" if sid else "")


@dataclass
class Verdict:
    request: Request
    allowed: bool
    why: str = ""
    used: list[tuple[Statement, str]] = field(default_factory=list)


class Policies:
    """The synthesized template's policies, resolved to the integration deployment's names."""

    def __init__(self, template: dict[str, Any]) -> None:
        self.resources = template["Resources"]
        self._physical = self._physical_names()
        self.roles = self._function_roles()
        self.role_statements = {role: self._role_statements(role)
                                for role in set(self.roles.values())}
        self.bucket_policies = self._bucket_policies()
        self.key_policy = [Statement("KMS key policy", i, self.resolve(s)) for i, s in enumerate(
            self._one("AWS::KMS::Key")["KeyPolicy"]["Statement"])]
        self.endpoint_policies = self._endpoint_policies()

    # --- reading the template ----------------------------------------------------------
    def _of_type(self, kind: str) -> dict[str, dict]:
        return {k: v for k, v in self.resources.items() if v["Type"] == kind}

    def _one(self, kind: str) -> dict:
        (found,) = self._of_type(kind).values()
        return found["Properties"]

    def _physical_names(self) -> dict[str, tuple[str, str]]:
        """logical id -> (Ref value, Arn) for what the tests' deployment names."""
        names: dict[str, tuple[str, str]] = {}
        for lid, resource in self.resources.items():
            kind = resource["Type"]
            if kind == "AWS::S3::Bucket":
                name = (TRANSIENT if "TransientBucket" in lid else
                        TRAINING if "TrainingStore" in lid else lid.lower())
                names[lid] = (name, f"arn:aws:s3:::{name}")
            elif kind == "AWS::DynamoDB::Table" or kind == "AWS::DynamoDB::GlobalTable":
                names[lid] = (TABLE, f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TABLE}")
            elif kind == "AWS::KMS::Key":
                names[lid] = ("cutout-key", KEY_ARN)
            elif kind == "AWS::Lambda::Function":
                names[lid] = (lid, f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{lid}")
            elif kind == "AWS::IAM::Role":
                names[lid] = (lid, self.role_arn(lid))
        return names

    @staticmethod
    def role_arn(lid: str) -> str:
        for prefix, (_, arn) in ASSUMED_ROLES.items():
            if lid.startswith(prefix):
                return arn
        return f"arn:aws:iam::{ACCOUNT}:role/{lid}"

    def resolve(self, value: Any) -> Any:
        """CloudFormation intrinsics -> the tests' concrete names."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "Ref" in value:
            ref = value["Ref"]
            pseudo = {"AWS::Partition": "aws", "AWS::Region": REGION,
                      "AWS::AccountId": ACCOUNT, "AWS::URLSuffix": "amazonaws.com",
                      "AWS::StackName": "cutout"}
            return pseudo.get(ref) or self._physical.get(ref, (ref, ref))[0]
        if "Fn::GetAtt" in value:
            lid, attribute = value["Fn::GetAtt"]
            return self._physical.get(lid, (lid, f"arn:aws:unknown:::{lid}"))[1] \
                if attribute == "Arn" else f"{lid}.{attribute}"
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(str(self.resolve(p)) for p in parts)
        if "Fn::Split" in value:
            separator, text = value["Fn::Split"]
            return str(self.resolve(text)).split(separator)
        if "Fn::Select" in value:
            index, values = value["Fn::Select"]
            values = self.resolve(values)
            return values[int(index)] if isinstance(values, list) and len(values) > int(
                index) else f"selected-{index}"
        return {k: self.resolve(v) for k, v in value.items()}

    def _function_roles(self) -> dict[str, str]:
        """function (its service name) -> its role's logical id."""
        roles = {}
        for resource in self._of_type("AWS::Lambda::Function").values():
            properties = resource["Properties"]
            match = re.match(r"cutout ([\w-]+):", properties.get("Description", ""))
            role = properties.get("Role", {}).get("Fn::GetAtt", [None])[0]
            if match and role:
                roles[match.group(1)] = role
        for resource in self._of_type("AWS::StepFunctions::StateMachine").values():
            roles[STATE_MACHINE_FUNCTION] = resource["Properties"]["RoleArn"]["Fn::GetAtt"][0]
        for lid in self._of_type("AWS::IAM::Role"):
            for prefix, (function, _) in ASSUMED_ROLES.items():
                if lid.startswith(prefix):
                    roles[function] = lid
        return roles

    def _role_statements(self, role: str) -> list[Statement]:
        found = []
        for lid, policy in self._of_type("AWS::IAM::Policy").items():
            if {"Ref": role} in policy["Properties"]["Roles"]:
                found += [Statement(f"role policy {lid}", i, self.resolve(s)) for i, s in
                          enumerate(policy["Properties"]["PolicyDocument"]["Statement"])]
        for inline in self.resources[role]["Properties"].get("Policies", []):
            found += [Statement(f"inline policy {inline['PolicyName']}", i, self.resolve(s))
                      for i, s in enumerate(inline["PolicyDocument"]["Statement"])]
        return found

    def _bucket_policies(self) -> dict[str, list[Statement]]:
        found: dict[str, list[Statement]] = {}
        for lid, policy in self._of_type("AWS::S3::BucketPolicy").items():
            bucket = self.resolve(policy["Properties"]["Bucket"])
            found[bucket] = [Statement(f"bucket policy {lid}", i, self.resolve(s)) for i, s in
                             enumerate(policy["Properties"]["PolicyDocument"]["Statement"])]
        return found

    def _endpoint_policies(self) -> dict[str, list[Statement]]:
        found: dict[str, list[Statement]] = {}
        for lid, endpoint in self._of_type("AWS::EC2::VPCEndpoint").items():
            properties = endpoint["Properties"]
            service = json.dumps(properties["ServiceName"])
            document = properties.get("PolicyDocument")
            for name in ("s3", "dynamodb"):
                if f".{name}" in service and document:
                    found[name] = [Statement(f"{name} endpoint policy {lid}", i, self.resolve(s))
                                   for i, s in enumerate(document["Statement"])]
        return found

    # --- evaluating --------------------------------------------------------------------
    def evaluate(self, request: Request) -> list[Verdict]:
        """The request and what it implies (an SSE-KMS object's data key), each judged."""
        role = self.roles.get(request.function)
        if role is None:
            return [Verdict(request, False, f"no function {request.function!r} in the template")]
        verdicts = [self._judge(request, role)]
        bucket = request.resource.removeprefix("arn:aws:s3:::").split("/")[0]
        data_key = {"s3:PutObject": "kms:GenerateDataKey", "s3:GetObject": "kms:Decrypt",
                    "s3:GetObjectVersion": "kms:Decrypt"}.get(request.action)
        under_the_key = bucket in (TRANSIENT, TRAINING) or (  # a batch output: the stack's key
            request.action == "s3:PutObject" and "aws:kms" in request.condition_values().get(
                "s3:x-amz-server-side-encryption", []))
        if data_key and under_the_key:  # SSE-KMS with the one key
            derived = replace(request, call=f"{request.call} (its SSE-KMS data key)",
                              action=data_key, resource=KEY_ARN,
                              context=(("kms:ViaService", (f"s3.{REGION}.amazonaws.com",)),))
            verdicts.append(self._judge(derived, role))
        if request.action.startswith("dynamodb:"):  # the table's customer-managed key
            for action in ("kms:Decrypt", "kms:DescribeKey"):
                derived = replace(request, call=f"{request.call} (the table's key)",
                                  action=action, resource=KEY_ARN, context=(
                                      ("kms:ViaService", (f"dynamodb.{REGION}.amazonaws.com",)),))
                verdicts.append(self._judge(derived, role))
        return verdicts

    def _judge(self, request: Request, role: str) -> Verdict:
        principal = self.role_arn(role)
        context = {"aws:SecureTransport": ["true"], "aws:PrincipalArn": [principal],
                   "aws:PrincipalAccount": [ACCOUNT], "s3:TlsVersion": ["1.3"],
                   **request.condition_values()}
        service = request.action.split(":")[0]
        through_endpoint = service in self.endpoint_policies and "kms:ViaService" not in context
        if through_endpoint:
            context["aws:SourceVpce"] = [VPC_ENDPOINT]
        identity = self.role_statements[role]
        resource_policy: list[Statement] = []
        if service == "s3":
            bucket = request.resource.removeprefix("arn:aws:s3:::").split("/")[0]
            resource_policy = self.bucket_policies.get(bucket, [])
        elif service == "kms":
            resource_policy = self.key_policy
        endpoint = self.endpoint_policies.get(service, []) if through_endpoint else []

        for statements in (identity, resource_policy, endpoint):
            for statement in statements:
                if statement.body["Effect"] == "Deny" and _applies(
                        statement, request, principal, context):
                    return Verdict(request, False, f"explicitly denied by {statement.name()}")
        allowing = [s for s in identity if _applies(s, request, principal, context)]
        by_resource = [s for s in resource_policy if _applies(s, request, principal, context)]
        if service == "kms":  # the key policy must allow, itself or by delegating to IAM
            delegates = any(_delegates_to_iam(s, request.action) for s in resource_policy)
            if not by_resource and not (delegates and allowing):
                return Verdict(request, False, self._missing(identity, request, context,
                                                              principal, "the role's policy"))
        elif not allowing and not by_resource:
            return Verdict(request, False, self._missing(identity, request, context,
                                                          principal, "the role's policy"))
        passing = [s for s in endpoint if s.body["Effect"] == "Allow"
                   and _applies(s, request, principal, context)]
        if endpoint and not passing:
            return Verdict(request, False, self._missing(endpoint, request, context,
                                                          principal, "the gateway endpoint"))
        if request.session_policy:  # an assumed role's session: its policy must allow it too
            # the deployment's one key, whatever id moto gave it
            document = re.sub(r"arn:aws:kms:[^\"]*:key/[^\"]*", KEY_ARN, request.session_policy)
            session = [Statement("the session policy", i, s) for i, s in enumerate(
                json.loads(document)["Statement"])]
            if not any(s.body["Effect"] == "Allow" and _applies(s, request, principal, context)
                       for s in session):
                return Verdict(request, False, self._missing(session, request, context,
                                                              principal, "the session policy"))
        return Verdict(request, True, used=[(s, request.action) for s in allowing + passing])

    def _missing(self, statements: list[Statement], request: Request, context: dict,
                 principal: str, where: str) -> str:
        """Which statement would have to change: the nearest one (its action matches)."""
        near = [s for s in statements if s.body["Effect"] == "Allow"
                and _matches(s, request.action, "*")]
        if not near:
            return f"no statement of {where} grants {request.action}"
        notes = []
        for statement in near:
            if not _matches(statement, request.action, request.resource):
                notes.append(f"{statement.name()}: Resource {statement.body.get('Resource')}")
            else:
                failed = _failed_conditions(statement, context)
                notes.append(f"{statement.name()}: Condition {failed}")
        return f"{where} does not allow it; would have to change: " + "; ".join(notes)


def _matches(statement: Statement, action: str, resource: str) -> bool:
    bare = {k: v for k, v in statement.body.items() if k in ("Action", "NotAction", "Effect")}
    bare["Effect"] = "Allow"
    bare["Resource"] = statement.body.get("Resource", "*") if resource != "*" else "*"
    return IAMPolicyStatement(bare).is_action_permitted(action, resource) == \
        PermissionResult.PERMITTED


def _principal_matches(statement: Statement, principal: str) -> bool:
    expected = statement.body.get("Principal")
    if expected is None:  # an identity policy
        return True
    if expected == "*":
        return True
    aws = expected.get("AWS") if isinstance(expected, dict) else None
    aws = aws if isinstance(aws, list) else [aws]
    return "*" in aws or principal in aws


def _delegates_to_iam(statement: Statement, action: str) -> bool:
    """The key policy's account-root statement: IAM policies then decide."""
    expected = statement.body.get("Principal", {})
    aws = expected.get("AWS") if isinstance(expected, dict) else None
    return (statement.body["Effect"] == "Allow" and aws == f"arn:aws:iam::{ACCOUNT}:root"
            and _matches(statement, action, KEY_ARN))


def _applies(statement: Statement, request: Request, principal: str, context: dict) -> bool:
    return (_principal_matches(statement, principal)
            and _matches(statement, request.action, request.resource)
            and not _failed_conditions(statement, context))


def _failed_conditions(statement: Statement, context: dict[str, list[str]]) -> list[str]:
    failed = []
    for operator, keys in statement.body.get("Condition", {}).items():
        for key, expected in keys.items():
            if not condition_holds(operator, context.get(key), expected):
                failed.append(f"{operator} {key} {expected} (request: {context.get(key)})")
    return failed


def _like(value: str, pattern: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


BASE = {
    "StringEquals": lambda v, p: v == p,
    "StringEqualsIgnoreCase": lambda v, p: v.lower() == p.lower(),
    "StringLike": _like, "ArnEquals": lambda v, p: v == p, "ArnLike": _like,
    "Bool": lambda v, p: v.lower() == p.lower(),
    "NumericEquals": lambda v, p: float(v) == float(p),
    "NumericLessThan": lambda v, p: float(v) < float(p),
    "NumericLessThanEquals": lambda v, p: float(v) <= float(p),
    "NumericGreaterThan": lambda v, p: float(v) > float(p),
    "NumericGreaterThanEquals": lambda v, p: float(v) >= float(p),
}
NEGATED = {"StringNotEquals": "StringEquals", "StringNotEqualsIgnoreCase":
           "StringEqualsIgnoreCase", "StringNotLike": "StringLike", "ArnNotEquals": "ArnEquals",
           "ArnNotLike": "ArnLike", "NumericNotEquals": "NumericEquals"}


def condition_holds(operator: str, values: list[str] | None, expected: Any) -> bool:
    """One condition operator of IAM's grammar against the request's values (None: absent)."""
    qualifier, _, name = operator.rpartition(":")
    if_exists = name.endswith("IfExists")
    name = name.removesuffix("IfExists")
    patterns = [str(p) for p in (expected if isinstance(expected, list) else [expected])]
    if name == "Null":
        return (values is None) == (patterns[0].lower() == "true")
    negated = name in NEGATED
    test = BASE.get(NEGATED.get(name, name))
    if test is None:
        raise ValueError(f"condition operator {operator} is not modelled: add it here")

    def one(value: str) -> bool:
        hit = any(test(str(value), p) for p in patterns)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return values is None or all(one(v) for v in values)
    if qualifier == "ForAnyValue":
        return values is not None and any(one(v) for v in values)
    if values is None:
        return if_exists or negated
    return any(one(v) for v in values) if not negated else all(one(v) for v in values)
