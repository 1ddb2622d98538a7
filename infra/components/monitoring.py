"""Alarms to one SNS topic, and the dashboard an operator opens first.

Every alarm is named `payportal-{stage}-{Name}`; docs/operations.md has one runbook per name (a test keeps
the two in step). Business metrics are the functions' Powertools EMF metrics, in the stage's namespace
with the dimension `service=payportal`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from aws_cdk import (
    Duration,
    Stack,
    aws_cloudwatch,
    aws_cloudwatch_actions,
    aws_iam,
    aws_kms,
    aws_lambda,
    aws_sns,
    aws_sns_subscriptions,
    aws_sqs,
)
from constructs import Construct

from infra.components.lambdas import TIMEOUT_SECONDS, metrics_namespace_for
from infra.components.queues import dead_letter_queue
from infra.config import StageConfig

TOPIC_ID: Final = "AlarmTopic"
ALARM_EMAIL_DLQ_ID: Final = "AlarmEmailDlq"
DASHBOARD_ID: Final = "Dashboard"
METRIC_DIMENSIONS: Final = {"service": "payportal"}
FIVE_MINUTES: Final = Duration.minutes(5)
AT_LEAST: Final = aws_cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD

API_5XX_PERCENT: Final = 5  # of requests in 5 minutes, 2 of 3 periods
SIGNATURE_FAILURES_PER_5_MIN: Final = 10  # a misconfigured secret or someone probing the endpoint
CONSOLE_SIGN_IN_FAILURES_PER_5_MIN: Final = 20  # a team mistyping is a handful; guessing is more
WEBHOOK_ERRORS_PER_5_MIN: Final = 3  # Stripe retries a few transient ones; more is an outage
CHARGE_REFUSED_PERCENT: Final = 25  # of off-session charges in a day, when at least MIN_CHARGES were made
MIN_CHARGES: Final = 5
OVERRUN_FRACTION: Final = 0.9  # of the function's timeout
RECONCILE_CURSOR_LAG: Final = Duration.days(25)  # Stripe's event list reaches back 30: five days to act
RECONCILE_DRIFT_AGE: Final = Duration.hours(24)  # drift reconciliation could not settle by itself
SCHEDULE_SILENCE: Final = Duration.hours(3)  # an hourly schedule that has not run for this long stopped
# Jobs that do not run hourly, and how long without a run means their schedule stopped.
# daily: a day and a daylight-saving hour, and a margin
SILENCE_BY_JOB: Final = {"digest": Duration.hours(26), "retention": Duration.hours(26)}


@dataclass(frozen=True, slots=True)
class Watched:
    """What the alarms and the dashboard look at."""

    api_name: str
    stage_name: str
    functions: Mapping[str, aws_lambda.IFunction]
    dead_letter_queues: Mapping[str, aws_sqs.IQueue]  # alarm name stem -> queue
    scheduled: tuple[str, ...]  # functions fired by EventBridge Scheduler


class Monitoring(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, key: aws_kms.Key, watched: Watched
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._watched = watched
        self._namespace = metrics_namespace_for(config.stage)
        self.topic = self._build_topic(key)
        self.alarms: dict[str, aws_cloudwatch.Alarm] = {}
        self._build_alarms()
        self.dashboard = self._build_dashboard()

    # -- the topic -------------------------------------------------------------------------------------

    def _build_topic(self, key: aws_kms.Key) -> aws_sns.Topic:
        topic = aws_sns.Topic(
            self,
            TOPIC_ID,
            topic_name=f"payportal-{self._config.stage}-alarms",
            display_name=f"payportal {self._config.stage} alarms",
            master_key=key,
            enforce_ssl=True,
        )
        # CloudWatch publishes to the encrypted topic: it needs the key, for this account's alarms only.
        stack = Stack.of(self)
        key.add_to_resource_policy(
            aws_iam.PolicyStatement(
                sid="CloudWatchAlarmsPublishToTheAlarmTopic",
                principals=[aws_iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )
        self.alarm_email_dlq: aws_sqs.Queue | None = None
        if self._config.alarm_email:
            # An alarm SNS could not deliver (the mail server refusing for days) is kept, not dropped: it still
            # shows on the console, and this queue's own alarm names it.
            self.alarm_email_dlq = dead_letter_queue(
                self, ALARM_EMAIL_DLQ_ID, key=key, config=self._config, used_by="the alarm topic's email subscription"
            )
            topic.add_subscription(
                aws_sns_subscriptions.EmailSubscription(
                    self._config.alarm_email, dead_letter_queue=self.alarm_email_dlq
                )
            )
        return topic

    # -- alarms ----------------------------------------------------------------------------------------

    def _metric(self, name: str, statistic: str = "Sum", period: Duration | None = None) -> aws_cloudwatch.Metric:
        return aws_cloudwatch.Metric(
            namespace=self._namespace,
            metric_name=name,
            dimensions_map=METRIC_DIMENSIONS,
            statistic=statistic,
            period=period or FIVE_MINUTES,
        )

    def _api_metric(self, name: str) -> aws_cloudwatch.Metric:
        return aws_cloudwatch.Metric(
            namespace="AWS/ApiGateway",
            metric_name=name,
            dimensions_map={"ApiName": self._watched.api_name, "Stage": self._watched.stage_name},
            statistic="Sum",
            period=Duration.minutes(5),
        )

    def _alarm(
        self,
        name: str,
        metric: aws_cloudwatch.IMetric,
        *,
        threshold: float,
        description: str,
        evaluation_periods: int = 1,
        datapoints_to_alarm: int | None = None,
        comparison: aws_cloudwatch.ComparisonOperator = AT_LEAST,
        missing: aws_cloudwatch.TreatMissingData = aws_cloudwatch.TreatMissingData.NOT_BREACHING,
    ) -> aws_cloudwatch.Alarm:
        alarm = aws_cloudwatch.Alarm(
            self,
            name,
            alarm_name=f"payportal-{self._config.stage}-{name}",
            alarm_description=f"{description} Runbook: docs/operations.md#{name.lower()}",
            metric=metric,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            comparison_operator=comparison,
            treat_missing_data=missing,
        )
        action = aws_cloudwatch_actions.SnsAction(self.topic)
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
        self.alarms[name] = alarm
        return alarm

    def _build_alarms(self) -> None:
        functions = self._watched.functions
        self._alarm(
            "Api5xxRate",
            aws_cloudwatch.MathExpression(
                expression="IF(requests > 0, 100 * errors / requests, 0)",
                using_metrics={"errors": self._api_metric("5XXError"), "requests": self._api_metric("Count")},
                period=Duration.minutes(5),
                label="5xx, % of requests",
            ),
            threshold=API_5XX_PERCENT,
            evaluation_periods=3,
            datapoints_to_alarm=2,
            description=f"At least {API_5XX_PERCENT}% of API requests failed with a 5xx in 2 of the last 3 "
            "5-minute periods: payers cannot pay or Stripe's webhooks are being refused.",
        )
        self._alarm(
            "WebhookSignatureFailures",
            self._metric("WebhookSignatureFailures"),
            threshold=SIGNATURE_FAILURES_PER_5_MIN,
            description="Many webhook requests failed signature verification: the stored signing secret does "
            "not match Stripe's endpoint (a rotation half done?), or someone is probing the endpoint.",
        )
        self._alarm(
            "WebhookErrors",
            aws_cloudwatch.MathExpression(
                expression="FILL(unrecorded, 0) + FILL(crashes, 0)",
                using_metrics={
                    "unrecorded": self._metric("WebhookProcessingErrors"),
                    "crashes": functions["webhooks"].metric_errors(period=Duration.minutes(5)),
                },
                period=Duration.minutes(5),
                label="webhook events not recorded",
            ),
            threshold=WEBHOOK_ERRORS_PER_5_MIN,
            description="Stripe events could not be recorded (answered 5xx or the function failed); Stripe "
            "retries them for 3 days, but payments are not being applied meanwhile.",
        )
        watched = dict(self._watched.dead_letter_queues)
        if self.alarm_email_dlq is not None:
            watched["AlarmEmail"] = self.alarm_email_dlq
        for stem, queue in watched.items():
            self._alarm(
                f"{stem}DeadLetters",
                queue.metric_approximate_number_of_messages_visible(statistic="Maximum", period=Duration.minutes(5)),
                threshold=1,
                description=f"The {stem} dead-letter queue is not empty: work failed every retry and waits "
                "for an operator.",
            )
        for name in self._watched.scheduled:
            self._scheduled_job_alarms(name, functions[name])
        if "reconcile" in self._watched.scheduled:
            self._reconcile_alarms()
        self._alarm(
            "ChargeRefusalRate",
            aws_cloudwatch.MathExpression(
                expression=f"IF(created + refused >= {MIN_CHARGES}, 100 * refused / (created + refused), 0)",
                using_metrics={
                    "created": self._metric("InstallmentChargesCreated", period=Duration.days(1)),
                    "refused": self._metric("InstallmentChargesRefused", period=Duration.days(1)),
                },
                period=Duration.days(1),
                label="off-session charges refused, %",
            ),
            threshold=CHARGE_REFUSED_PERCENT,
            description=f"At least {CHARGE_REFUSED_PERCENT}% of a day's installment and autopay charges were "
            "refused by Stripe: a card network problem, a Stripe account issue, or a wave of expired cards.",
        )
        self._alarm(
            "ConsoleSignInFailures",
            self._metric("ConsoleSignInsRefused"),
            threshold=CONSOLE_SIGN_IN_FAILURES_PER_5_MIN,
            description="Many console sign-ins were refused (wrong password or TOTP code, unknown user): "
            "someone may be guessing staff passwords. Cognito's threat protection blocks risky ones itself.",
        )
        self._alarm(
            "BadItemsSkipped",
            self._metric("BadItemsSkipped"),
            threshold=1,
            description="A scheduled run (reminders, charges) skipped an item it could not read or work on: "
            "an invoice, plan, recurring charge or the dunning policy. The rest were sent; that one waits.",
        )
        self._alarm(
            "OutboxDeliveriesUnrecorded",
            self._metric("OutboxDeliveriesUnrecorded"),
            threshold=1,
            description="An email or event went out but recording its delivery failed every try: it stays "
            "leased (claimed) in the table and is not sent again by the stream; a redrive would send it twice.",
        )
        self._alarm(
            "WebhookEventsUnreadable",
            self._metric("WebhookEventsUnreadable"),
            threshold=1,
            description="A correctly signed webhook body was no Stripe event payportal can read. It was answered "
            "200 so Stripe does not retry it for days, and nothing was applied.",
        )
        self._alarm(
            "EventsFlaggedForReview",
            self._metric("EventsFlaggedForReview"),
            threshold=1,
            description="A Stripe event did not match what payportal expected (amount, currency, invoice) and "
            "was kept for review without moving any balance.",
        )
        self._alarm(
            "WebhookEndpointsDisabled",
            self._metric("WebhookEndpointsDisabled"),
            threshold=1,
            description="An outbound webhook endpoint was disabled: five deliveries in a row failed for good "
            "(each retried for three days). GET /v1/webhook-endpoints lists it; fix the receiver, PATCH it "
            "enabled, then replay its failed deliveries (docs/integrations.md).",
        )
        self._alarm(
            "RefundsFailed",
            self._metric("RefundsFailed"),
            threshold=1,
            description="A refund failed or was canceled at Stripe: the customer did not get the money back. "
            "The refund.failed event names the payment and the refund; refund another way or contact them.",
        )

    def _reconcile_alarms(self) -> None:
        hour = Duration.hours(1)
        self._alarm(
            "ReconcileCursorBehind",
            self._metric("ReconcileCursorLagSeconds", statistic="Maximum", period=hour),
            threshold=RECONCILE_CURSOR_LAG.to_seconds(),
            description=f"Reconciliation's cursor is more than {RECONCILE_CURSOR_LAG.to_days()} days behind: "
            "Stripe's event list reaches back 30, so events the webhook missed are about to be out of reach.",
        )
        self._alarm(
            "ReconcileDriftUnresolved",
            self._metric("ReconcileOldestDriftSeconds", statistic="Maximum", period=hour),
            threshold=RECONCILE_DRIFT_AGE.to_seconds(),
            description=f"A Stripe event reconciliation found has not applied for {RECONCILE_DRIFT_AGE.to_hours()} "
            "hours (it is retried every run and holds the cursor meanwhile).",
        )

    def _scheduled_job_alarms(self, name: str, function: aws_lambda.IFunction) -> None:
        stem = "".join(part.capitalize() for part in name.split("_"))
        self._alarm(
            f"{stem}JobErrors",
            function.metric_errors(period=Duration.minutes(5)),
            threshold=1,
            description=f"The {name} job failed (EventBridge Scheduler retries it, then dead-letters it).",
        )
        timeout_ms = TIMEOUT_SECONDS[name] * 1000
        self._alarm(
            f"{stem}JobOverrun",
            function.metric_duration(statistic="Maximum", period=Duration.minutes(5)),
            threshold=timeout_ms * OVERRUN_FRACTION,
            description=f"A {name} run took over {int(OVERRUN_FRACTION * 100)}% of its timeout: it stops "
            "starting pages before the end and continues, but the backlog is growing.",
        )
        silence = SILENCE_BY_JOB.get(name, SCHEDULE_SILENCE)
        self._alarm(
            f"{stem}JobSilent",
            function.metric_invocations(period=silence),
            threshold=1,
            comparison=aws_cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            missing=aws_cloudwatch.TreatMissingData.BREACHING,
            description=f"The {name} job has not run for {silence.to_hours()} hours: its schedule "
            "is disabled or failing to invoke it.",
        )

    # -- the dashboard -----------------------------------------------------------------------------------

    def _search(
        self, metric_name: str, dimension: str, statistic: str, period: Duration
    ) -> aws_cloudwatch.MathExpression:
        query = f'{{{self._namespace},{dimension},service}} MetricName="{metric_name}"'
        return aws_cloudwatch.MathExpression(
            expression=f"SEARCH('{query}', '{statistic}', {int(period.to_seconds())})",
            using_metrics={},
            period=period,
        )

    def _build_dashboard(self) -> aws_cloudwatch.Dashboard:
        hour = Duration.hours(1)
        functions = self._watched.functions
        dashboard = aws_cloudwatch.Dashboard(
            self, DASHBOARD_ID, dashboard_name=f"payportal-{self._config.stage}", default_interval=Duration.days(2)
        )
        dashboard.add_widgets(
            aws_cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms.values()), width=24, height=3)
        )
        dashboard.add_widgets(
            aws_cloudwatch.GraphWidget(
                title="Payments per hour",
                left=[
                    self._metric("PaymentsSucceeded", period=hour).with_(label="succeeded"),
                    self._metric("PaymentsFailed", period=hour).with_(label="failed"),
                ],
                width=8,
            ),
            aws_cloudwatch.GraphWidget(
                title="Amount collected per hour (minor units, by currency)",
                left=[self._search("AmountCollected", "currency", "Sum", hour)],
                width=8,
            ),
            aws_cloudwatch.GraphWidget(
                title="Payment failures by reason, per hour",
                left=[self._search("PaymentFailuresByReason", "reason", "Sum", hour)],
                stacked=True,
                width=8,
            ),
        )
        dashboard.add_widgets(
            aws_cloudwatch.GraphWidget(
                title="Webhook lag (seconds from Stripe's event to recorded)",
                left=[
                    self._metric("WebhookLagSeconds", "p50").with_(label="p50"),
                    self._metric("WebhookLagSeconds", "p99").with_(label="p99"),
                    self._metric("WebhookLagSeconds", "Maximum").with_(label="max"),
                ],
                width=8,
            ),
            aws_cloudwatch.GraphWidget(
                title="Reminders per hour",
                left=[
                    self._metric("RemindersSent", period=hour).with_(label="sent"),
                    self._metric("RemindersWithheld", period=hour).with_(label="withheld (holds, disputes, bounces)"),
                ],
                width=8,
            ),
            aws_cloudwatch.GraphWidget(
                title="Open balance (minor units, by currency)",
                left=[self._search("OpenBalance", "currency", "Maximum", hour)],
                width=8,
            ),
        )
        dashboard.add_widgets(
            aws_cloudwatch.GraphWidget(
                title="Installment and autopay charges per hour",
                left=[
                    self._metric("InstallmentChargesCreated", period=hour).with_(label="created"),
                    self._metric("InstallmentChargesRefused", period=hour).with_(label="refused at once"),
                ],
                width=8,
            ),
        )
        dashboard.add_widgets(
            aws_cloudwatch.GraphWidget(
                title="API requests and errors",
                left=[self._api_metric("Count").with_(label="requests")],
                right=[
                    self._api_metric("4XXError").with_(label="4xx"),
                    self._api_metric("5XXError").with_(label="5xx"),
                ],
                width=8,
            ),
            aws_cloudwatch.GraphWidget(
                title="Function errors",
                left=[function.metric_errors().with_(label=name) for name, function in functions.items()],
                width=8,
            ),
            aws_cloudwatch.GraphWidget(
                title="Outbox: delivered and dead letters",
                left=[self._metric("OutboxDelivered").with_(label="delivered")],
                right=[
                    queue.metric_approximate_number_of_messages_visible(statistic="Maximum").with_(label=stem)
                    for stem, queue in self._watched.dead_letter_queues.items()
                ],
                width=8,
            ),
        )
        return dashboard
