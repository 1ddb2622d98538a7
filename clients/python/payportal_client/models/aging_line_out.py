from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="AgingLineOut")


@_attrs_define
class AgingLineOut:
    """
    Attributes:
        currency (str):
        current (int): not yet due (minor units)
        days_1_30 (int):
        days_31_60 (int):
        days_61_90 (int):
        days_91_plus (int):
        total (int):
    """

    currency: str
    current: int
    days_1_30: int
    days_31_60: int
    days_61_90: int
    days_91_plus: int
    total: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        currency = self.currency

        current = self.current

        days_1_30 = self.days_1_30

        days_31_60 = self.days_31_60

        days_61_90 = self.days_61_90

        days_91_plus = self.days_91_plus

        total = self.total

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "currency": currency,
                "current": current,
                "days_1_30": days_1_30,
                "days_31_60": days_31_60,
                "days_61_90": days_61_90,
                "days_91_plus": days_91_plus,
                "total": total,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        currency = d.pop("currency")

        current = d.pop("current")

        days_1_30 = d.pop("days_1_30")

        days_31_60 = d.pop("days_31_60")

        days_61_90 = d.pop("days_61_90")

        days_91_plus = d.pop("days_91_plus")

        total = d.pop("total")

        aging_line_out = cls(
            currency=currency,
            current=current,
            days_1_30=days_1_30,
            days_31_60=days_31_60,
            days_61_90=days_61_90,
            days_91_plus=days_91_plus,
            total=total,
        )

        aging_line_out.additional_properties = d
        return aging_line_out

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
