"""Every route of the API, declared once.

The CDK stack wires a method per entry, the local gateway routes by it, the Powertools
routers register their handlers from it (`cutout.api.routing.handles`), the OpenAPI
builder documents it and the tests read it. Adding a route is one entry here and one
handler function in the router module its `group` names.

Light on purpose (no engine, no boto3, no Powertools): the CDK app imports it.
"""

from __future__ import annotations

from dataclasses import dataclass

from cutout import errors

# The Lambda functions behind the API: a directory under functions/ each.
REMOVE_BACKGROUND = "remove_background"  # the container function (the engine)
UPLOADS = "uploads"
ACCOUNT = "account"


@dataclass(frozen=True)
class Route:
    """One method on one path, and everything said about it in one place."""

    operation: str  # the OpenAPI operationId and the router handler's name
    method: str
    path: str  # API Gateway syntax: /v1/things/{thing_id}
    function: str  # the Lambda that serves it (a directory under functions/)
    group: str  # the router module under cutout.api.routers
    summary: str
    description: str = ""
    authorized: bool = True  # behind the API-key authorizer (and the usage plan)
    success_status: int = 200
    errors: tuple[type[errors.CutoutError], ...] = ()  # beyond the errors every route has

    @property
    def router_path(self) -> str:
        """The path in Powertools' syntax (`<name>` for a `{name}` parameter)."""
        return self.path.replace("{", "<").replace("}", ">")


# Errors any authorized route may answer: the gateway's and the server's own.
COMMON_ERRORS: tuple[type[errors.CutoutError], ...] = (
    errors.Unauthorized, errors.Forbidden, errors.ImageTooLarge, errors.Throttled,
    errors.CutoutError, errors.ConfigurationError, errors.ServiceUnavailable)

_IMAGE_ERRORS = (
    errors.InvalidRequest, errors.InvalidOption, errors.MissingSource, errors.MultipleSources,
    errors.ImageUrlRefused, errors.ImageUrlNotAllowed, errors.ImageObjectNotFound,
    errors.UploadNotFound, errors.ImageTooLarge, errors.UnsupportedMediaType,
    errors.UndecodableImage, errors.ImageTooComplex, errors.ResultTooLarge, errors.ModelError,
    errors.MultipleBackgrounds)

