"""EventBridge Scheduler schedules for the scheduled functions (shared.routes.SCHEDULED_FUNCTIONS), each
with retries and a dead-letter queue for invocations that keep failing, and for runs that keep failing.

A run that cannot finish within one invocation leaves the rest on its continuation queue (one message per
unfinished shard); the queue invokes the same function, one message at a time, up to a concurrency that
matches the shards. Messages that keep failing go to the continuation DLQ.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from aws_cdk import (
    Duration,
    Stack,
    TimeZone,
    aws_iam,
    aws_kms,
    aws_lambda,
    aws_lambda_event_sources,
    aws_scheduler,
    aws_scheduler_targets,
    aws_sqs,
)
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from infra.components.queues import dead_letter_queue, function_queue
from infra.config import StageConfig
from infra.nag import inline_policy
from shared.routes import SCHEDULED_FUNCTIONS
from shared.schema import DUE_WORK_SHARDS

DLQ_ID: Final = "ScheduleDlq"
DIGEST: Final = "digest"  # its schedule comes from the context (StageConfig.digest_schedule)
RETRY_ATTEMPTS: Final = 2
MAX_EVENT_AGE: Final = Duration.minutes(30)  # an hourly run older than this is overtaken by the next one
# Scheduled functions that continue through a queue when out of time, and the variable naming it.
CONTINUED_FUNCTIONS: Final = {"reminders": "PAYPORTAL_REMINDERS_QUEUE_URL"}
CONTINUATION_RECEIVES: Final = 3  # deliveries of a continuation before it is dead-lettered


def schedule_id_for(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_")) + "Schedule"


class Scheduling(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        key: aws_kms.IKey,
        functions: Mapping[str, aws_lambda.Function],
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._key = key
        self.dlq = self._build_dlq(key)
        self.schedules = {name: self._build_schedule(name, functions[name]) for name in SCHEDULED_FUNCTIONS}
        for name in SCHEDULED_FUNCTIONS:
            self._dead_letter_failed_runs(functions[name])
        self.continuation_dlqs: dict[str, aws_sqs.Queue] = {}
        self.continuations = {name: self._build_continuation(name, functions[name]) for name in CONTINUED_FUNCTIONS}

    def _build_dlq(self, key: aws_kms.IKey) -> aws_sqs.Queue:
        return dead_letter_queue(
            self, DLQ_ID, key=key, config=self._config, used_by="the EventBridge Scheduler targets"
        )

    def _dead_letter_failed_runs(self, function: aws_lambda.Function) -> None:
        """Scheduler invokes the function asynchronously, so its own DLQ catches only invocations Lambda refused;
        a run that fails (an error, a timeout) is retried twice by Lambda and then dropped, unless the function
        has a DLQ of its own. The schedule DLQ is it: its alarm then fires for either kind of failure."""
        cfn = function.node.default_child
        assert isinstance(cfn, aws_lambda.CfnFunction)
        cfn.dead_letter_config = aws_lambda.CfnFunction.DeadLetterConfigProperty(target_arn=self.dlq.queue_arn)
        # What Lambda needs to dead-letter under the function's role (the data key's grants it holds already).
        function.add_to_role_policy(
            aws_iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.dlq.queue_arn])
        )

    def _build_role(self, name: str, function: aws_lambda.IFunction) -> aws_iam.Role:
        """One role per schedule, allowed to invoke its one function and to dead-letter."""
        role = aws_iam.Role(
            self, f"{schedule_id_for(name)}Role", assumed_by=aws_iam.ServicePrincipal("scheduler.amazonaws.com")
        )
        function.grant_invoke(role)
        # The DLQ is encrypted with the data key: dead-lettering needs to make and read its data keys.
        self._key.grant(role, "kms:GenerateDataKey", "kms:Decrypt")
        function_arn = Stack.of(self).get_logical_id(function.node.default_child)  # type: ignore[arg-type]
        NagSuppressions.add_resource_suppressions(
            role,
            [
                NagPackSuppression(
                    id="AwsSolutions-IAM5",
                    reason="grant_invoke also names the function's versions and aliases (ARN:*); the role can "
                    "invoke this one function and nothing else.",
                    applies_to=[f"Resource::<{function_arn}.Arn>:*"],
                ),
                inline_policy(),
            ],
            apply_to_children=True,
        )
        return role

    def _build_schedule(self, name: str, function: aws_lambda.IFunction) -> aws_scheduler.Schedule:
        target = aws_scheduler_targets.LambdaInvoke(
            function,
            role=self._build_role(name, function),
            dead_letter_queue=self.dlq,
            retry_attempts=RETRY_ATTEMPTS,
            max_event_age=MAX_EVENT_AGE,
        )
        return aws_scheduler.Schedule(
            self,
            schedule_id_for(name),
            schedule=self._expression(name),
            target=target,
            description=f"payportal {self._config.stage}: run {name}",
        )

    def _expression(self, name: str) -> aws_scheduler.ScheduleExpression:
        """The hourly jobs' rate; the digest at the operator's local hour, in their zone (from the context)."""
        if name == DIGEST:
            return aws_scheduler.ScheduleExpression.expression(
                self._config.digest_schedule, TimeZone.of(self._config.digest_timezone)
            )
        return aws_scheduler.ScheduleExpression.expression(SCHEDULED_FUNCTIONS[name])

    def _build_continuation(self, name: str, function: aws_lambda.Function) -> aws_sqs.Queue:
        stem = schedule_id_for(name).removesuffix("Schedule")
        dlq = dead_letter_queue(
            self, f"{stem}ContinuationDlq", key=self._key, config=self._config, used_by=f"{name}'s continuation queue"
        )
        queue = function_queue(
            self, f"{stem}Continuations", key=self._key, config=self._config, consumer=function,
            retention=Duration.hours(4),  # a continuation older than a few runs is overtaken anyway
            dlq=dlq, receives=CONTINUATION_RECEIVES,
        )  # fmt: skip
        self.continuation_dlqs[name] = dlq
        function.add_event_source(
            aws_lambda_event_sources.SqsEventSource(
                queue, batch_size=1, report_batch_item_failures=True, max_concurrency=DUE_WORK_SHARDS
            )
        )
        NagSuppressions.add_resource_suppressions(
            function,
            [
                NagPackSuppression(
                    id="Serverless-LambdaEventSourceMappingDestination",
                    reason="An SQS event source takes no on-failure destination: failed continuations return to "
                    "the queue and its redrive policy moves them to the continuation DLQ after 3 receives.",
                )
            ],
            apply_to_children=True,
        )
        function.add_environment(CONTINUED_FUNCTIONS[name], queue.queue_url)
        queue.grant_send_messages(function)
        return queue
