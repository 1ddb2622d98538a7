from enum import StrEnum


class StripeEventOutOutcome(StrEnum):
    APPLIED = "applied"
    FAILED = "failed"
    FLAGGED = "flagged"
    IGNORED = "ignored"
    NO_CHANGE = "no_change"

    def __str__(self) -> str:
        return str(self.value)
