"""Deployment settings: documented defaults, and a bad value names its key at synth time."""

from __future__ import annotations

import json
from dataclasses import fields

import aws_cdk as cdk
import pytest
from infra_synth import REPO_ROOT

from cutout.engine.models import default_model_name
from cutout.settings import Settings as RuntimeSettings
from infrastructure.function_defaults import RESOURCE_FIELDS
from infrastructure.model_sizing import max_pixels_for
from infrastructure.network import INTERFACE_SERVICES
from infrastructure.settings import KNOWN_INTERFACE_ENDPOINTS, DeploymentSettings, SettingsError
from infrastructure.settings_table import default_context, settings_table


def _from(**context) -> DeploymentSettings:
    return DeploymentSettings.from_context({f"cutout:{k}": v for k, v in context.items()}.get)


def test_cdk_json_documents_every_setting_with_its_default():
    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    documented = {k: v for k, v in context.items() if k.startswith("cutout:")}
    assert documented == default_context()


def test_the_deploy_guide_carries_the_generated_settings_table():
    # Given the deploy guide as committed
    guide = (REPO_ROOT / "docs" / "deploy.md").read_text()
    # Then it carries the table the settings object generates, word for word
    assert settings_table() in guide, (
        "regenerate with: python -m infrastructure.settings_table --write")


def test_deployment_defaults_match_the_runtime_defaults():
    deployment = DeploymentSettings()
    for field in fields(RuntimeSettings):
        if field.name in RESOURCE_FIELDS:
            continue
        # an empty runtime model_name means the manifest's default, which synth resolves
        expected = default_model_name() if field.name == "model_name" else field.default
        assert getattr(deployment, field.name) == expected, field.name


def test_every_known_interface_endpoint_maps_to_a_service():
    assert set(KNOWN_INTERFACE_ENDPOINTS) == set(INTERFACE_SERVICES)


def test_command_line_strings_are_read_as_their_types():
    settings = _from(inference_memory_mb="4096", waf_enabled="true",
                     subnet_ids="subnet-0aaaaaaaaaaaaaaaa, subnet-0bbbbbbbbbbbbbbbb",
                     vpc_id="vpc-0123456789abcdef0", availability_zones="eu-west-1a,eu-west-1b",
                     create_vpc_endpoints="false")
    assert settings.inference_memory_mb == 4096
    assert settings.waf_enabled is True
    assert settings.subnet_ids == ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
    assert settings.imports_vpc


@pytest.mark.parametrize("context,named", [
    ({"inference_memory_mb": "99999"}, "cutout:inference_memory_mb"),
    ({"inference_memory_mb": "lots"}, "cutout:inference_memory_mb"),
    ({"architecture": "sparc"}, "cutout:architecture"),
    ({"api_endpoint_type": "EDGE"}, "cutout:api_endpoint_type"),
    ({"waf_enabled": "maybe"}, "cutout:waf_enabled"),
    ({"log_retention_days": 31}, "cutout:log_retention_days"),
    ({"authorizer_cache_ttl_seconds": 7200}, "cutout:authorizer_cache_ttl_seconds"),
    ({"throttle_rate_limit": 50, "throttle_burst_limit": 10}, "cutout:throttle_burst_limit"),
    ({"interface_endpoints": "kms,ec2"}, "cutout:interface_endpoints"),
    ({"domain_name": "api.example.com"}, "cutout:domain_name"),
    ({"vpc_id": "vpc-0123456789abcdef0"}, "cutout:subnet_ids"),
    ({"subnet_ids": "subnet-0aaaaaaaaaaaaaaaa"}, "cutout:subnet_ids"),
    ({"vpc_id": "vpc-0123456789abcdef0", "subnet_ids": "subnet-0aaaaaaaaaaaaaaaa",
      "availability_zones": "eu-west-1a"}, "cutout:route_table_ids"),
    ({"vpc_id": "my-vpc"}, "cutout:vpc_id"),
    ({"stage_name": "prod/v1"}, "cutout:stage_name"),
    ({"upload_url_ttl_seconds": 0}, "cutout:upload_url_ttl_seconds"),
    ({"api_vpc_endpoint_id": "vpce-0123456789abcdef0"}, "cutout:api_vpc_endpoint_id"),
    ({"tls_policy": "TLS_1_0"}, "cutout:tls_policy"),
    ({"hosted_zone_id": "Z0123456789ABCDEFGHIJ"}, "cutout:hosted_zone_id and"),
    ({"hosted_zone_id": "zone-1", "hosted_zone_name": "example.com"}, "cutout:hosted_zone_id"),
    ({"hosted_zone_id": "Z0123456789ABCDEFGHIJ", "hosted_zone_name": "example.com"},
     "cutout:hosted_zone_id needs cutout:domain_name"),
    ({"hosted_zone_id": "Z0123456789ABCDEFGHIJ", "hosted_zone_name": "example.org",
      "domain_name": "api.example.com",
      "certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/abcd"},
     "cutout:domain_name 'api.example.com' is not in cutout:hosted_zone_name"),
    ({"inference_timeout_seconds": 30}, "cutout:inference_timeout_seconds must be at most 29"),
    ({"inference_memory_mb": 512}, "cutout:max_pixels 36000000 does not fit"),
    # memory set by hand (a derived one grows with max_pixels, infrastructure/model_sizing.py)
    ({"max_pixels": 200_000_000, "inference_memory_mb": 3008}, "cutout:max_pixels"),
    ({"stage_throttle_rate_limit": 50, "stage_throttle_burst_limit": 10},
     "cutout:stage_throttle_burst_limit"),
    ({"throttle_rate_limit": 150, "throttle_burst_limit": 150}, "cutout:throttle_rate_limit"),
    ({"authorizer_reserved_concurrency": -1}, "cutout:authorizer_reserved_concurrency"),
    ({"tls_policy": "SecurityPolicy_TLS13_2025_EDGE"}, "cutout:tls_policy"),
])
def test_a_bad_value_fails_with_a_message_naming_the_setting(context, named):
    with pytest.raises(SettingsError, match=named):
        _from(**context)