ROUTES: tuple[Route, ...] = (
    Route(
        operation="remove_background", method="POST", path="/v1/remove-background",
        function=REMOVE_BACKGROUND, group="removal",
        summary="Remove the background of one image",
        description=(
            "Send the image as a raw body (image/*), a multipart `image_file`, or a JSON or "
            "form field `image_base64`, `upload_id` (from POST /v1/uploads) or `image_url` "
            "(an S3 object of this account inside the deployment; never an internet URL). "
            "Options go in the query string or beside the image in the body. The cutout "
            "comes back as the image itself, or as JSON with a short-lived signed link when "
            "it cannot travel inline (the input came by upload, or the result is over about "
            "4.5 MB)."),
        errors=(*_IMAGE_ERRORS, errors.AccountNotFound)),
    Route(
        operation="remove_background_removebg", method="POST", path="/v1.0/removebg",
        function=REMOVE_BACKGROUND, group="removebg",
        summary="remove.bg-compatible background removal",
        description=(
            "remove.bg's v1.0 contract, so that existing client libraries and scripts work "
            "unchanged: `X-Api-Key`, multipart `image_file`, or form/JSON `image_file_b64`; "
            "image bytes, or `{\"data\": {\"result_b64\", ...}}` when the first Accept value "
            "is application/json; errors in remove.bg's `{\"errors\": [...]}` shape. "
            "`image_url` names an S3 object of this account inside the deployment, read "
            "through S3's API; a URL anywhere else is never fetched."),
        errors=_IMAGE_ERRORS),
    Route(
        operation="create_upload", method="POST", path="/v1/uploads",
        function=UPLOADS, group="uploads",
        summary="Get a signed upload for a large image",
        description=(
            "A presigned, KMS-encrypted PUT for one account-bound object in the transient "
            "bucket (deleted within 24 hours). PUT the image there, then name its "
            "`upload_id` in POST /v1/remove-background."),
        success_status=201),
    Route(
        operation="get_account", method="GET", path="/v1/account",
        function=ACCOUNT, group="account",
        summary="The calling account and its training opt-in",
        errors=(errors.AccountNotFound,)),
    Route(
        operation="set_training_opt_in", method="PUT", path="/v1/account/training-opt-in",
        function=ACCOUNT, group="account",
        summary="Turn the AI Training Data switch on or off",
        description=(
            "Body `{\"opt_in\": true|false}`. Off by default; only a key created with "
            "`--scope admin` turns it on, any key turns it off. Turning it off stops capture "
            "at once and starts deleting everything this account contributed to the training "
            "store: the answer's `training_erasure` says how far it got, and what one request "
            "cannot delete the next account read and the scheduled sweeper finish."),
        errors=(errors.InvalidRequest, errors.AdminKeyRequired, errors.AccountNotFound,
                errors.Conflict, errors.ErasureInProgress, errors.TrainingDeletionFailed)),
    Route(
        operation="get_privacy", method="GET", path="/v1/privacy",
        function=ACCOUNT, group="privacy",
        summary="Where images go: the privacy answers of this deployment",
        description=(
            "The questions a security reviewer asks (upload, retention, training use, "
            "subprocessors, region, encryption, network), answered from the deployment's "
            "real settings, with the facts behind each answer. `cutout privacy` prints them."),
        errors=(errors.AccountNotFound,)),
    # The account page: the only routes without the authorizer. Static files that carry no
    # data (every data call the page makes goes to an authorized /v1 route with the key the
    # person pastes); one route per file, so nothing else is reachable by path.
    Route(
        operation="get_account_page", method="GET", path="/account",
        function=ACCOUNT, group="account_page",
        summary="The account page (HTML): the AI Training Data switch, privacy, try it",
        description=(
            "A static page for people: sign in with an API key (kept in the tab only), the "
            "AI Training Data switch at the top, this deployment's privacy answers, a try-it "
            "panel and this month's usage. No key needed for the file itself; strict "
            "Content-Security-Policy, no cookies, no third-party hosts."),
        authorized=False),
    Route(
        operation="get_account_page_script", method="GET", path="/account/account.js",
        function=ACCOUNT, group="account_page",
        summary="The account page's script",
        description="Plain JavaScript, no build step; served with the page's CSP.",
        authorized=False),
    Route(
        operation="get_account_page_style", method="GET", path="/account/account.css",
        function=ACCOUNT, group="account_page",
        summary="The account page's style sheet",
        description="Plain CSS, no web fonts or images.", authorized=False),
    # Catalogue batches: served by the container function, whose engine checks the options
    # before anything runs (the zip functions carry no Pillow); docs/batch.md.
    Route(
        operation="create_batch", method="POST", path="/v1/batches",
        function=REMOVE_BACKGROUND, group="batches",
        summary="Cut out every image under an S3 prefix",
        description=(
            "Body `{\"source\": \"s3://bucket/prefix/\", \"destination\": "
            "\"s3://bucket/prefix/\", \"options\": {...}, \"overwrite\": false}`; both buckets "
            "from the deployment's allow-lists, options as for POST /v1/remove-background. "
            "Outputs mirror the source keys with the format's extension; existing outputs are "
            "skipped unless `overwrite`, so a job can be resumed. Answered at once with the "
            "batch id; the job runs on Step Functions."),
        success_status=202,
        errors=(errors.InvalidRequest, errors.InvalidOption, errors.InvalidLocation,
                errors.BucketNotAllowed, errors.LocationsOverlap,
                errors.LocationNotOwned,
                errors.EmptySource, errors.BatchesNotEnabled)),
    Route(
        operation="get_batch", method="GET", path="/v1/batches/{batch_id}",
        function=REMOVE_BACKGROUND, group="batches",
        summary="A batch job's state, totals and failure report",
        description=(
            "State, totals (listed, done, skipped, failed), start and end time; once the job "
            "has ended with failures, a short-lived signed link to its report (object key and "
            "error code per failed item, never image bytes). An account sees only its own "
            "jobs."),
        errors=(errors.BatchNotFound, errors.BatchesNotEnabled)),
    # remove.bg's other v1.0 routes (docs/removebg.md), in its shapes and its error shape.
    Route(
        operation="get_account_removebg", method="GET", path="/v1.0/account",
        function=ACCOUNT, group="removebg_account",
        summary="remove.bg-compatible account: this month's usage as credits",
        description=(
            "remove.bg's `{\"data\": {\"attributes\": {\"credits\": {\"total\", "
            "\"subscription\", \"payg\", \"enterprise\"}, \"api\": {\"free_calls\", "
            "\"sizes\"}}}}`. Nothing is sold in credits here and no call is refused for "
            "them: `credits.total` (and `enterprise`) count this month's removals, one per "
            "cutout, from the usage counters `GET /v1/account` reads; `usage` beside them "
            "gives the month, requests and megapixels."),
        errors=(errors.AccountNotFound,)),
    Route(
        operation="improve_removebg", method="POST", path="/v1.0/improve",
        function=REMOVE_BACKGROUND, group="improve",
        summary="remove.bg-compatible improvement program: an image kept for training",
        description=(
            "remove.bg's fields: `image_file` (multipart), `image_file_b64` or `image_url` (an "
            "S3 object of this account inside the deployment, as on the removal routes), with "
            "optional `image_filename` and `tag`. Kept in the training store only when the account "
            "has turned the AI Training Data switch on (read strongly consistent first); "
            "otherwise `403 training_opt_in_required` and nothing is kept. The image is "
            "decoded under the same bounds as a removal's before it is kept. Answers "
            "`{\"id\": ...}` (also as `data.id`); an opt-out deletes it with the rest."),
        errors=(errors.TrainingNotOptedIn, errors.InvalidRequest, errors.InvalidOption,
                errors.MissingSource, errors.MultipleSources, errors.ImageUrlNotAllowed,
                errors.ImageObjectNotFound, errors.ImageTooLarge, errors.UnsupportedMediaType,
                errors.UndecodableImage, errors.ImageTooComplex, errors.AccountNotFound)),
)


def route_named(operation: str) -> Route:
    """The route whose operation id is `operation` (a KeyError names an unknown one)."""
    for route in ROUTES:
        if route.operation == operation:
            return route
    raise KeyError(f"no route {operation!r} in cutout.api.routes.ROUTES")


def functions() -> tuple[str, ...]:
    """Every function behind the API, in table order."""
    return tuple(dict.fromkeys(route.function for route in ROUTES))
