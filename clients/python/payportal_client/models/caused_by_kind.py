from enum import StrEnum


class CausedByKind(StrEnum):
    CUSTOMER = "customer"
    JOB = "job"
    OPERATOR = "operator"
    STRIPE_EVENT = "stripe_event"
    SYSTEM = "system"

    def __str__(self) -> str:
        return str(self.value)
