from enum import StrEnum


class RefundOutStatus(StrEnum):
    CANCELED = "canceled"
    FAILED = "failed"
    PENDING = "pending"
    SUCCEEDED = "succeeded"

    def __str__(self) -> str:
        return str(self.value)
