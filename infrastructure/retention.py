"""Retention: the sweeper runs on a schedule and hard-deletes transient objects before 24 h.

S3 lifecycle rules run once a day, round to midnight UTC and can lag, so "1 day" means 24-48
hours or more; the sweeper makes the 24-hour promise true on its own schedule (each run
deletes what would pass 24 h before the next: `cutout.service.retention`), with the
lifecycle rule as the backstop.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infrastructure.settings import DeploymentSettings


class Retention(Construct):
    """Exposes `schedule` (the EventBridge rule that invokes the sweeper)."""

    def __init__(self, scope: Construct, id: str, *, settings: DeploymentSettings,
                 sweeper: lambda_.IFunction) -> None:
        super().__init__(scope, id)
        self.schedule = events.Rule(
            self, "Schedule",
            description="cutout: delete transient objects before they pass 24 hours",
            schedule=events.Schedule.rate(Duration.minutes(settings.sweep_interval_minutes)),
            targets=[targets.LambdaFunction(sweeper, retry_attempts=2)],
        )
