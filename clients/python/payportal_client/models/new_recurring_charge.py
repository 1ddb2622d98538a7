from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.new_recurring_charge_interval import NewRecurringChargeInterval
from ..types import UNSET, Unset

T = TypeVar("T", bound="NewRecurringCharge")


@_attrs_define
class NewRecurringCharge:
    """
    Attributes:
        amount (int): integer in the currency's minor unit
        currency (str):
        customer_id (str):
        interval (NewRecurringChargeInterval):
        start_date (datetime.date): the first period's date, which is its invoice's due date
        count (int | None | Unset): or: this many periods in all
        description (str | Unset):  Default: ''.
        end_date (datetime.date | None | Unset): no period after this date
    """

    amount: int
    currency: str
    customer_id: str
    interval: NewRecurringChargeInterval
    start_date: datetime.date
    count: int | None | Unset = UNSET
    description: str | Unset = ""
    end_date: datetime.date | None | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        amount = self.amount

        currency = self.currency

        customer_id = self.customer_id

        interval = self.interval.value

        start_date = self.start_date.isoformat()

        count: int | None | Unset
        if isinstance(self.count, Unset):
            count = UNSET
        else:
            count = self.count

        description = self.description

        end_date: None | str | Unset
        if isinstance(self.end_date, Unset):
            end_date = UNSET
        elif isinstance(self.end_date, datetime.date):
            end_date = self.end_date.isoformat()
        else:
            end_date = self.end_date

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "amount": amount,
                "currency": currency,
                "customer_id": customer_id,
                "interval": interval,
                "start_date": start_date,
            }
        )
        if count is not UNSET:
            field_dict["count"] = count
        if description is not UNSET:
            field_dict["description"] = description
        if end_date is not UNSET:
            field_dict["end_date"] = end_date

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        amount = d.pop("amount")

        currency = d.pop("currency")

        customer_id = d.pop("customer_id")

        interval = NewRecurringChargeInterval(d.pop("interval"))

        start_date = datetime.date.fromisoformat(d.pop("start_date"))

        def _parse_count(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        count = _parse_count(d.pop("count", UNSET))

        description = d.pop("description", UNSET)

        def _parse_end_date(data: object) -> datetime.date | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                end_date_type_0 = datetime.date.fromisoformat(data)

                return end_date_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.date | None | Unset, data)

        end_date = _parse_end_date(d.pop("end_date", UNSET))

        new_recurring_charge = cls(
            amount=amount,
            currency=currency,
            customer_id=customer_id,
            interval=interval,
            start_date=start_date,
            count=count,
            description=description,
            end_date=end_date,
        )

        return new_recurring_charge
