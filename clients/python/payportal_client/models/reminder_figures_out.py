from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.reminder_paid_out import ReminderPaidOut


T = TypeVar("T", bound="ReminderFiguresOut")


@_attrs_define
class ReminderFiguresOut:
    """
    Attributes:
        day (datetime.date | None): the UTC day the reminders were sent; null in the totals
        opened (int): of their pay links, how many were opened (each link counted once)
        paid_within_7_days (list[ReminderPaidOut]): per currency, by code
        sent (int): reminders sent
        step (str): the dunning step's key
        template (str): the reminder copy the step used
    """

    day: datetime.date | None
    opened: int
    paid_within_7_days: list[ReminderPaidOut]
    sent: int
    step: str
    template: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        day: None | str
        if isinstance(self.day, datetime.date):
            day = self.day.isoformat()
        else:
            day = self.day

        opened = self.opened

        paid_within_7_days = []
        for paid_within_7_days_item_data in self.paid_within_7_days:
            paid_within_7_days_item = paid_within_7_days_item_data.to_dict()
            paid_within_7_days.append(paid_within_7_days_item)

        sent = self.sent

        step = self.step

        template = self.template

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "day": day,
                "opened": opened,
                "paid_within_7_days": paid_within_7_days,
                "sent": sent,
                "step": step,
                "template": template,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.reminder_paid_out import ReminderPaidOut  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_day(data: object) -> datetime.date | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                day_type_0 = datetime.date.fromisoformat(data)

                return day_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.date | None, data)

        day = _parse_day(d.pop("day"))

        opened = d.pop("opened")

        paid_within_7_days = []
        _paid_within_7_days = d.pop("paid_within_7_days")
        for paid_within_7_days_item_data in _paid_within_7_days:
            paid_within_7_days_item = ReminderPaidOut.from_dict(paid_within_7_days_item_data)

            paid_within_7_days.append(paid_within_7_days_item)

        sent = d.pop("sent")

        step = d.pop("step")

        template = d.pop("template")

        reminder_figures_out = cls(
            day=day,
            opened=opened,
            paid_within_7_days=paid_within_7_days,
            sent=sent,
            step=step,
            template=template,
        )

        reminder_figures_out.additional_properties = d
        return reminder_figures_out

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
