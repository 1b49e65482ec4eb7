"""The JSON bodies of the API as pydantic models: the OpenAPI document's schemas.

Views (`cutout.api.views`) build plain dicts at run time (no pydantic in the functions); a
test validates every view's output against its model here, so the two cannot drift.
"""

from __future__ import annotations

from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field

from cutout.engine.options import MEDIA_TYPES

IMAGE_TYPES = sorted(MEDIA_TYPES.values())  # what a result may be (zip included)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UsageDay(_Strict):
    day: str = Field(json_schema_extra={"format": "date"})
    requests: int = Field(ge=0)
    megapixels: float = Field(ge=0)


class MonthlyUsage(_Strict):
    """This calendar month (UTC): totals and the days that had any request."""

    month: str = Field(description="`YYYY-MM`.")
    requests: int = Field(ge=0)
    megapixels: float = Field(ge=0)
    days: list[UsageDay]


class TrainingErasure(_Strict):
    """The deletion the last opt-out started: capture stopped with its first answer."""

    state: str = Field(description="`in_progress` until nothing is left, then `done`.")
    deleted_objects: int = Field(ge=0)
    started_at: str = Field(json_schema_extra={"format": "date-time"})
    finished_at: str | None = Field(json_schema_extra={"format": "date-time"})


class Account(_Strict):
    """The calling key's account and its AI Training Data switch."""

    account_id: str
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    training_opt_in: bool = Field(description="Off by default.")
    training_opt_in_changed_at: str | None = Field(json_schema_extra={"format": "date-time"})
    training_opt_in_changed_by: str | None = Field(
        description="The visible prefix of the key that made the last change, or `admin`.")
    training_erasure: TrainingErasure | None = Field(
        description="Null until the first opt-out; what one request could not delete, later "
                    "reads of the account and the scheduled sweeper finish.")
    usage: MonthlyUsage | None = Field(default=None,
                                       description="`GET /v1/account` only: this month's usage.")


class OptInRequest(_Strict):
    """Turn the switch on or off: exactly a JSON boolean."""

    opt_in: bool


class OptInOutcome(Account):
    """The account after the change, and what turning the switch off deleted."""

    deleted_training_objects: int = Field(ge=0)


class Upload(_Strict):
    """A presigned PUT for one object key; send exactly `headers`."""

    upload_id: str
    upload_url: str = Field(description="A presigned PUT; it signs one object key only.",
                            json_schema_extra={"format": "uri"})
    method: str = Field(json_schema_extra={"const": "PUT"})
    headers: dict[str, str] = Field(
        description="Send exactly these headers with the PUT (they are signed).")
    expires_in: int = Field(description="Seconds the URL stays valid.")
    max_bytes: int


class Foreground(_Strict):
    """The subject's box in output pixels."""

    left: int
    top: int
    width: int
    height: int


class ResultLink(_Strict):
    """A result that leaves through S3: a short-lived signed GET."""

    result_url: str = Field(description="A presigned GET of the result.",
                            json_schema_extra={"format": "uri"})
    expires_in: int = Field(description="Seconds the URL stays valid.")
    content_type: str = Field(json_schema_extra={"enum": cast(Any, IMAGE_TYPES)})
    width: int
    height: int
    foreground: Foreground | None


class ErrorDetail(BaseModel):
    code: str = Field(description="A stable machine-readable code (see `ErrorCode`).")
    message: str = Field(description="A sentence for a person.")
    request_id: str
    reason: str | None = Field(default=None,
                               description="`403 forbidden` only: the authorizer's verdict.")


class Error(BaseModel):
    """Every refusal of the native API, the gateway's included."""

    error: ErrorDetail


class RemoveBgData(BaseModel):
    result_b64: str = Field(json_schema_extra={"contentEncoding": "base64"})
    foreground_top: int
    foreground_left: int
    foreground_width: int
    foreground_height: int


class RemoveBgResult(BaseModel):
    """remove.bg's JSON answer (first `Accept` value `application/json`)."""

    data: RemoveBgData


class RemoveBgError(BaseModel):
    title: str
    code: str
    detail: str


class RemoveBgErrors(BaseModel):
    """remove.bg's error shape, answered by the function on its route."""

    errors: list[RemoveBgError]


class RemoveBgCredits(_Strict):
    """Not a balance: nothing is sold in credits here. This month's removals, one each."""

    total: float = Field(ge=0, description="This month's removals (UTC).")
    subscription: float = Field(ge=0, description="Always 0.")
    payg: float = Field(ge=0, description="Always 0.")
    enterprise: float = Field(ge=0, description="The same as `total`: the deployment is "
                                                "the account's own.")


class RemoveBgApiAllowance(_Strict):
    free_calls: int = Field(ge=0, description="Always 0: no call is free or paid.")
    sizes: str = Field(json_schema_extra={"const": "all"})


class RemoveBgUsage(_Strict):
    """This month's usage in our own terms (beyond remove.bg's shape)."""

    month: str = Field(description="`YYYY-MM`.")
    requests: int = Field(ge=0)
    megapixels: float = Field(ge=0)


class RemoveBgAccountAttributes(_Strict):
    credits: RemoveBgCredits
    api: RemoveBgApiAllowance
    usage: RemoveBgUsage


class RemoveBgAccountData(_Strict):
    attributes: RemoveBgAccountAttributes


class RemoveBgAccount(_Strict):
    """remove.bg's account answer, with this month's usage as credits."""

    data: RemoveBgAccountData


class RemoveBgSubmissionId(_Strict):
    id: str = Field(json_schema_extra={"format": "uuid"})


class RemoveBgSubmission(_Strict):
    """The kept image's id: top-level as remove.bg documents it, and under `data`."""

    id: str = Field(json_schema_extra={"format": "uuid"})
    data: RemoveBgSubmissionId


class PrivacyAnswer(_Strict):
    topic: str
    question: str
    answer: str = Field(description="Built from this deployment's real settings.")


class PrivacyFacts(BaseModel):
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


class Privacy(_Strict):
    """Where this account's images go: the reviewer's questions and the facts behind them."""

    answers: list[PrivacyAnswer]
    facts: PrivacyFacts


class BatchTotals(_Strict):
    listed: int | None = Field(description="Objects under the source prefix (once listed).")
    done: int
    skipped: int
    failed: int


class Batch(BaseModel):
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
    status_url: str | None = None
    report_url: str | None = Field(default=None, description=(
        "A short-lived signed GET of the failure report (object key and error code per "
        "failed item), once the job has ended with failures and the report is written."))
    report_expires_in: int | None = None
    report_state: str | None = Field(default=None, description=(
        "`none` (nothing failed), `preparing` (failures; the report is being merged, read "
        "the status again) or `ready` (report_url is set). The report lists at most 10,000 "
        "failures (`truncated: true` past that)."))


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
RESPONSE_MODELS: dict[str, type[BaseModel]] = {
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
