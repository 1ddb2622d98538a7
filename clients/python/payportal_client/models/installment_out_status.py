from enum import StrEnum


class InstallmentOutStatus(StrEnum):
    CHARGING = "charging"
    FAILED = "failed"
    PAID = "paid"
    SCHEDULED = "scheduled"

    def __str__(self) -> str:
        return str(self.value)
