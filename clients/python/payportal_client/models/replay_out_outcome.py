from enum import StrEnum


class ReplayOutOutcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE_EVENT = "duplicate_event"
    FLAGGED = "flagged"
    IGNORED = "ignored"
    NO_CHANGE = "no_change"
    RETRY_LATER = "retry_later"

    def __str__(self) -> str:
        return str(self.value)
