from enum import StrEnum


class PaymentRowOutMethod(StrEnum):
    BANK_TRANSFER = "bank_transfer"
    CASH = "cash"
    CHECK = "check"
    OTHER = "other"
    STRIPE = "stripe"

    def __str__(self) -> str:
        return str(self.value)
