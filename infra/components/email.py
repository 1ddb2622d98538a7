"""SES: the identity receipts and reminders are sent from, and the configuration set that reports bounces
and complaints back to payportal.

Every email is sent through the configuration set. Its event destination publishes BOUNCE and COMPLAINT
events to an encrypted SNS topic, whose one subscriber is `functions/email_feedback`: it marks the
customer's address undeliverable, so nothing more is sent to it. The configuration set also turns on SES's
own account-level suppression for bounces and complaints, a second line should a send slip through.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import (
    Duration,
    Stack,
    aws_iam,
    aws_kms,
    aws_lambda,
    aws_lambda_destinations,
    aws_ses,
    aws_sns,
    aws_sns_subscriptions,
)
from constructs import Construct

from infra.components.queues import dead_letter_queue
from infra.config import StageConfig

SENDER_ID: Final = "Sender"
CONFIGURATION_SET_ID: Final = "ConfigurationSet"
FEEDBACK_TOPIC_ID: Final = "FeedbackTopic"
FEEDBACK_DESTINATION_ID: Final = "Feedback"
FEEDBACK_DLQ_ID: Final = "FeedbackDlq"
FEEDBACK_EVENTS: Final = (aws_ses.EmailSendingEvent.BOUNCE, aws_ses.EmailSendingEvent.COMPLAINT)
# Lambda retries a failed asynchronous (SNS) invocation this often before it goes to the DLQ.
FEEDBACK_RETRY_ATTEMPTS: Final = 2
FEEDBACK_MAX_EVENT_AGE: Final = Duration.hours(6)


class Email(Construct):
    """An email-address identity (SES mails a verification link to it on deploy) and the feedback path.

    Until the account leaves the SES sandbox, mail only reaches verified recipients.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, key: aws_kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._key = key
        self.identity = self._build_identity()
        self.configuration_set = aws_ses.ConfigurationSet(
            self,
            CONFIGURATION_SET_ID,
            suppression_reasons=aws_ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
            reputation_metrics=True,
            sending_enabled=True,
            # Emails carry pay links (bearer tokens): never hand one to a mail server in clear text. A
            # receiving server without TLS makes the send fail rather than travel unencrypted.
            tls_policy=aws_ses.ConfigurationSetTlsPolicy.REQUIRE,
        )
        self.feedback_topic = self._build_feedback_topic()
        self.configuration_set.add_event_destination(
            FEEDBACK_DESTINATION_ID,
            destination=aws_ses.EventDestination.sns_topic(self.feedback_topic),
            events=list(FEEDBACK_EVENTS),
        )
        self.feedback_dlq = dead_letter_queue(
            self, FEEDBACK_DLQ_ID, key=key, config=config, used_by="the email_feedback function's SNS invocations"
        )

    @property
    def configuration_set_name(self) -> str:
        return self.configuration_set.configuration_set_name

    def grant_send(self, sender: aws_iam.IGrantable) -> None:
        """ses:SendEmail and ses:SendRawEmail, scoped to this identity and configuration set; the outbox is
        the one sender. SES authorises a send against both when a configuration set is named."""
        self.identity.grant_send_email(sender)
        stack = Stack.of(self)
        configuration_set_arn = stack.format_arn(
            service="ses", resource="configuration-set", resource_name=self.configuration_set_name
        )
        aws_iam.Grant.add_to_principal(
            grantee=sender,
            actions=["ses:SendEmail", "ses:SendRawEmail"],
            resource_arns=[configuration_set_arn],
        )

    def deliver_feedback_to(self, function: aws_lambda.Function) -> None:
        """Bounce and complaint events invoke `function`; what keeps failing is kept in the feedback DLQ."""
        # Deliveries SNS itself cannot make (the function throttled away for hours) also land in the DLQ.
        self.feedback_topic.add_subscription(
            aws_sns_subscriptions.LambdaSubscription(function, dead_letter_queue=self.feedback_dlq)
        )
        function.configure_async_invoke(
            retry_attempts=FEEDBACK_RETRY_ATTEMPTS,
            max_event_age=FEEDBACK_MAX_EVENT_AGE,
            on_failure=aws_lambda_destinations.SqsDestination(self.feedback_dlq),
        )

    def _build_identity(self) -> aws_ses.EmailIdentity:
        return aws_ses.EmailIdentity(
            self,
            SENDER_ID,
            identity=aws_ses.Identity.email(self._config.sender_email),
        )

    def _build_feedback_topic(self) -> aws_sns.Topic:
        topic = aws_sns.Topic(self, FEEDBACK_TOPIC_ID, master_key=self._key, enforce_ssl=True)
        # SNS dead-letters undeliverable messages into the encrypted feedback DLQ.
        self._key.add_to_resource_policy(
            aws_iam.PolicyStatement(
                sid="SnsDeadLettersIntoTheEncryptedQueue",
                principals=[aws_iam.ServicePrincipal("sns.amazonaws.com")],
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            )
        )
        # SES publishes to the encrypted topic for this account only: it needs the key's data keys.
        self._key.add_to_resource_policy(
            aws_iam.PolicyStatement(
                sid="SesPublishesFeedbackToTheEncryptedTopic",
                principals=[aws_iam.ServicePrincipal("ses.amazonaws.com")],
                actions=["kms:GenerateDataKey*", "kms:Decrypt"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": Stack.of(self).account}},
            )
        )
        return topic