@pytest.mark.parametrize("legacy", ["https://app.example.com", ["https://app.example.com"], "*"])
def test_the_withdrawn_cors_setting_fails_synthesis_naming_its_key(legacy):
    # Given a cdk.json or -c option that still asks for browser CORS (never worked end to end)
    # When the settings are read, then synthesis stops and says why, naming the key
    with pytest.raises(SettingsError, match="cutout:cors_allowed_origins was removed"):
        _from(cors_allowed_origins=legacy)


def test_the_withdrawn_cors_setting_left_at_its_old_empty_default_is_harmless():
    assert _from(cors_allowed_origins=[]) == DeploymentSettings()


IMPORTED = {"vpc_id": "vpc-0123456789abcdef0", "subnet_ids": "subnet-0aaaaaaaaaaaaaaaa",
            "availability_zones": "eu-west-1a", "route_table_ids": "rtb-0aaaaaaaaaaaaaaaa"}


@pytest.mark.parametrize("context", [
    {**IMPORTED, "interface_endpoints": "kms"},
    {**IMPORTED, "api_endpoint_type": "PRIVATE"},
])
def test_an_imported_vpc_never_gets_private_dns_from_a_new_endpoint(context):
    # Given an imported VPC and an interface endpoint cutout would create, with private DNS
    # left on: it would answer for that service (or every execute-api name) across the VPC
    with pytest.raises(SettingsError, match="cutout:interface_endpoint_private_dns must be "
                                            "false with cutout:vpc_id"):
        _from(**context)
    # Then with private DNS off the same deployment is accepted
    assert _from(**context, interface_endpoint_private_dns="false").creates_interface_endpoints


def test_an_imported_vpc_with_its_own_endpoints_needs_no_route_tables_or_private_dns_choice():
    settings = _from(vpc_id="vpc-0123456789abcdef0", subnet_ids="subnet-0aaaaaaaaaaaaaaaa",
                     availability_zones="eu-west-1a", existing_s3_endpoint="vpce-0aaaaaaaaaaaaaaa1",
                     existing_dynamodb_endpoint="vpce-0aaaaaaaaaaaaaaa2",
                     api_endpoint_type="PRIVATE", api_vpc_endpoint_id="vpce-0aaaaaaaaaaaaaaa3")
    assert not settings.creates_gateway_endpoints
    assert not settings.creates_interface_endpoints


@pytest.mark.parametrize("context,named", [
    ({"existing_s3_endpoint": "vpce-0aaaaaaaaaaaaaaa1"}, "cutout:existing_s3_endpoint needs"),
    ({**IMPORTED, "existing_dynamodb_endpoint": "dynamodb"}, "cutout:existing_dynamodb_endpoint"),
    ({**IMPORTED, "route_table_ids": "", "existing_s3_endpoint": "vpce-0aaaaaaaaaaaaaaa1"},
     "cutout:route_table_ids"),
])
def test_existing_gateway_endpoints_are_checked(context, named):
    with pytest.raises(SettingsError, match=named):
        _from(**context)


def test_the_pixel_limit_follows_the_inference_memory():
    # Given the engine's measured peak (12 MP -> 319 MB RSS) as the budget's basis

    # Then the budget covers the measurement, and a smaller function takes a smaller limit
    assert max_pixels_for(319) < 12_000_000 <= max_pixels_for(400)
    assert _from(inference_memory_mb=1024, max_pixels=max_pixels_for(1024)).max_pixels > 0
    assert _from(inference_memory_mb=512, max_pixels=20_000_000).max_pixels == 20_000_000


def test_a_domain_cannot_front_a_private_api():
    certificate = "arn:aws:acm:eu-west-1:123456789012:certificate/abcd"
    with pytest.raises(SettingsError, match="cutout:domain_name"):
        _from(domain_name="api.example.com", certificate_arn=certificate,
              api_endpoint_type="PRIVATE")


def test_synthesis_stops_on_a_bad_setting_before_building_anything():
    from app import build_app

    app = cdk.App(context={"cutout:inference_timeout_seconds": "forever"})
    with pytest.raises(SettingsError, match="cutout:inference_timeout_seconds"):
        build_app(app)
    assert app.node.children == []
