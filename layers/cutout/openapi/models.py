"""The JSON bodies of the API, each defined once: the views' types and openapi.json's schemas.

Every answer body is a TypedDict: the views (`cutout.api.views` and the routers) import them
for type checking only and build plain dicts (no pydantic in the functions), and the builder
derives each schema from the same class (`Field` in `Annotated` gives descriptions and
bounds). The two request bodies stay pydantic models, which Powertools reads as bodies.

Without `from __future__ import annotations`: the nested bodies are classes, not names, so a
TypeAdapter never resolves `MonthlyUsage` in its caller's namespace (the service's dataclass).
"""

from collections.abc import Mapping
from typing import Annotated, Any, NotRequired, cast

from pydantic import BaseModel, ConfigDict, Field, with_config
from typing_extensions import TypedDict  # pydantic reads typing's only from Python 3.12

from cutout.engine.options import MEDIA_TYPES

IMAGE_TYPES = sorted(MEDIA_TYPES.values())  # what a result may be (zip included)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


_STRICT = with_config(extra="forbid")  # a body with no keys beyond its own


@_STRICT
class UsageDay(TypedDict):
    day: Annotated[str, Field(json_schema_extra={"format": "date"})]
    requests: Annotated[int, Field(ge=0)]
    megapixels: Annotated[float, Field(ge=0)]


@_STRICT
class MonthlyUsage(TypedDict):
    """This calendar month (UTC): totals and the days that had any request."""

    month: Annotated[str, Field(description="`YYYY-MM`.")]
    requests: Annotated[int, Field(ge=0)]
    megapixels: Annotated[float, Field(ge=0)]
    days: list[UsageDay]


@_STRICT
class TrainingErasure(TypedDict):
    """The deletion the last opt-out started: capture stopped with its first answer."""

    state: Annotated[str, Field(description="`in_progress` until nothing is left, then `done`.")]
    deleted_objects: Annotated[int, Field(ge=0)]
    started_at: Annotated[str, Field(json_schema_extra={"format": "date-time"})]
    finished_at: Annotated[str | None, Field(json_schema_extra={"format": "date-time"})]


@_STRICT
class Account(TypedDict):
    """The calling key's account and its AI Training Data switch."""

    account_id: str
    created_at: Annotated[str, Field(json_schema_extra={"format": "date-time"})]
    training_opt_in: Annotated[bool, Field(description="Off by default.")]
    training_opt_in_changed_at: Annotated[str | None,
                                          Field(json_schema_extra={"format": "date-time"})]
    training_opt_in_changed_by: Annotated[str | None, Field(
        description="The visible prefix of the key that made the last change, or `admin`.")]
    training_erasure: Annotated[TrainingErasure | None, Field(
        description="Null until the first opt-out; what one request could not delete, later "
                    "reads of the account and the scheduled sweeper finish.")]
    usage: NotRequired[Annotated[MonthlyUsage | None, Field(
        description="`GET /v1/account` only: this month's usage.")]]


class OptInRequest(_Strict):
    """Turn the switch on or off: exactly a JSON boolean."""

    opt_in: bool


@_STRICT
class OptInOutcome(Account):
    """The account after the change, and what turning the switch off deleted."""

    deleted_training_objects: Annotated[int, Field(ge=0)]


@_STRICT
class Upload(TypedDict):
    """A presigned PUT for one object key; send exactly `headers`."""

    upload_id: str
    upload_url: Annotated[str, Field(description="A presigned PUT; it signs one object key only.",
                                     json_schema_extra={"format": "uri"})]
    method: Annotated[str, Field(json_schema_extra={"const": "PUT"})]
    headers: Annotated[dict[str, str], Field(
        description="Send exactly these headers with the PUT (they are signed).")]
    expires_in: Annotated[int, Field(description="Seconds the URL stays valid.")]
    max_bytes: int


@_STRICT
class Foreground(TypedDict):
    """The subject's box in output pixels."""

    left: int
    top: int
    width: int
    height: int


@_STRICT
class ResultLink(TypedDict):
    """A result that leaves through S3: a short-lived signed GET."""

    result_url: Annotated[str, Field(description="A presigned GET of the result.",
                                     json_schema_extra={"format": "uri"})]
    expires_in: Annotated[int, Field(description="Seconds the URL stays valid.")]
    content_type: Annotated[str, Field(json_schema_extra={"enum": cast(Any, IMAGE_TYPES)})]
    width: int
    height: int
    foreground: Foreground | None


class ErrorDetail(TypedDict):
    code: Annotated[str, Field(description="A stable machine-readable code (see `ErrorCode`).")]
    message: Annotated[str, Field(description="A sentence for a person.")]
    request_id: str
    reason: NotRequired[Annotated[str | None, Field(
        description="`403 forbidden` only: the authorizer's verdict.")]]


class Error(TypedDict):
    """Every refusal of the native API, the gateway's included."""

    error: ErrorDetail


class RemoveBgData(TypedDict):
    result_b64: Annotated[str, Field(json_schema_extra={"contentEncoding": "base64"})]
    foreground_top: int
    foreground_left: int
    foreground_width: int
    foreground_height: int


class RemoveBgResult(TypedDict):
    """remove.bg's JSON answer (first `Accept` value `application/json`)."""

    data: RemoveBgData


