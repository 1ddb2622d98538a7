from enum import StrEnum


class ListStripeEventsOutcome(StrEnum):
    FAILED = "failed"
    FLAGGED = "flagged"

    def __str__(self) -> str:
        return str(self.value)
