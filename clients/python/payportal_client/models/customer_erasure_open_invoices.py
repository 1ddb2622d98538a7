from enum import StrEnum


class CustomerErasureOpenInvoices(StrEnum):
    HOLD = "hold"
    VOID = "void"

    def __str__(self) -> str:
        return str(self.value)
