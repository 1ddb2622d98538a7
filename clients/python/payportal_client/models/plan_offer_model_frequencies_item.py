from enum import StrEnum


class PlanOfferModelFrequenciesItem(StrEnum):
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"
    WEEKLY = "weekly"

    def __str__(self) -> str:
        return str(self.value)
