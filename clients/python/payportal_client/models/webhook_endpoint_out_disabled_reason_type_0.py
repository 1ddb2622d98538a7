from enum import StrEnum


class WebhookEndpointOutDisabledReasonType0(StrEnum):
    FAILING = "failing"
    OPERATOR = "operator"

    def __str__(self) -> str:
        return str(self.value)
