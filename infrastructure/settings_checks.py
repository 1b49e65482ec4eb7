"""The deployment settings' cross-field rules: combinations no single field's check can see.

Each raises `SettingsError` naming the `cutout:` keys involved and what to change, at synth,
before anything is deployed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cutout.limits import API_GATEWAY_TIMEOUT_SECONDS
from infrastructure.model_sizing import ENGINE_BASE_MIB, ENGINE_BYTES_PER_PIXEL, max_pixels_for

if TYPE_CHECKING:
    from infrastructure.settings import DeploymentSettings

CONTEXT_PREFIX = "cutout:"


class SettingsError(ValueError):
    """A context value that cannot be deployed; the message names the `cutout:` key."""


def check_combinations(settings: DeploymentSettings) -> None:
    """Every rule between settings, in the order a reader would fix them."""
    if settings.throttle_burst_limit < settings.throttle_rate_limit:
        raise SettingsError(f"{CONTEXT_PREFIX}throttle_burst_limit must be at least "
                            f"{CONTEXT_PREFIX}throttle_rate_limit")
    _capacity(settings)
    if bool(settings.domain_name) != bool(settings.certificate_arn):
        raise SettingsError(f"{CONTEXT_PREFIX}domain_name and {CONTEXT_PREFIX}certificate_arn "
                            "must be set together")
    _dns_zone(settings)
    if settings.api_vpc_endpoint_id and not settings.private_api:
        raise SettingsError(f"{CONTEXT_PREFIX}api_vpc_endpoint_id needs "
                            f"{CONTEXT_PREFIX}api_endpoint_type PRIVATE")
    if settings.domain_name and settings.private_api:
        raise SettingsError(f"{CONTEXT_PREFIX}domain_name is not supported with a PRIVATE "
                            "api_endpoint_type")
    _imported_network(settings)
    if bool(settings.batch_source_buckets) != bool(settings.batch_destination_buckets):
        raise SettingsError(f"{CONTEXT_PREFIX}batch_source_buckets and "
                            f"{CONTEXT_PREFIX}batch_destination_buckets must be set together")
    missing = [name for name in ("states", "sts") if name not in settings.interface_endpoints]
    if settings.batch_source_buckets and settings.create_vpc_endpoints and missing:
        raise SettingsError(
            f"batch jobs need {CONTEXT_PREFIX}interface_endpoints to include states and "
            f"sts (missing: {', '.join(missing)}): the API function starts Step Functions "
            "executions and the worker takes each job's own STS session from the "
            "isolated subnets (an interface endpoint each, about $7 a month per zone)")

def _dns_zone(settings: DeploymentSettings) -> None:
    p = CONTEXT_PREFIX
    if bool(settings.hosted_zone_id) != bool(settings.hosted_zone_name):
        raise SettingsError(f"{p}hosted_zone_id and {p}hosted_zone_name must be set together")
    if settings.hosted_zone_id and not settings.domain_name:
        raise SettingsError(f"{p}hosted_zone_id needs {p}domain_name (the record to create)")
    zone = settings.hosted_zone_name.rstrip(".")
    if zone and not (settings.domain_name == zone or settings.domain_name.endswith("." + zone)):
        raise SettingsError(f"{p}domain_name {settings.domain_name!r} is not in {p}"
                            f"hosted_zone_name {zone!r}")

def _capacity(settings: DeploymentSettings) -> None:
    """Throttles that can bind, a timeout the API can wait for, pixels memory can hold."""
    p = CONTEXT_PREFIX
    if settings.stage_throttle_burst_limit < settings.stage_throttle_rate_limit:
        raise SettingsError(f"{p}stage_throttle_burst_limit must be at least "
                            f"{p}stage_throttle_rate_limit")
    for per_key in ("rate", "burst"):
        key, stage = f"throttle_{per_key}_limit", f"stage_throttle_{per_key}_limit"
        if getattr(settings, key) > getattr(settings, stage):
            raise SettingsError(f"{p}{key} ({getattr(settings, key)}) must not exceed {p}{stage} "
                                f"({getattr(settings, stage)}): one key could not reach it")
    if settings.inference_timeout_seconds > API_GATEWAY_TIMEOUT_SECONDS:
        raise SettingsError(
            f"{p}inference_timeout_seconds must be at most {API_GATEWAY_TIMEOUT_SECONDS} "
            f"(API Gateway's integration timeout: the client would get a 504 while the "
            f"function kept running), got {settings.inference_timeout_seconds}")
    limit = max_pixels_for(settings.inference_memory_mb)
    if settings.max_pixels > limit:
        raise SettingsError(
            f"{p}max_pixels {settings.max_pixels} does not fit {p}inference_memory_mb "
            f"{settings.inference_memory_mb}: at most {limit} pixels (budget "
            f"{ENGINE_BASE_MIB} MiB + {ENGINE_BYTES_PER_PIXEL} bytes per pixel); raise "
            f"the memory or lower max_pixels")

def _imported_network(settings: DeploymentSettings) -> None:
    enterprise = ("subnet_ids", "availability_zones", "route_table_ids",
                  "existing_s3_endpoint", "existing_dynamodb_endpoint")
    if not settings.imports_vpc:
        for name in enterprise:
            if getattr(settings, name):
                raise SettingsError(f"{CONTEXT_PREFIX}{name} needs {CONTEXT_PREFIX}vpc_id")
        return
    if not settings.subnet_ids:
        raise SettingsError(f"{CONTEXT_PREFIX}subnet_ids is required with "
                            f"{CONTEXT_PREFIX}vpc_id")
    if len(settings.availability_zones) != len(settings.subnet_ids):
        raise SettingsError(f"{CONTEXT_PREFIX}availability_zones must name one zone per "
                            f"subnet in {CONTEXT_PREFIX}subnet_ids")
    subnets = len(settings.subnet_ids)
    if settings.creates_gateway_endpoints and len(settings.route_table_ids) != subnets:
        raise SettingsError(f"{CONTEXT_PREFIX}route_table_ids must name one route table per "
                            "subnet when cutout creates a gateway endpoint (set "
                            "existing_s3_endpoint and existing_dynamodb_endpoint if the "
                            "route tables already have them)")
    if settings.interface_endpoint_private_dns and settings.creates_interface_endpoints:
        raise SettingsError(
            f"{CONTEXT_PREFIX}interface_endpoint_private_dns must be false with "
            f"{CONTEXT_PREFIX}vpc_id when cutout creates interface endpoints "
            f"(interface_endpoints, or a PRIVATE API without api_vpc_endpoint_id): private "
            "DNS on a new endpoint answers for that service across the whole VPC, so other "
            "workloads' calls would go to an endpoint that admits only cutout (for "
            "execute-api: every API called from the VPC, public ones included)")
