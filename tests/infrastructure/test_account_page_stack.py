"""What the account page adds to the stack: CORS for its signed transfers, counted usage.

Given the documented defaults, when the app is synthesized (once, in the module fixture),
then the transient bucket admits the page's signed PUT/GET from the API's own origin only,
and the inference function may only add to the usage counters of an account.
"""

from __future__ import annotations

import json

import pytest
from infra_synth import statements, synthesize

from cutout.data import schema


@pytest.fixture(scope="module")
def synth():
    return synthesize()


def _buckets(synth):
    return {name: r["Properties"] for name, r in synth.resources("AWS::S3::Bucket").items()}


def test_only_the_transient_bucket_allows_the_pages_signed_transfers(synth):
    # Given the buckets
    buckets = _buckets(synth)
    transient = next(p for n, p in buckets.items() if "Transient" in n)
    # Then the transient bucket has one CORS rule: PUT and GET from the API's origin
    (rule,) = transient["CorsConfiguration"]["CorsRules"]
    assert sorted(rule["AllowedMethods"]) == ["GET", "PUT"]
    (origin,) = rule["AllowedOrigins"]
    rendered = json.dumps(origin)
    assert "*" not in rendered and "execute-api" in rendered
    assert "Ref" in rendered  # the RestApi's id: exactly this API, no wildcard host
    assert set(rule["AllowedHeaders"]) == {
        "content-type", "x-amz-server-side-encryption",
        "x-amz-server-side-encryption-aws-kms-key-id"}
    # And no other bucket (training store, access logs) answers a browser at all
    others = [p for n, p in buckets.items() if "Transient" not in n]
    assert others and all("CorsConfiguration" not in p for p in others)


def test_a_custom_domain_is_the_pages_origin():
    # Given a deployment behind a custom domain
    synth = synthesize(domain_name="api.example.com", certificate_arn=(
        "arn:aws:acm:us-east-1:111122223333:certificate/abcd-1234"))
    transient = next(p for n, p in _buckets(synth).items() if "Transient" in n)
    # Then the CORS origin is that domain over HTTPS
    (rule,) = transient["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedOrigins"] == ["https://api.example.com"]


def test_a_private_api_admits_its_endpoint_specific_name_too():
    # Given an enterprise deployment with a PRIVATE API (clients may lack private DNS)
    synth = synthesize(
        vpc_id="vpc-0123456789abcdef0", vpc_cidr="10.20.0.0/16",
        subnet_ids="subnet-0aaaaaaaaaaaaaaaa,subnet-0bbbbbbbbbbbbbbbb",
        availability_zones="eu-west-1a,eu-west-1b", api_endpoint_type="PRIVATE",
        api_vpc_endpoint_id="vpce-0123456789abcdef0", create_vpc_endpoints=False,
        manage_api_logging_role=False)
    transient = next(p for n, p in _buckets(synth).items() if "Transient" in n)
    # Then the page's origins are the API's execute-api name and its endpoint-specific name
    (rule,) = transient["CorsConfiguration"]["CorsRules"]
    rendered = json.dumps(rule["AllowedOrigins"])
    assert len(rule["AllowedOrigins"]) == 2
    assert "-vpce-0123456789abcdef0.execute-api." in rendered
    assert "*" not in rendered


def test_inference_may_only_add_to_an_accounts_usage_counters(synth):
    # Given the inference role's statements
    updates = [s for s in statements(synth, "InferenceBase")
               if "dynamodb:UpdateItem" in json.dumps(s["Action"])]
    # Then its one UpdateItem grant is limited to the counters of account partitions
    (grant,) = updates
    conditions = grant["Condition"]
    assert set(conditions["ForAllValues:StringEquals"]["dynamodb:Attributes"]) == {
        schema.PARTITION_KEY, schema.SORT_KEY, *schema.USAGE_COUNTERS}
    assert conditions["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == ["ACCOUNT#*"]
    assert conditions["StringEqualsIfExists"]["dynamodb:ReturnValues"] == "NONE"
