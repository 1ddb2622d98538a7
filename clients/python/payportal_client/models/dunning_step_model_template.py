from enum import StrEnum


class DunningStepModelTemplate(StrEnum):
    DUE_TODAY = "due_today"
    FINAL_NOTICE = "final_notice"
    OVERDUE = "overdue"
    UPCOMING = "upcoming"

    def __str__(self) -> str:
        return str(self.value)
