from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.customer_erasure_open_invoices import CustomerErasureOpenInvoices

T = TypeVar("T", bound="CustomerErasure")


@_attrs_define
class CustomerErasure:
    """
    Attributes:
        open_invoices (CustomerErasureOpenInvoices): what becomes of invoices still owed: held (no reminder ever again),
            or voided where nothing was paid on them (the others are held)
    """

    open_invoices: CustomerErasureOpenInvoices

    def to_dict(self) -> dict[str, Any]:
        open_invoices = self.open_invoices.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "open_invoices": open_invoices,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        open_invoices = CustomerErasureOpenInvoices(d.pop("open_invoices"))

        customer_erasure = cls(
            open_invoices=open_invoices,
        )

        return customer_erasure
