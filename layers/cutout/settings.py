"""Runtime settings: one typed object read from the environment, validated once.

Every Lambda function gets the same variables from the CDK stack (see
`infrastructure/`); a test checks that the keys the stack sets are exactly the
`ENVIRONMENT_VARIABLES` below, so the two sides cannot drift. The defaults here are the only
copy: the deployment settings (`infrastructure/settings.py`) take theirs from these fields.
A missing or bad variable raises `ConfigurationError` naming it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from typing import Any

from cutout.errors import ConfigurationError
from cutout.flags import parse_flag

DEFAULT_MAX_PIXELS = 36_000_000
URL_TTL_RANGE = (1, 3600)  # seconds a signed URL may live (SigV4 allows 7 days; we keep it short)


@dataclass(frozen=True)
class Settings:
    """What a function needs to know about its deployment."""

    accounts_table: str
    transient_bucket: str
    training_bucket: str
    kms_key_id: str
    model_name: str = ""  # empty: the manifest's "default" (engine.models.default_model_name)
    max_pixels: int = DEFAULT_MAX_PIXELS
    inference_threads: int = 0  # 0 = derive from the CPU credit (see engine.session)
    upload_url_ttl_seconds: int = 300
    result_url_ttl_seconds: int = 300
    zero_retention: bool = False
    # What the privacy answers (`GET /v1/privacy`) report about the deployment around them.
    tls_policy: str = "TLS_1_2"
    api_endpoint_type: str = "REGIONAL"
    imports_vpc: bool = False
    waf_enabled: bool = False
    sweep_interval_minutes: int = 60
    training_retention_days: int = 365
    # Catalogue batches: off while the allow-lists are empty. The state machine's ARN (its
    # concurrency, batch size and tolerance are the definition's); bucket names are
    # comma-separated.
    batch_state_machine_arn: str = ""
    batch_source_buckets: str = ""
    batch_destination_buckets: str = ""
    # The role each job's items are read and written as, under a session policy naming only
    # the job's two prefixes (data.batch_access); empty: the worker's own credentials.
    batch_job_role_arn: str = ""
    # The role an `image_url` read of an allow-listed object is made as, under a session
    # policy naming only that object (data.object_access); empty: no allow-listed image_url.
    image_url_role_arn: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate every field from `CUTOUT_<FIELD>` variables."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for field in fields(cls):
            name = env_name(field.name)
            raw = env.get(name)
            if raw is None or raw == "":
                if field.default is MISSING:
                    raise ConfigurationError(f"environment variable {name} is required")
                continue
            values[field.name] = _parse(name, raw, field.type)
        settings = cls(**values)  # type: ignore[arg-type]
        settings._check()
        return settings

    def _check(self) -> None:
        if self.max_pixels < 1:
            raise ConfigurationError(f"{env_name('max_pixels')} must be positive")
        if self.inference_threads < 0:
            raise ConfigurationError(f"{env_name('inference_threads')} must be >= 0")
        low, high = URL_TTL_RANGE
        for name in ("upload_url_ttl_seconds", "result_url_ttl_seconds"):
            if not low <= getattr(self, name) <= high:
                raise ConfigurationError(f"{env_name(name)} must be between {low} and {high} "
                                         "seconds")


def default(field_name: str) -> Any:
    """A setting's default: the one copy the deployment settings and the local stack read."""
    (value,) = (f.default for f in fields(Settings) if f.name == field_name)
    if value is MISSING:
        raise KeyError(f"{field_name} has no default")
    return value


def env_name(field_name: str) -> str:
    """The environment variable that carries a settings field."""
    return f"CUTOUT_{field_name.upper()}"


ENVIRONMENT_VARIABLES: tuple[str, ...] = tuple(env_name(f.name) for f in fields(Settings))


def _parse(name: str, raw: str, kind: object) -> object:
    kind = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    if kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise ConfigurationError(f"{name} must be a whole number, got {raw!r}") from None
    if kind == "bool":
        flag = parse_flag(raw)
        if flag is None:
            raise ConfigurationError(f"{name} must be true or false, got {raw!r}")
        return flag
    return raw
