from enum import StrEnum


class ImportOutStatus(StrEnum):
    CHECKING = "checking"
    COMPLETED = "completed"
    INVALID = "invalid"
    QUEUED = "queued"
    RUNNING = "running"

    def __str__(self) -> str:
        return str(self.value)
