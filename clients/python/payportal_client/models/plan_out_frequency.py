from enum import StrEnum


class PlanOutFrequency(StrEnum):
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"
    ONCE = "once"
    WEEKLY = "weekly"

    def __str__(self) -> str:
        return str(self.value)
