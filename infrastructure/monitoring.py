"""Monitoring: alarms a customer's on-call can act on, and one small dashboard.

API: 5xx rate and p99 latency. Each function: errors and throttles. The training opt-in: any
accepted "on" (it starts keeping an account's images; only admin keys may). Alarms notify the SNS
topic named by `alarm_topic_arn` when set (an existing topic: cutout creates no
notification channel the customer did not choose).
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from cutout.api.routers.account import OPT_IN_ENABLED_METRIC
from cutout.api.telemetry import NAMESPACE
from infrastructure.settings import DeploymentSettings

PERIOD = Duration.minutes(5)


class Monitoring(Construct):
    """Exposes `alarms` and `dashboard`."""

    def __init__(self, scope: Construct, id: str, *, settings: DeploymentSettings,
                 api: apigw.RestApi, functions: Mapping[str, lambda_.IFunction]) -> None:
        super().__init__(scope, id)
        self.alarms: list[cloudwatch.Alarm] = []
        stage = api.deployment_stage

        requests = stage.metric_count(period=PERIOD, statistic="Sum")
        server_errors = stage.metric_server_error(period=PERIOD, statistic="Sum")
        error_rate = cloudwatch.MathExpression(
            expression="IF(requests > 0, 100 * errors / requests, 0)",
            using_metrics={"errors": server_errors, "requests": requests},
            label="5xx rate (%)", period=PERIOD)
        latency = stage.metric_latency(period=PERIOD, statistic="p99")
        self._alarm("Api5xxRate", error_rate, settings.alarm_5xx_rate_percent,
                    f"More than {settings.alarm_5xx_rate_percent}% of API requests failed (5xx)")
        self._alarm("ApiP99Latency", latency, settings.alarm_p99_latency_ms,
                    f"p99 API latency above {settings.alarm_p99_latency_ms} ms")
        # Powertools' EMF metric of the account function (dimension service=account).
        opt_ins = cloudwatch.Metric(namespace=NAMESPACE, metric_name=OPT_IN_ENABLED_METRIC,
                                    dimensions_map={"service": "account"}, period=PERIOD,
                                    statistic="Sum")
        self._alarm("TrainingOptInTurnedOn", opt_ins, 0,
                    "an account turned AI training on (its images are now kept): check the "
                    "opt-in history (cutout opt-in get) for the key prefix that did it")

        function_widgets = []
        for name, function in functions.items():
            errors = function.metric_errors(period=PERIOD, statistic="Sum")
            throttles = function.metric_throttles(period=PERIOD, statistic="Sum")
            self._alarm(f"{name}Errors", errors, 0, f"{name} function errors")
            self._alarm(f"{name}Throttles", throttles, 0, f"{name} function throttled")
            function_widgets.append(cloudwatch.GraphWidget(
                title=f"{name}: duration p99, errors, throttles", width=8,
                left=[function.metric_duration(period=PERIOD, statistic="p99")],
                right=[errors, throttles]))

        if settings.alarm_topic_arn:
            topic = sns.Topic.from_topic_arn(self, "AlarmTopic", settings.alarm_topic_arn)
            for alarm in self.alarms:
                alarm.add_alarm_action(actions.SnsAction(topic))

        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", widgets=[
            [cloudwatch.GraphWidget(title="API requests and 5xx rate", width=12,
                                    left=[requests], right=[error_rate]),
             cloudwatch.GraphWidget(title="API latency p99 (ms)", width=12, left=[latency])],
            function_widgets,
            [cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24)],
        ])

    def _alarm(self, id: str, metric: cloudwatch.IMetric, threshold: float,
               description: str) -> None:
        self.alarms.append(cloudwatch.Alarm(
            self, id, metric=metric, threshold=threshold, evaluation_periods=1,
            alarm_description=f"cutout: {description}",
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING))
