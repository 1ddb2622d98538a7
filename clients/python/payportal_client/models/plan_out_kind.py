from enum import StrEnum


class PlanOutKind(StrEnum):
    AUTOPAY = "autopay"
    INSTALLMENTS = "installments"

    def __str__(self) -> str:
        return str(self.value)
