"""Deployment settings: one typed object read from CDK context, validated once at synth.

Every setting is a `cutout:<name>` context key with its default in `cdk.json`; override one
with `cdk deploy -c cutout:<name>=<value>`. A bad value raises `SettingsError` naming the
key, so a typo fails synthesis instead of deploying something the customer did not ask for.
Single-field checks sit beside each field; the rules between fields are in
`infrastructure/settings_checks.py`; the deploy guide's table is generated from the fields
(`infrastructure/settings_table.py`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from cutout.engine.models import default_model_name
from cutout.settings import URL_TTL_RANGE
from cutout.settings import default as runtime_default
from infrastructure.model_sizing import model_needs
from infrastructure.settings_checks import CONTEXT_PREFIX, SettingsError, check_combinations

# CloudWatch Logs accepts only these retention periods (days -> aws_logs.RetentionDays name).
LOG_RETENTION_DAYS = {
    1: "ONE_DAY", 3: "THREE_DAYS", 5: "FIVE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS",
    30: "ONE_MONTH", 60: "TWO_MONTHS", 90: "THREE_MONTHS", 120: "FOUR_MONTHS",
    150: "FIVE_MONTHS", 180: "SIX_MONTHS", 365: "ONE_YEAR", 400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS", 731: "TWO_YEARS", 1096: "THREE_YEARS", 1827: "FIVE_YEARS",
    2192: "SIX_YEARS", 2557: "SEVEN_YEARS", 2922: "EIGHT_YEARS", 3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}
# Interface endpoints the stack knows how to create (name -> ec2.InterfaceVpcEndpointAwsService).
KNOWN_INTERFACE_ENDPOINTS = ("kms", "logs", "xray", "sts", "monitoring", "states")
# TLS security policies a regional or private REST API (and a regional custom domain) accepts
# that refuse TLS 1.0/1.1. `TLS_1_2` is the legacy policy (TLS 1.2 and 1.3, widest client
# support); the `SecurityPolicy_*` ones are enhanced policies and need EndpointAccessMode.
TLS_POLICIES = ("TLS_1_2", "SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09",
                "SecurityPolicy_TLS13_1_2_PQ_2025_09", "SecurityPolicy_TLS13_1_3_2025_09",
                "SecurityPolicy_TLS13_1_3_FIPS_2025_09")


# Settings that existed once and were withdrawn: a value for one fails synthesis with the
# reason instead of being ignored silently (an empty value, the old default, is harmless).
REMOVED_SETTINGS = {
    "cors_allowed_origins": (
        "was removed: browser CORS never worked end to end (preflight answers were mangled by "
        "the binary media type */* and no answer carried Access-Control-Allow-Origin), and "
        "an API key belongs on a server, not in a browser page. Call the API from your "
        "backend, and remove this key from cdk.json and -c options"),
}


def _setting(default: Any, doc: str, check: Callable[[Any], str | None] | None = None) -> Any:
    value = list(default) if isinstance(default, list) else default
    factory = (lambda: list(value)) if isinstance(value, list) else None
    meta = {"doc": doc, "check": check}
    if factory:
        return field(default_factory=factory, metadata=meta)
    return field(default=value, metadata=meta)


def _between(low: int, high: int) -> Callable[[int], str | None]:
    return lambda v: None if low <= v <= high else f"must be between {low} and {high}"


def _one_of(*allowed: Any) -> Callable[[Any], str | None]:
    return lambda v: None if v in allowed else f"must be one of {', '.join(map(str, allowed))}"


def _matches(pattern: str, what: str, optional: bool = True) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        if (optional and value == "") or re.fullmatch(pattern, value):
            return None
        return f"must be {what}"

    return check


def _each(check: Callable[[Any], str | None]) -> Callable[[list], str | None]:
    return lambda values: next((check(v) for v in values if check(v)), None)


# The checks more than one field uses.
DNS_NAME = _matches(r"[a-z0-9.-]+\.[a-z]{2,}", "a DNS name")
VPC_ENDPOINT_ID = _matches(r"vpce-[0-9a-f]{8,17}", "a VPC endpoint id")
BUCKET_NAMES = _each(_matches(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", "S3 bucket names", False))


def _runtime(name: str) -> Any:
    """The default the functions themselves use (`cutout.settings.Settings`): one source."""
    return runtime_default(name)


@dataclass(frozen=True)
class DeploymentSettings:
    """What a customer can choose at `cdk deploy` time; defaults are the documented ones."""

    # --- API ---------------------------------------------------------------------------
    stage_name: str = _setting("prod", "API stage name (the URL path prefix).",
                               _matches(r"[A-Za-z0-9_]{1,64}", "letters, digits or _", False))
    api_endpoint_type: str = _setting(
        _runtime("api_endpoint_type"),
        "REGIONAL, or PRIVATE (enterprise: reachable only through an execute-api "
        "VPC endpoint in the VPC, enforced by the API's resource policy).",
        _one_of("REGIONAL", "PRIVATE"))
    authorizer_cache_ttl_seconds: int = _setting(
        300, "How long API Gateway caches an API key's allow/deny (0 disables).", _between(0, 3600))
    throttle_rate_limit: int = _setting(
        10, "Steady requests per second allowed per API key (usage plan).", _between(1, 10000))
    throttle_burst_limit: int = _setting(
        20, "Burst of requests allowed per API key (usage plan).", _between(1, 5000))
    stage_throttle_rate_limit: int = _setting(
        100, "Steady requests per second the whole stage accepts, valid keys or not (a flood "
        "of bogus keys is refused with 429 before it reaches the authorizer).",
        _between(1, 10000))
    stage_throttle_burst_limit: int = _setting(
        200, "Burst of requests the whole stage accepts.", _between(1, 5000))
    quota_requests_per_day: int = _setting(
        0, "Requests per day per API key; 0 means no quota.", _between(0, 100_000_000))
    tls_policy: str = _setting(
        _runtime("tls_policy"),
        "TLS security policy of the API itself and of its custom domain: TLS_1_2 "
        "(TLS 1.2 and 1.3) or an enhanced SecurityPolicy_TLS13_* policy (then with endpoint "
        "access mode STRICT). TLS 1.0/1.1 are never accepted.", _one_of(*TLS_POLICIES))
    api_vpc_endpoint_id: str = _setting(
        "", "PRIVATE only: use this existing execute-api VPC endpoint instead of creating one.",
        VPC_ENDPOINT_ID)
    domain_name: str = _setting(
        "", "Custom domain for the API (needs certificate_arn); the execute-api URL is then "
        "disabled. Empty: the execute-api URL.",
        DNS_NAME)
    certificate_arn: str = _setting(
        "", "ACM certificate for domain_name (same region); the domain uses tls_policy.",
        _matches(r"arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[\w-]+", "an ACM ARN"))
    hosted_zone_id: str = _setting(
        "", "Route 53 hosted zone to create domain_name's alias record in (with "
        "hosted_zone_name). Empty: point your DNS at the ApiDomainTarget output yourself.",
        _matches(r"Z[A-Z0-9]{1,32}", "a hosted zone id like Z0123456789ABCDEFGHIJ"))
    hosted_zone_name: str = _setting(
        "", "Name of hosted_zone_id's zone (example.com); domain_name must be in it.",
        DNS_NAME)
    manage_api_logging_role: bool = _setting(
        True, "Register the region's API Gateway CloudWatch Logs role (an account-wide setting "
        "stage logging needs); false if your organisation already manages it.")
    waf_enabled: bool = _setting(
        _runtime("waf_enabled"),
        "Attach a WAF web ACL (rate-based rule + common rules).")
    waf_rate_limit: int = _setting(
        1000, "Requests per 5 minutes per client IP before WAF blocks it.", _between(10, 2_000_000))
    # --- Functions ---------------------------------------------------------------------
    architecture: str = _setting("x86_64", "CPU architecture of every function: x86_64 or arm64.",
                                 _one_of("x86_64", "arm64"))
    inference_memory_mb: int = _setting(
        0, "Memory of the remove-background function (CPU scales with it); 0 derives it from "
        "the chosen model's measured needs (docs/models-and-edges.md; 3008 for u2netp).",
        _between(128, 10240))
    inference_timeout_seconds: int = _setting(
        0, "Timeout of the remove-background function, at most 29 (API Gateway's "
        "integration timeout); 0 derives it from the chosen model's measured time.",
        _between(1, 900))
    inference_reserved_concurrency: int = _setting(
        0, "Reserved concurrency of remove-background (guaranteed and capped); 0 leaves it "
        "unreserved. Reserving takes from the account's unreserved pool, which Lambda keeps "
        "at 100 or more.", _between(0, 10000))
    authorizer_reserved_concurrency: int = _setting(
        0, "Reserved concurrency of the authorizer (caps a storm of bogus keys, each a cache "
        "miss); 0 leaves it unreserved. Same account-pool caveat.", _between(0, 10000))
    function_memory_mb: int = _setting(
        256, "Memory of the authorizer, account and uploads functions.", _between(128, 10240))
    powertools_version: str = _setting(
        "3.37.0", "Powertools for AWS Lambda layer version for the zip functions ('latest' "
        "follows AWS).", _matches(r"latest|\d+\.\d+\.\d+", "latest or x.y.z", False))
    log_level: str = _setting("INFO", "LOG_LEVEL of every function.",
                              _one_of("DEBUG", "INFO", "WARNING", "ERROR"))
    # --- Runtime (passed to every function as CUTOUT_* variables) -----------------------
    model_name: str = _setting(default_model_name(), "Model from models/ the engine loads "
                               "(default: the manifest's \"default\").",
                               _matches(r"[A-Za-z0-9_.-]+", "a model name", False))
    max_pixels: int = _setting(
        _runtime("max_pixels"), "Largest input in pixels (413 above); must fit "
        "inference_memory_mb (160 MiB + 16 bytes per pixel).", _between(1, 500_000_000))
    inference_threads: int = _setting(
        _runtime("inference_threads"),
        "ONNX Runtime threads; 0 takes the model variant's `session.threads`, else derives "
        "them from memory.", _between(0, 6))
    upload_url_ttl_seconds: int = _setting(
        _runtime("upload_url_ttl_seconds"),
        "Lifetime of a signed upload URL.", _between(*URL_TTL_RANGE))
    result_url_ttl_seconds: int = _setting(
        _runtime("result_url_ttl_seconds"),
        "Lifetime of a signed result URL.", _between(*URL_TTL_RANGE))
    zero_retention: bool = _setting(
        _runtime("zero_retention"),
        "Delete each upload as soon as a request has read it. Results (signed links) "
        "go at the first sweep after their link expires, as in every mode.")
    # --- Data ----------------------------------------------------------------------------
    training_retention_days: int = _setting(
        _runtime("training_retention_days"),
        "Days opted-in training data is kept before it expires.", _between(1, 3650))
    table_deletion_protection: bool = _setting(
        True, "Deletion protection on the accounts table.")
    sweep_interval_minutes: int = _setting(
        _runtime("sweep_interval_minutes"),
        "How often the sweeper runs; each run deletes the uploads that would pass 24 hours "
        "before the next one (from 24 h - interval - 6 min old).",
        _between(5, 720))
    log_retention_days: int = _setting(30, "Retention of every log group.",
                                       _one_of(*LOG_RETENTION_DAYS))
    access_log_retention_days: int = _setting(
        90, "Days the training store's S3 server access logs (object keys, no content) are "
        "kept; the transient bucket has none (they would record signed URLs).",
        _between(1, 3650))
    # --- Catalogue batches (docs/batch.md) -----------------------------------------------
    batch_source_buckets: list = _setting(
        [], "Buckets batch jobs may read images from, and image_url may name (read-only: "
        "listed and read, never modified; each account only under its own <account_id>/ "
        "folder). Empty, with batch_destination_buckets: no batch feature and no image_url "
        "outside the account's uploads.",
        BUCKET_NAMES)
    batch_destination_buckets: list = _setting(
        [], "Buckets batch jobs may write cutouts to (SSE-KMS under the stack's key).",
        BUCKET_NAMES)
    batch_max_concurrency: int = _setting(
        50, "Batch worker invocations running at once (the Distributed Map's MaxConcurrency); "
        "they share the account's Lambda concurrency with the API.", _between(1, 10000))
    batch_size: int = _setting(
        10, "Images per batch worker invocation (the ItemBatcher's MaxItemsPerBatch).",
        _between(1, 100))
    batch_tolerated_failure_percent: int = _setting(
        5, "Percent of worker invocations that may fail (after retries) before a job fails; "
        "a bad image is reported, never counted here.", _between(0, 100))
    # --- Network -------------------------------------------------------------------------
    vpc_cidr: str = _setting(
        "10.42.0.0/16", "CIDR of the new VPC, or of the imported one (admits private-API "
        "clients).", _matches(r"\d{1,3}(\.\d{1,3}){3}/\d{1,2}", "a CIDR like 10.0.0.0/16", False))
    max_azs: int = _setting(2, "Availability zones of the new VPC.", _between(1, 6))
    vpc_id: str = _setting("", "Enterprise: import this VPC instead of creating one.",
                           _matches(r"vpc-[0-9a-f]{8,17}", "a VPC id"))
    subnet_ids: list = _setting([], "Enterprise: isolated subnets (with vpc_id) for functions.",
                                _each(_matches(r"subnet-[0-9a-f]{8,17}", "subnet ids")))
    availability_zones: list = _setting(
        [], "Enterprise: the availability zones of subnet_ids, in the same order.",
        _each(_matches(r"[a-z]{2}(-[a-z]+)+-\d[a-z]", "zone names like eu-west-1a")))
    route_table_ids: list = _setting(
        [], "Enterprise: route tables of subnet_ids (for the S3/DynamoDB gateway endpoints).",
        _each(_matches(r"rtb-[0-9a-f]{8,17}", "route table ids")))
    create_vpc_endpoints: bool = _setting(
        True, "Create the VPC endpoints; false if the imported VPC already has them.")
    existing_s3_endpoint: str = _setting(
        "", "Enterprise: the S3 gateway endpoint route_table_ids already have; cutout adds "
        "none (AWS refuses a second one per route table). Its policy must allow cutout's "
        "buckets.", VPC_ENDPOINT_ID)
    existing_dynamodb_endpoint: str = _setting(
        "", "Enterprise: the DynamoDB gateway endpoint the route tables already have (as "
        "above, for the accounts table).", VPC_ENDPOINT_ID)
    interface_endpoint_private_dns: bool = _setting(
        True, "Private DNS on interface endpoints cutout creates (and the private API's). Must "
        "be false with vpc_id: it would answer for that service across the whole VPC. Without "
        "it, functions use each endpoint's own DNS name (AWS_ENDPOINT_URL_*) and private API "
        "clients the endpoint-specific URL (the ApiUrl output).")
    interface_endpoints: list = _setting(
        [], f"Extra interface endpoints, from: {', '.join(KNOWN_INTERFACE_ENDPOINTS)}. None "
        "by default: the handlers call only S3 and DynamoDB (gateway endpoints); batch jobs "
        "need states and sts.",
        _each(_one_of(*KNOWN_INTERFACE_ENDPOINTS)))
    # --- Monitoring ----------------------------------------------------------------------
    alarm_topic_arn: str = _setting("", "SNS topic that alarms notify (empty: alarms only).",
                                    _matches(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+",
                                             "an SNS topic ARN"))
    alarm_5xx_rate_percent: int = _setting(
        1, "Alarm when more than this percent of requests fail with 5xx.", _between(1, 100))
    alarm_p99_latency_ms: int = _setting(
        20000, "Alarm when p99 API latency exceeds this many milliseconds.", _between(1, 60000))

    @property
    def imports_vpc(self) -> bool:
        """True in the enterprise variant: functions go into the customer's own subnets."""
        return self.vpc_id != ""

    @property
    def private_api(self) -> bool:
        return self.api_endpoint_type == "PRIVATE"

    @property
    def creates_gateway_endpoints(self) -> bool:
        """Whether cutout adds an S3 or DynamoDB gateway endpoint to the route tables."""
        return self.create_vpc_endpoints and not (self.existing_s3_endpoint
                                                  and self.existing_dynamodb_endpoint)

    @property
    def creates_interface_endpoints(self) -> bool:
        """Whether cutout creates any interface endpoint (its own or the private API's)."""
        return bool((self.create_vpc_endpoints and self.interface_endpoints)
                    or (self.private_api and not self.api_vpc_endpoint_id))

    def __post_init__(self) -> None:
        """0 (the default) memory or timeout: the chosen model's needs (model_sizing)."""
        if self.inference_memory_mb and self.inference_timeout_seconds:
            return
        memory, timeout = model_needs(self.model_name, self.inference_memory_mb,
                                      self.inference_timeout_seconds, self.max_pixels)
        object.__setattr__(self, "inference_memory_mb", memory)
        object.__setattr__(self, "inference_timeout_seconds", timeout)

    @classmethod
    def from_context(cls, context: Callable[[str], Any]) -> DeploymentSettings:
        """Read every `cutout:<name>` key through `context` (e.g. `node.try_get_context`)."""
        for name, reason in REMOVED_SETTINGS.items():
            if context(CONTEXT_PREFIX + name) not in (None, "", []):
                raise SettingsError(f"{CONTEXT_PREFIX}{name} {reason}")
        values = {}
        for f in fields(cls):
            raw = context(CONTEXT_PREFIX + f.name)
            if raw is not None:
                values[f.name] = _coerce(f.name, raw, str(f.type))
        settings = cls(**values)
        settings._check()
        return settings

    def _check(self) -> None:
        for f in fields(self):
            check = f.metadata.get("check")
            problem = check(getattr(self, f.name)) if check else None
            if problem:
                raise SettingsError(f"{CONTEXT_PREFIX}{f.name} {problem}, got "
                                    f"{getattr(self, f.name)!r}")
        check_combinations(self)


def _coerce(name: str, raw: Any, kind: str) -> Any:
    """Context from cdk.json keeps JSON types; from `-c key=value` everything is a string."""
    key = CONTEXT_PREFIX + name
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        lowered = str(raw).strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        raise SettingsError(f"{key} must be true or false, got {raw!r}")
    if kind == "int":
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        try:
            return int(str(raw).strip())
        except ValueError:
            raise SettingsError(f"{key} must be a whole number, got {raw!r}") from None
    if kind == "list":  # a JSON list from cdk.json, or "a,b" from the command line
        if isinstance(raw, list):
            return [str(v).strip() for v in raw]
        return [v.strip() for v in str(raw).split(",") if v.strip()]
    if not isinstance(raw, str):
        raise SettingsError(f"{key} must be a string, got {raw!r}")
    return raw.strip()
