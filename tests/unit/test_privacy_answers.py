"""The privacy answers are built from the deployment's settings: change one, the answer moves."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cutout.service.privacy import Deployment, privacy_answers, privacy_document
from cutout.settings import Settings

BASE = Settings(accounts_table="t", transient_bucket="b1", training_bucket="b2",
                kms_key_id="arn:aws:kms:eu-west-1:111122223333:key/abcd")


def answers(settings: Settings, opt_in: bool = False, region: str = "eu-west-1") -> dict:
    deployment = Deployment.from_settings(settings, region, inline_limit_bytes=4_700_000)
    return {a.topic: a.answer for a in privacy_answers(deployment, opt_in)}


def test_every_reviewer_question_is_answered():
    # Given the documented defaults, When the answers are built
    topics = answers(BASE)
    # Then each question a security reviewer asks has an answer
    assert set(topics) == {"upload", "retention", "training", "subprocessors", "region",
                           "encryption", "network"}
    assert all(len(text) > 40 for text in topics.values())


@pytest.mark.parametrize(("change", "topic", "before", "after"), [
    ({"training_retention_days": 30}, "training", "kept for 365 days", "kept for 30 days"),
    ({"zero_retention": True}, "retention", "Zero-retention mode is off",
     "Zero-retention mode is ON"),
    ({"sweep_interval_minutes": 15}, "retention", "runs every 60 minutes",
     "runs every 15 minutes"),
    ({"result_url_ttl_seconds": 120}, "retention", "300 s (result)", "120 s (result)"),
    ({"upload_url_ttl_seconds": 90}, "upload", "valid for 300 seconds", "valid for 90 seconds"),
    ({"tls_policy": "SecurityPolicy_TLS13_1_3_2025_09"}, "encryption", "policy is TLS_1_2",
     "policy is SecurityPolicy_TLS13_1_3_2025_09"),
    ({"api_endpoint_type": "PRIVATE"}, "network", "The API is REGIONAL",
     "The API is PRIVATE"),
    ({"imports_vpc": True}, "network", "isolated private subnets", "subnets of your own VPC"),
    ({"waf_enabled": True}, "subprocessors", "AWS X-Ray (traces without request or response "
     "bodies).", "AWS WAF"),
    ({"kms_key_id": "arn:aws:kms:eu-west-1:111122223333:key/other"}, "encryption",
     "key/abcd", "key/other"),
])
def test_changing_a_setting_changes_its_answer(change, topic, before, after):
    # Given the answers of the defaults
    assert before in answers(BASE)[topic]
    # When one setting changes
    changed = answers(replace(BASE, **change))[topic]
    # Then the answer says the new value and no longer the old one
    assert after in changed
    assert before not in changed


def test_the_region_and_the_accounts_switch_are_reported():
    # Given a deployment in one region, When an opted-in account asks
    topics = answers(BASE, opt_in=True, region="ap-southeast-2")
    # Then the answers name that region and say the switch is on for this account
    assert "Only in ap-southeast-2" in topics["region"]
    assert "for this account it is ON" in topics["training"]
    assert "for this account it is OFF" in answers(BASE)["training"]


def test_the_document_carries_the_facts_behind_the_answers():
    # When the JSON document is built
    deployment = Deployment.from_settings(replace(BASE, training_retention_days=90),
                                          "eu-west-1", inline_limit_bytes=4_700_000)
    document = privacy_document(deployment, training_opt_in=False)
    # Then the facts are the settings themselves, for a page or a reviewer's script
    facts = document["facts"]
    assert facts["training_retention_days"] == 90
    assert facts["region"] == "eu-west-1"
    assert facts["kms_key"] == BASE.kms_key_id
    assert facts["private_api"] is False
    assert facts["inline_limit_bytes"] == 4_700_000
    assert [a["topic"] for a in document["answers"]][0] == "upload"


def test_with_batches_on_the_answers_name_step_functions_the_worker_and_the_buckets():
    # Given a deployment with catalogue batches enabled (both allow-lists set)
    on = replace(BASE, batch_state_machine_arn="arn:aws:states:eu-west-1:1:stateMachine:b",
                 batch_source_buckets="brand-photos", batch_destination_buckets="brand-cutouts")
    deployment = Deployment.from_settings(on, "eu-west-1", inline_limit_bytes=4_700_000)
    # When the answers are built
    topics = answers(on)
    services = " ".join(deployment.services)
    # Then they name Step Functions with what it keeps, the batch worker, the buckets and the
    # states endpoint; and no longer say that images go to the API only
    assert "AWS Step Functions" in services and "90 days" in services
    assert "batch worker" in services
    assert "brand-photos" in topics["upload"] and "brand-cutouts" in topics["upload"]
    assert "90 days" in topics["upload"]
    assert "image_url" in topics["upload"] and "ever fetched" in topics["upload"]
    assert "this API only" not in topics["upload"]
    assert "`states` interface endpoint" in topics["network"]
    assert "`sts` one" in topics["network"] and "own" in topics["network"]
    # And with batches off, none of it is said
    off = answers(BASE)
    assert "Step Functions" not in off["upload"] + off["network"] + off["subprocessors"]
    assert "image_url" not in off["upload"]
    assert "this API only" in off["upload"]
