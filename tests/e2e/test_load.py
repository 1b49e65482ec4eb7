"""Over 500 mixed requests at concurrency 8 through `cutout serve`: every route, good and bad
inputs, signed uploads. The promises that must hold under load as they do one at a time:
no 5xx, every refusal in the JSON error shape, memory flat once warm, and nothing left in
the transient bucket once the sweeper has run.

Speed is not asserted here (benchmarks/bench_routes.py prints it).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psutil
import pytest
from load_mix import MIX, REMOVEBG, Answer, Traffic, plan, run

from cutout.data.transient import TransientStore
from cutout.service.retention import Sweeper

CONCURRENCY = 8
SEED = 20261202
TRANSIENT_BUCKET = "cutout-local-transient"
KMS_KEY = "alias/cutout-local"
RSS_GROWTH_LIMIT = 0.10


def rss_bytes(pid: int) -> int:
    """Resident memory of the serve process and anything it started."""
    process = psutil.Process(pid)
    return process.memory_info().rss + sum(
        child.memory_info().rss for child in process.children(recursive=True))


def is_json_error(answer: Answer) -> bool:
    """`{"error": {"code", ...}}`, or remove.bg's `{"errors": [{"code", ...}]}` on its route."""
    if not answer.content_type.startswith("application/json"):
        return False
    try:
        body = answer.json()
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    if answer.route == REMOVEBG and isinstance(body.get("errors"), list) and body["errors"]:
        return all(isinstance(item, dict) and isinstance(item.get("code"), str)
                   for item in body["errors"])
    error = body.get("error")
    return isinstance(error, dict) and isinstance(error.get("code"), str)


def describe(answers: list[Answer]) -> str:
    return "\n".join(f"{a.kind} {a.route} -> {a.status} {a.content_type} {a.body[:200]!r}"
                     for a in answers[:20])


@pytest.fixture(scope="module")
def load(local_api):
    """The mix, sent once for the module: a warm-up (every task at least once, then a quarter
    of the mix), then the rest; the serve process's RSS after each part."""
    traffic = Traffic(local_api.base_url, local_api.api_key)
    order = plan(MIX, SEED)
    quarter = len(order) // 4
    warm_up = [*traffic.tasks, *order[:quarter]]
    answers = run(traffic, warm_up, CONCURRENCY)
    rss_warm = rss_bytes(local_api.process.pid)
    answers += run(traffic, order[quarter:], CONCURRENCY)
    rss_end = rss_bytes(local_api.process.pid)
    # Leave the account as it started (the mix flips the switch both ways)
    assert traffic.opt_out().status == 200
    return {"answers": answers, "rss_warm": rss_warm, "rss_end": rss_end, "order": order}


@pytest.mark.slow
def test_over_500_mixed_requests_at_concurrency_8_get_no_server_error(load):
    # Given the whole mix sent eight at a time (every route, good and bad inputs)
    answers = load["answers"]
    # Then it was over 500 requests, touching every task and every kind of answer
    assert len(answers) >= 500
    assert {a.kind for a in answers} >= set(MIX)
    # And not one was answered 5xx
    server_errors = [a for a in answers if a.status >= 500]
    assert not server_errors, describe(server_errors)
    # And the good requests succeeded (the engine's answers included)
    for kind in ("removal_raw", "removal_multipart", "removal_json", "removebg_multipart",
                 "removebg_json", "upload_removal", "upload_put", "account", "privacy",
                 "account_page"):
        failed = [a for a in answers if a.kind == kind and a.status >= 400]
        assert not failed, describe(failed)


@pytest.mark.slow
def test_every_refusal_under_load_is_a_json_error_with_a_code(load):
    # Given every 4xx the API gave during the mix (the signed links are S3's own answers)
    refusals = [a for a in load["answers"] if a.from_api and 400 <= a.status < 500]
    # Then there were many, of several statuses
    assert len(refusals) >= 150
    assert {401, 403, 404, 413, 400} <= {a.status for a in refusals}
    # And each is JSON with a stable code (remove.bg's shape on remove.bg's route)
    malformed = [a for a in refusals if not is_json_error(a)]
    assert not malformed, describe(malformed)


@pytest.mark.slow
def test_the_server_memory_is_flat_after_warm_up(load):
    # Given the serve process's RSS after the warm-up and after the rest of the mix
    warm, end = load["rss_warm"], load["rss_end"]
    # Then it grew by less than 10% over three quarters of the mix
    assert end < warm * (1 + RSS_GROWTH_LIMIT), (
        f"RSS {warm / 2**20:.0f} MiB after warm-up, {end / 2**20:.0f} MiB at the end")


@pytest.mark.slow
def test_a_sweep_leaves_nothing_of_the_load_in_the_transient_bucket(load, moto_s3):
    # Given the uploads and results the mix left behind (some links were never used)
    assert load["answers"]
    stored = moto_s3.list_objects_v2(Bucket=TRANSIENT_BUCKET).get("KeyCount", 0)
    assert stored > 0
    # When the sweeper runs against the local stack's S3 with a clock 25 hours ahead
    later = datetime.now(UTC) + timedelta(hours=25)
    report = Sweeper(TransientStore(moto_s3, TRANSIENT_BUCKET, KMS_KEY),
                     clock=lambda: later).sweep()
    # Then it deleted everything and the bucket is empty
    assert report.failed == 0 and report.finished
    assert report.deleted == stored
    assert moto_s3.list_objects_v2(Bucket=TRANSIENT_BUCKET).get("KeyCount", 0) == 0
