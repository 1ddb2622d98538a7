from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.aging_line_out import AgingLineOut
    from ..models.customer_aging_out import CustomerAgingOut


T = TypeVar("T", bound="AgingReportOut")


@_attrs_define
class AgingReportOut:
    """
    Attributes:
        as_of (datetime.date):
        currencies (list[AgingLineOut]): what was still owed at the end of as_of, per currency
        customers (list[CustomerAgingOut] | None | Unset): with group_by=customer (as of today only): each customer's
            lines
    """

    as_of: datetime.date
    currencies: list[AgingLineOut]
    customers: list[CustomerAgingOut] | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        as_of = self.as_of.isoformat()

        currencies = []
        for currencies_item_data in self.currencies:
            currencies_item = currencies_item_data.to_dict()
            currencies.append(currencies_item)

        customers: list[dict[str, Any]] | None | Unset
        if isinstance(self.customers, Unset):
            customers = UNSET
        elif isinstance(self.customers, list):
            customers = []
            for customers_type_0_item_data in self.customers:
                customers_type_0_item = customers_type_0_item_data.to_dict()
                customers.append(customers_type_0_item)

        else:
            customers = self.customers

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "as_of": as_of,
                "currencies": currencies,
            }
        )
        if customers is not UNSET:
            field_dict["customers"] = customers

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.aging_line_out import AgingLineOut  # noqa: PLC0415
        from ..models.customer_aging_out import CustomerAgingOut  # noqa: PLC0415

        d = dict(src_dict)
        as_of = datetime.date.fromisoformat(d.pop("as_of"))

        currencies = []
        _currencies = d.pop("currencies")
        for currencies_item_data in _currencies:
            currencies_item = AgingLineOut.from_dict(currencies_item_data)

            currencies.append(currencies_item)

        def _parse_customers(data: object) -> list[CustomerAgingOut] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                customers_type_0 = []
                _customers_type_0 = data
                for customers_type_0_item_data in _customers_type_0:
                    customers_type_0_item = CustomerAgingOut.from_dict(customers_type_0_item_data)

                    customers_type_0.append(customers_type_0_item)

                return customers_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[CustomerAgingOut] | None | Unset, data)

        customers = _parse_customers(d.pop("customers", UNSET))

        aging_report_out = cls(
            as_of=as_of,
            currencies=currencies,
            customers=customers,
        )

        aging_report_out.additional_properties = d
        return aging_report_out

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
