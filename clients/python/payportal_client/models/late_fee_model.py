from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="LateFeeModel")


@_attrs_define
class LateFeeModel:
    """
    Attributes:
        cap (int | None | Unset): the most a percentage fee may be
        fixed (int | None | Unset): a fixed fee in minor units
        percent (None | str | Unset): of the amount remaining, e.g. "1.5"; never a float
    """

    cap: int | None | Unset = UNSET
    fixed: int | None | Unset = UNSET
    percent: None | str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        cap: int | None | Unset
        if isinstance(self.cap, Unset):
            cap = UNSET
        else:
            cap = self.cap

        fixed: int | None | Unset
        if isinstance(self.fixed, Unset):
            fixed = UNSET
        else:
            fixed = self.fixed

        percent: None | str | Unset
        if isinstance(self.percent, Unset):
            percent = UNSET
        else:
            percent = self.percent

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if cap is not UNSET:
            field_dict["cap"] = cap
        if fixed is not UNSET:
            field_dict["fixed"] = fixed
        if percent is not UNSET:
            field_dict["percent"] = percent

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_cap(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        cap = _parse_cap(d.pop("cap", UNSET))

        def _parse_fixed(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        fixed = _parse_fixed(d.pop("fixed", UNSET))

        def _parse_percent(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        percent = _parse_percent(d.pop("percent", UNSET))

        late_fee_model = cls(
            cap=cap,
            fixed=fixed,
            percent=percent,
        )

        return late_fee_model