class RemoveBgError(TypedDict):
    title: str
    code: str
    detail: str


class RemoveBgErrors(TypedDict):
    """remove.bg's error shape, answered by the function on its route."""

    errors: list[RemoveBgError]


@_STRICT
class RemoveBgCredits(TypedDict):
    """Not a balance: nothing is sold in credits here. This month's removals, one each."""

    total: Annotated[float, Field(ge=0, description="This month's removals (UTC).")]
    subscription: Annotated[float, Field(ge=0, description="Always 0.")]
    payg: Annotated[float, Field(ge=0, description="Always 0.")]
    enterprise: Annotated[float, Field(ge=0, description="The same as `total`: the deployment "
                                                         "is the account's own.")]


@_STRICT
class RemoveBgApiAllowance(TypedDict):
    free_calls: Annotated[int, Field(ge=0, description="Always 0: no call is free or paid.")]
    sizes: Annotated[str, Field(json_schema_extra={"const": "all"})]


@_STRICT
class RemoveBgUsage(TypedDict):
    """This month's usage in our own terms (beyond remove.bg's shape)."""

    month: Annotated[str, Field(description="`YYYY-MM`.")]
    requests: Annotated[int, Field(ge=0)]
    megapixels: Annotated[float, Field(ge=0)]


@_STRICT
class RemoveBgAccountAttributes(TypedDict):
    credits: RemoveBgCredits
    api: RemoveBgApiAllowance
    usage: RemoveBgUsage


@_STRICT
class RemoveBgAccountData(TypedDict):
    attributes: RemoveBgAccountAttributes


@_STRICT
class RemoveBgAccount(TypedDict):
    """remove.bg's account answer, with this month's usage as credits."""

    data: RemoveBgAccountData


@_STRICT
class RemoveBgSubmissionId(TypedDict):
    id: Annotated[str, Field(json_schema_extra={"format": "uuid"})]


@_STRICT
class RemoveBgSubmission(TypedDict):
    """The kept image's id: top-level as remove.bg documents it, and under `data`."""

    id: Annotated[str, Field(json_schema_extra={"format": "uuid"})]
    data: RemoveBgSubmissionId


@_STRICT
class PrivacyAnswer(TypedDict):
    topic: str
    question: str
    answer: Annotated[str, Field(description="Built from this deployment's real settings.")]


@with_config(extra="ignore")  # its own: a TypedDict would take Privacy's `forbid`
class PrivacyFacts(TypedDict):
    """The settings the answers were built from (open: a deployment may report more)."""

    region: str
    kms_key: str
    tls_policy: str
    api_endpoint_type: str
    private_api: bool
    zero_retention: bool
    sweep_interval_minutes: int
    training_retention_days: int
    training_opt_in: bool
    services: list[str]


@_STRICT
class Privacy(TypedDict):
    """Where this account's images go: the reviewer's questions and the facts behind them."""

    answers: list[PrivacyAnswer]
    facts: PrivacyFacts


@_STRICT
class BatchTotals(TypedDict):
    listed: Annotated[int | None, Field(
        description="Objects under the source prefix (once listed).")]
    done: int
    skipped: int
    failed: int


class Batch(TypedDict):
    """A catalogue batch: where from, where to, how far."""

    batch_id: str
    state: str
    source: str
    destination: str
    options: dict[str, object]
    overwrite: bool
    totals: BatchTotals
    started_at: str | None
    ended_at: str | None
    status_url: NotRequired[str | None]
    report_url: NotRequired[Annotated[str | None, Field(description=(
        "A short-lived signed GET of the failure report (object key and error code per "
        "failed item), once the job has ended with failures and the report is written."))]]
    report_expires_in: NotRequired[int | None]
    report_state: NotRequired[Annotated[str | None, Field(description=(
        "`none` (nothing failed), `preparing` (failures; the report is being merged, read "
        "the status again) or `ready` (report_url is set). The report lists at most 10,000 "
        "failures (`truncated: true` past that)."))]]


class BatchRequest(_Strict):
    """Start a batch: both buckets from the deployment's allow-lists."""

    source: str = Field(description="`s3://bucket/prefix/`", pattern="^s3://")
    destination: str = Field(description="`s3://bucket/prefix/`, not inside the source.",
                             pattern="^s3://")
    options: dict[str, object] = Field(default_factory=dict, description=(
        "The options of POST /v1/remove-background (format, channels, bg_color, size, crop, "
        "crop_margin, edge)."))
    overwrite: bool = Field(default=False,
                            description="Replace existing outputs (default: skip them).")


# Every model a route answers with or reads, by operation id (the builder checks coverage).
RESPONSE_MODELS: dict[str, type[Mapping[str, object]]] = {
    "remove_background": ResultLink,
    "remove_background_removebg": RemoveBgResult,
    "create_upload": Upload,
    "get_account": Account,
    "set_training_opt_in": OptInOutcome,
    "get_privacy": Privacy,
    "create_batch": Batch,
    "get_batch": Batch,
    "get_account_removebg": RemoveBgAccount,
    "improve_removebg": RemoveBgSubmission,
}
REQUEST_MODELS: dict[str, type[BaseModel]] = {
    "set_training_opt_in": OptInRequest,
    "create_batch": BatchRequest,
}
