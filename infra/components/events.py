"""The EventBridge bus that carries payportal's domain events to other systems."""

from __future__ import annotations

from typing import Final

from aws_cdk import aws_events, aws_iam, aws_kms
from constructs import Construct

from infra.config import StageConfig

BUS_ID: Final = "Bus"


def event_bus_name_for(stage: str) -> str:
    return f"payportal-{stage}"


class DomainEvents(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, key: aws_kms.IKey) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._key = key
        self.bus = self._build_bus()

    def grant_publish(self, publisher: aws_iam.IGrantable) -> None:
        """events:PutEvents on this bus only; the outbox is the one publisher."""
        self.bus.grant_put_events_to(publisher)

    def _build_bus(self) -> aws_events.EventBus:
        return aws_events.EventBus(
            self,
            BUS_ID,
            event_bus_name=event_bus_name_for(self._config.stage),
            description="payportal domain events (invoice, payment, refund), published by the outbox",
            # Events are stored encrypted with the stack's key (CDK adds the key policy letting
            # EventBridge use it for this bus only).
            kms_key=self._key,
        )
