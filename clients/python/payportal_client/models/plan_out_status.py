from enum import StrEnum


class PlanOutStatus(StrEnum):
    ACTIVE = "active"
    AWAITING_FIRST = "awaiting_first"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    DEFAULTED = "defaulted"

    def __str__(self) -> str:
        return str(self.value)
