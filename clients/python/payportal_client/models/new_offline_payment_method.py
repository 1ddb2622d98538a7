from enum import StrEnum


class NewOfflinePaymentMethod(StrEnum):
    BANK_TRANSFER = "bank_transfer"
    CASH = "cash"
    CHECK = "check"
    OTHER = "other"

    def __str__(self) -> str:
        return str(self.value)
