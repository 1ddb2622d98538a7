from enum import StrEnum


class ListPaymentsStatus(StrEnum):
    FAILED = "failed"
    PARTIALLY_REFUNDED = "partially_refunded"
    PENDING = "pending"
    REFUNDED = "refunded"
    REVERSED = "reversed"
    SUCCEEDED = "succeeded"

    def __str__(self) -> str:
        return str(self.value)
