"""The SES identity that receipts and reminders are sent from."""

from __future__ import annotations

from typing import Final

from aws_cdk import aws_iam, aws_ses
from constructs import Construct

from infra.config import StageConfig

SENDER_ID: Final = "Sender"


class Email(Construct):
    """An email-address identity: SES mails a verification link to it on deploy.

    Until the account leaves the SES sandbox, mail only reaches verified recipients.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self.identity = self._build_identity()

    def grant_send(self, sender: aws_iam.IGrantable) -> None:
        """ses:SendEmail and ses:SendRawEmail, scoped to this identity's ARN; the outbox is the one sender."""
        self.identity.grant_send_email(sender)

    def _build_identity(self) -> aws_ses.EmailIdentity:
        return aws_ses.EmailIdentity(self, SENDER_ID, identity=aws_ses.Identity.email(self._config.sender_email))
