from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.recurring_charge_out_status import RecurringChargeOutStatus

T = TypeVar("T", bound="RecurringChargeOut")


@_attrs_define
class RecurringChargeOut:
    """
    Attributes:
        amount (int):
        count (int | None):
        created_at (datetime.datetime):
        currency (str):
        customer_id (str):
        description (str):
        end_date (datetime.date | None):
        id (str):
        interval (str):
        next_invoice_at (datetime.datetime | None): when the next period's invoice is created
        periods_created (int):
        start_date (datetime.date):
        status (RecurringChargeOutStatus):
    """

    amount: int
    count: int | None
    created_at: datetime.datetime
    currency: str
    customer_id: str
    description: str
    end_date: datetime.date | None
    id: str
    interval: str
    next_invoice_at: datetime.datetime | None
    periods_created: int
    start_date: datetime.date
    status: RecurringChargeOutStatus
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        amount = self.amount

        count: int | None
        count = self.count

        created_at = self.created_at.isoformat()

        currency = self.currency

        customer_id = self.customer_id

        description = self.description

        end_date: None | str
        if isinstance(self.end_date, datetime.date):
            end_date = self.end_date.isoformat()
        else:
            end_date = self.end_date

        id = self.id

        interval = self.interval

        next_invoice_at: None | str
        if isinstance(self.next_invoice_at, datetime.datetime):
            next_invoice_at = self.next_invoice_at.isoformat()
        else:
            next_invoice_at = self.next_invoice_at

        periods_created = self.periods_created

        start_date = self.start_date.isoformat()

        status = self.status.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "amount": amount,
                "count": count,
                "created_at": created_at,
                "currency": currency,
                "customer_id": customer_id,
                "description": description,
                "end_date": end_date,
                "id": id,
                "interval": interval,
                "next_invoice_at": next_invoice_at,
                "periods_created": periods_created,
                "start_date": start_date,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        amount = d.pop("amount")

        def _parse_count(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        count = _parse_count(d.pop("count"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        currency = d.pop("currency")

        customer_id = d.pop("customer_id")

        description = d.pop("description")

        def _parse_end_date(data: object) -> datetime.date | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                end_date_type_0 = datetime.date.fromisoformat(data)

                return end_date_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.date | None, data)

        end_date = _parse_end_date(d.pop("end_date"))

        id = d.pop("id")

        interval = d.pop("interval")

        def _parse_next_invoice_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                next_invoice_at_type_0 = datetime.datetime.fromisoformat(data)

                return next_invoice_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        next_invoice_at = _parse_next_invoice_at(d.pop("next_invoice_at"))

        periods_created = d.pop("periods_created")

        start_date = datetime.date.fromisoformat(d.pop("start_date"))

        status = RecurringChargeOutStatus(d.pop("status"))

        recurring_charge_out = cls(
            amount=amount,
            count=count,
            created_at=created_at,
            currency=currency,
            customer_id=customer_id,
            description=description,
            end_date=end_date,
            id=id,
            interval=interval,
            next_invoice_at=next_invoice_at,
            periods_created=periods_created,
            start_date=start_date,
            status=status,
        )

        recurring_charge_out.additional_properties = d
        return recurring_charge_out

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
