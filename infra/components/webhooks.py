"""Outbound webhooks: one rule sends every payportal event on the bus to the deliveries queue, which
`functions/webhook_delivery` reads (partial batch responses) and fans out onto itself, one message per
endpoint; a failed attempt hides its message for its backoff (docs/decisions.md, entries 100 and 102).

The queue is encrypted with the stack's key, TLS only, and keeps a message 14 days (an attempt schedule spans
80 hours); messages the function cannot handle at all go to its DLQ after WEBHOOK_RECEIVES receives.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import Duration, Stack, aws_events, aws_iam, aws_kms, aws_lambda, aws_sqs
from aws_cdk import aws_lambda_event_sources as sources
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from infra.components.events import event_bus_name_for
from infra.components.queues import dead_letter_queue, function_queue
from infra.config import StageConfig

ENV_WEBHOOKS_QUEUE_URL: Final = "PAYPORTAL_WEBHOOKS_QUEUE_URL"
RULE_ID: Final = "EveryDomainEvent"
QUEUE_ID: Final = "Deliveries"
DLQ_ID: Final = "DeliveriesDlq"
# More receives than a delivery's 12 attempts, so only a message the function fails on itself is dead-lettered.
WEBHOOK_RECEIVES: Final = 20
RETENTION: Final = Duration.days(14)  # SQS's longest
BATCH_SIZE: Final = 10
MAX_CONCURRENCY: Final = 10  # parallel invocations at most: a burst is sent at 10 x 10 deliveries at a time
EVENT_PATTERN: Final = {"source": ["payportal"]}


def rule_name_for(stage: str) -> str:
    return f"payportal-{stage}-webhooks"


class OutboundWebhooks(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        key: aws_kms.IKey,
        bus: aws_events.IEventBus,
        function: aws_lambda.Function,
        replayers: tuple[aws_lambda.Function, ...],
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._key = key
        self.dlq = dead_letter_queue(self, DLQ_ID, key=key, config=config, used_by="the webhook deliveries queue")
        self.queue = self._build_queue(function)
        self.rule = self._build_rule(bus)
        self._connect(function, replayers)

    def _build_queue(self, function: aws_lambda.Function) -> aws_sqs.Queue:
        return function_queue(
            self, QUEUE_ID, key=self._key, config=self._config, consumer=function, retention=RETENTION,
            dlq=self.dlq, receives=WEBHOOK_RECEIVES,
        )  # fmt: skip

    def _build_rule(self, bus: aws_events.IEventBus) -> aws_events.Rule:
        rule_name = rule_name_for(self._config.stage)
        rule = aws_events.Rule(
            self,
            RULE_ID,
            rule_name=rule_name,
            event_bus=bus,
            description="every payportal domain event, to the outbound webhook deliveries",
            event_pattern=aws_events.EventPattern(source=EVENT_PATTERN["source"]),
        )
        cfn_rule = rule.node.default_child
        assert isinstance(cfn_rule, aws_events.CfnRule)
        # The target by hand: CDK's SqsQueue target would let EventBridge use the key for anything in the account;
        # here only this rule may send to the queue (and its DLQ) and use the key for it. The rule's ARN is spelt
        # out: a reference to the rule would make the key depend on the bus, which uses the key.
        cfn_rule.targets = [
            aws_events.CfnRule.TargetProperty(
                id="Deliveries",
                arn=self.queue.queue_arn,
                dead_letter_config=aws_events.CfnRule.DeadLetterConfigProperty(arn=self.dlq.queue_arn),
                retry_policy=aws_events.CfnRule.RetryPolicyProperty(maximum_event_age_in_seconds=86_400),
            )
        ]
        rule_arn = Stack.of(self).format_arn(
            service="events", resource="rule", resource_name=f"{event_bus_name_for(self._config.stage)}/{rule_name}"
        )
        events = aws_iam.ServicePrincipal("events.amazonaws.com")
        for queue in (self.queue, self.dlq):
            queue.add_to_resource_policy(
                aws_iam.PolicyStatement(
                    actions=["sqs:SendMessage"],
                    principals=[events],
                    resources=[queue.queue_arn],
                    conditions={"ArnEquals": {"aws:SourceArn": rule_arn}},
                )
            )
        self._key.add_to_resource_policy(
            aws_iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                principals=[events],
                resources=["*"],
                conditions={"ArnEquals": {"aws:SourceArn": rule_arn}},
            )
        )
        return rule

    def _connect(self, function: aws_lambda.Function, replayers: tuple[aws_lambda.Function, ...]) -> None:
        function.add_event_source(
            sources.SqsEventSource(
                self.queue, batch_size=BATCH_SIZE, report_batch_item_failures=True, max_concurrency=MAX_CONCURRENCY
            )
        )
        NagSuppressions.add_resource_suppressions(
            function,
            [
                NagPackSuppression(
                    id="Serverless-LambdaEventSourceMappingDestination",
                    reason="An SQS event source takes no on-failure destination: a failed attempt's message "
                    "waits out its backoff on the queue; one the function cannot handle goes to the deliveries "
                    f"DLQ after {WEBHOOK_RECEIVES} receives; a delivery that fails for good is kept in the table.",
                )
            ],
            apply_to_children=True,
        )
        # The function fans events out onto its own queue; the operator API queues a replay.
        for sender in (function, *replayers):
            sender.add_environment(ENV_WEBHOOKS_QUEUE_URL, self.queue.queue_url)
            self.queue.grant_send_messages(sender)
