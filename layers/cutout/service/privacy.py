"""The questions a security reviewer asks, answered from this deployment's real configuration.

Served by `GET /v1/privacy`, shown on the account page and printed by `cutout privacy`.
Every sentence is built from the runtime settings the stack passed to the function (and
the region it runs in), so changing a setting changes the answer; nothing is hard-coded
in the page.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, cast

from cutout.limits import INLINE_RESULT_BYTES
from cutout.service.retention import RETENTION
from cutout.settings import Settings

if TYPE_CHECKING:  # the body's one definition; a type only, no pydantic at run time
    from cutout.openapi.models import Privacy, PrivacyFacts

# The transient bucket's lifecycle rule (infrastructure/storage.py; the local stack's too).
TRANSIENT_LIFECYCLE_DAYS = 1
TRANSIENT_MAX_HOURS = int(RETENTION.total_seconds() // 3600)  # the sweeper's bound

# The AWS services a deployment uses; nothing leaves the customer's account.
BASE_SERVICES = (
    "Amazon API Gateway (the HTTPS API and its usage plan)",
    "AWS Lambda (the authorizer, the inference function and the account, upload and "
    "sweeper functions)",
    "Amazon S3 (the transient bucket and the training store)",
    "Amazon DynamoDB (accounts, key hashes, opt-in history, usage counters)",
    "AWS KMS (the deployment's customer-managed key)",
    "Amazon CloudWatch (logs and metrics: never image bytes, keys or signed URLs)",
    "AWS X-Ray (traces without request or response bodies)",
)
WAF_SERVICE = "AWS WAF (per-IP rate limits and common rules)"
# Step Functions keeps a STANDARD execution's history (inputs, results) this long after it
# ends; AWS sets it, no setting shortens it.
STEP_FUNCTIONS_HISTORY_DAYS = 90


@dataclass(frozen=True)
class Deployment:
    """The configuration the answers are derived from (all of it is reported as facts)."""

    region: str
    kms_key: str
    tls_policy: str
    api_endpoint_type: str
    imports_vpc: bool
    waf_enabled: bool
    zero_retention: bool
    sweep_interval_minutes: int
    transient_lifecycle_days: int
    upload_url_ttl_seconds: int
    result_url_ttl_seconds: int
    training_retention_days: int
    # the largest image that travels inside a request or an answer (cutout.limits)
    inline_limit_bytes: int
    # Catalogue batches: on when both allow-lists name buckets (and a state machine runs them)
    batch_source_buckets: tuple[str, ...] = ()
    batch_destination_buckets: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings, region: str,
                      inline_limit_bytes: int = INLINE_RESULT_BYTES) -> Deployment:
        return cls(
            region=region, kms_key=settings.kms_key_id, tls_policy=settings.tls_policy,
            api_endpoint_type=settings.api_endpoint_type, imports_vpc=settings.imports_vpc,
            waf_enabled=settings.waf_enabled, zero_retention=settings.zero_retention,
            sweep_interval_minutes=settings.sweep_interval_minutes,
            transient_lifecycle_days=TRANSIENT_LIFECYCLE_DAYS,
            upload_url_ttl_seconds=settings.upload_url_ttl_seconds,
            result_url_ttl_seconds=settings.result_url_ttl_seconds,
            training_retention_days=settings.training_retention_days,
            inline_limit_bytes=inline_limit_bytes,
            batch_source_buckets=_names(settings.batch_source_buckets),
            batch_destination_buckets=_names(settings.batch_destination_buckets))

    @property
    def private_api(self) -> bool:
        return self.api_endpoint_type == "PRIVATE"

    @property
    def batches_enabled(self) -> bool:
        return bool(self.batch_source_buckets and self.batch_destination_buckets)

    @property
    def services(self) -> tuple[str, ...]:
        services: tuple[str, ...] = BASE_SERVICES
        if self.batches_enabled:
            services = (
                *services[:1],
                "AWS Lambda (the authorizer, the inference function, the batch worker and the "
                "account, upload and sweeper functions)",
                "Amazon S3 (the transient bucket, the training store, and your allow-listed "
                f"batch buckets: reads from {_listed(self.batch_source_buckets)}, writes to "
                f"{_listed(self.batch_destination_buckets)})",
                *services[3:],
                "AWS Step Functions (runs catalogue batches; keeps each execution's history, "
                f"with bucket names, prefixes, object keys and the account id, for "
                f"{STEP_FUNCTIONS_HISTORY_DAYS} days)")
        return services + ((WAF_SERVICE,) if self.waf_enabled else ())


def _names(csv: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in csv.split(",") if name.strip())


def _listed(names: tuple[str, ...]) -> str:
    return ", ".join(names)


@dataclass(frozen=True)
class Answer:
    topic: str
    question: str
    answer: str


def privacy_answers(deployment: Deployment, training_opt_in: bool) -> list[Answer]:
    """One answer per reviewer question, for an account whose switch is `training_opt_in`."""
    d = deployment
    return [
        Answer("upload", "Do images have to be uploaded, and to where?", _upload(d)),
        Answer("retention", "How long are images and results kept?", _retention(d)),
        Answer("training", "Are images used to train models?", _training(d, training_opt_in)),
        Answer("subprocessors", "Which subprocessors see the images?", _subprocessors(d)),
        Answer("region", "In which region is data processed and stored?",
               f"Only in {d.region}: the API, the functions, both buckets, the table and the "
               f"key of this deployment are all in that region of your AWS account."),
        Answer("encryption", "How is data encrypted?", _encryption(d)),
        Answer("network", "Which network does processing run in?", _network(d)),
    ]


def privacy_document(deployment: Deployment, training_opt_in: bool) -> Privacy:
    """The JSON body of `GET /v1/privacy`: the answers and the facts behind them."""
    # Every setting of the deployment, beyond the facts the schema names (it is open)
    facts = {**asdict(deployment), "private_api": deployment.private_api,
             "services": list(deployment.services), "training_opt_in": training_opt_in}
    return {
        "answers": [{"topic": a.topic, "question": a.question, "answer": a.answer}
                    for a in privacy_answers(deployment, training_opt_in)],
        "facts": cast("PrivacyFacts", facts),
    }


def _upload(d: Deployment) -> str:
    where = ("this API and, for catalogue batches, your own allow-listed S3 buckets"
             if d.batches_enabled else "this API only")
    text = (f"Images go to {where}, in this AWS account (region {d.region}), never to "
            f"a third party. Up to {d.inline_limit_bytes / 1_000_000:.1f} MB travel inside the "
            f"request; a "
            f"larger image is PUT to the deployment's own transient S3 bucket through a signed "
            f"upload link that is valid for {d.upload_url_ttl_seconds} seconds and names one "
            f"unguessable object of your account.")
    if d.batches_enabled:
        text += (f" Catalogue batches (POST /v1/batches) are on: AWS Step Functions runs the "
                 f"batch worker, a function in the same private network, which reads images "
                 f"from {_listed(d.batch_source_buckets)} and writes cutouts to "
                 f"{_listed(d.batch_destination_buckets)}; while an account is opted in, its "
                 f"batch inputs are captured for training too. Step Functions keeps each "
                 f"execution's history (buckets, prefixes, object keys, the account id; never "
                 f"image bytes) for {STEP_FUNCTIONS_HISTORY_DAYS} days.")
        text += (f" A removal may also name an image already in "
                 f"{_listed(d.batch_source_buckets)} by image_url (s3://<bucket>/<your "
                 f"account id>/...): it is read there through S3's API, and no URL on the "
                 f"internet is ever fetched.")
    return text


def _retention(d: Deployment) -> str:
    inline = ("An image sent inline is processed in memory and written nowhere; its cutout "
              "goes back in the response.")
    links = (f"Signed links live {d.upload_url_ttl_seconds} s (upload) and "
             f"{d.result_url_ttl_seconds} s (result); a result behind a link is deleted by the "
             f"sweeper once its link has expired.")
    rule = (f"Anything in the transient bucket is gone within {TRANSIENT_MAX_HOURS} hours: a "
            f"{d.transient_lifecycle_days}-day lifecycle rule plus a sweeper that runs every "
            f"{d.sweep_interval_minutes} minutes and deletes whatever would pass "
            f"{TRANSIENT_MAX_HOURS} hours before its next run.")
    zero = ("Zero-retention mode is ON: an upload is deleted as soon as its removal has run, "
            "whether it succeeded or failed." if d.zero_retention else
            "Zero-retention mode is off (uploads wait for the sweeper).")
    return " ".join((inline, zero, links, rule))


def _training(d: Deployment, opt_in: bool) -> str:
    state = "ON" if opt_in else "OFF"
    return (f"Only if the account turns on the AI Training Data switch; for this account it "
            f"is {state}. While it is on, the image and mask of each of the account's "
            f"successful requests (and each image it submits to POST /v1.0/improve) are "
            f"copied to the separate training store, encrypted with the deployment's KMS "
            f"key, and kept for {d.training_retention_days} days; while it is off, "
            f"POST /v1.0/improve is refused and keeps nothing. Turning "
            f"it off stops this at once and deletes everything the account contributed. The "
            f"model itself never learns from requests.")


def _subprocessors(d: Deployment) -> str:
    return ("None outside your own AWS account: no third-party service, CDN, font or "
            "analytics host is involved. The AWS services this deployment uses, all in "
            f"{d.region}: " + "; ".join(d.services) + ".")


def _encryption(d: Deployment) -> str:
    return (f"At rest: the customer-managed KMS key {d.kms_key} (automatic rotation on) "
            f"encrypts both buckets, the accounts table and the logs. In transit: TLS 1.2 or "
            f"newer everywhere; the API's security policy is {d.tls_policy}, and both buckets "
            f"refuse any request that is not over TLS.")


def _network(d: Deployment) -> str:
    if d.imports_vpc:
        where = ("The functions run in the subnets of your own VPC that the deployment was "
                 "given; the stack adds no NAT gateway or internet route to them, and they "
                 "reach S3 and DynamoDB through VPC endpoints.")
    else:
        where = ("The functions run in isolated private subnets: no NAT gateway, no internet "
                 "route; they reach S3 and DynamoDB only through VPC gateway endpoints.")
    if d.batches_enabled:
        where += (" Catalogue batches add the `states` interface endpoint, through which the "
                  "API starts and reads AWS Step Functions executions, and the `sts` one, "
                  "through which the batch worker, in the same subnets, takes each job's own "
                  "session, limited by IAM to that job's source and destination prefixes.")
    if d.private_api:
        api = ("The API is PRIVATE: reachable only through the execute-api VPC endpoint, as "
               "its resource policy enforces.")
    else:
        api = ("The API is REGIONAL: a public HTTPS endpoint on which every data route "
               "requires an API key.")
    waf = " A WAF web ACL filters and rate-limits requests." if d.waf_enabled else ""
    return f"{where} {api}{waf}"
