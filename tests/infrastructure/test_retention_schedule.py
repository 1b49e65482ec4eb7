"""The sweeper's 24-hour arithmetic rests on what the stack deploys: the schedule's rate is
the interval the function reads, and its timeout is within the run time the rule allows."""

from __future__ import annotations

import pytest
from infra_synth import synthesize

from cutout.service.retention import RUN_TIME
from cutout.settings import env_name

INTERVAL = 15  # not the default, so a hard-coded hour on either side would show


@pytest.fixture(scope="module")
def synth():
    return synthesize(sweep_interval_minutes=INTERVAL)


def _sweeper(synth) -> dict:
    found = [v["Properties"] for k, v in synth.resources("AWS::Lambda::Function").items()
             if "Sweeper" in k]
    assert len(found) == 1
    return found[0]


def test_the_sweeper_reads_the_interval_its_schedule_runs_at(synth):
    # Given a deployment sweeping every 15 minutes
    # Then EventBridge runs the sweeper at that rate, and the sweeper is told that rate
    assert synth.one("AWS::Events::Rule")["ScheduleExpression"] == f"rate({INTERVAL} minutes)"
    variables = _sweeper(synth)["Environment"]["Variables"]
    assert variables[env_name("sweep_interval_minutes")] == str(INTERVAL)


def test_the_sweepers_timeout_is_within_the_run_time_the_rule_allows_for(synth):
    # The rule deletes ahead by one interval + lateness + RUN_TIME: a longer run could land
    # its deletions after the 24-hour mark
    assert _sweeper(synth)["Timeout"] <= RUN_TIME.total_seconds()
