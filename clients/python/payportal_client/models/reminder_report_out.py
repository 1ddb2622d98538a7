from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.reminder_figures_out import ReminderFiguresOut


T = TypeVar("T", bound="ReminderReportOut")


@_attrs_define
class ReminderReportOut:
    """
    Attributes:
        from_ (datetime.date):
        rows (list[ReminderFiguresOut]): per send day, dunning step and template; days ascending
        to (datetime.date):
        totals (list[ReminderFiguresOut]): per dunning step and template over the whole range
    """

    from_: datetime.date
    rows: list[ReminderFiguresOut]
    to: datetime.date
    totals: list[ReminderFiguresOut]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from_ = self.from_.isoformat()

        rows = []
        for rows_item_data in self.rows:
            rows_item = rows_item_data.to_dict()
            rows.append(rows_item)

        to = self.to.isoformat()

        totals = []
        for totals_item_data in self.totals:
            totals_item = totals_item_data.to_dict()
            totals.append(totals_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "from": from_,
                "rows": rows,
                "to": to,
                "totals": totals,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.reminder_figures_out import ReminderFiguresOut  # noqa: PLC0415

        d = dict(src_dict)
        from_ = datetime.date.fromisoformat(d.pop("from"))

        rows = []
        _rows = d.pop("rows")
        for rows_item_data in _rows:
            rows_item = ReminderFiguresOut.from_dict(rows_item_data)

            rows.append(rows_item)

        to = datetime.date.fromisoformat(d.pop("to"))

        totals = []
        _totals = d.pop("totals")
        for totals_item_data in _totals:
            totals_item = ReminderFiguresOut.from_dict(totals_item_data)

            totals.append(totals_item)

        reminder_report_out = cls(
            from_=from_,
            rows=rows,
            to=to,
            totals=totals,
        )

        reminder_report_out.additional_properties = d
        return reminder_report_out

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
