from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.offline_payment_made_out_invoice_status import (
    OfflinePaymentMadeOutInvoiceStatus,
)

if TYPE_CHECKING:
    from ..models.payment_out import PaymentOut


T = TypeVar("T", bound="OfflinePaymentMadeOut")


@_attrs_define
class OfflinePaymentMadeOut:
    """
    Attributes:
        invoice_amount_credit (int): paid beyond amount_due: kept as the customer's credit
        invoice_amount_remaining (int):
        invoice_id (str):
        invoice_status (OfflinePaymentMadeOutInvoiceStatus):
        payment (PaymentOut):
    """

    invoice_amount_credit: int
    invoice_amount_remaining: int
    invoice_id: str
    invoice_status: OfflinePaymentMadeOutInvoiceStatus
    payment: PaymentOut
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        invoice_amount_credit = self.invoice_amount_credit

        invoice_amount_remaining = self.invoice_amount_remaining

        invoice_id = self.invoice_id

        invoice_status = self.invoice_status.value

        payment = self.payment.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "invoice_amount_credit": invoice_amount_credit,
                "invoice_amount_remaining": invoice_amount_remaining,
                "invoice_id": invoice_id,
                "invoice_status": invoice_status,
                "payment": payment,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.payment_out import PaymentOut  # noqa: PLC0415

        d = dict(src_dict)
        invoice_amount_credit = d.pop("invoice_amount_credit")

        invoice_amount_remaining = d.pop("invoice_amount_remaining")

        invoice_id = d.pop("invoice_id")

        invoice_status = OfflinePaymentMadeOutInvoiceStatus(d.pop("invoice_status"))

        payment = PaymentOut.from_dict(d.pop("payment"))

        offline_payment_made_out = cls(
            invoice_amount_credit=invoice_amount_credit,
            invoice_amount_remaining=invoice_amount_remaining,
            invoice_id=invoice_id,
            invoice_status=invoice_status,
            payment=payment,
        )

        offline_payment_made_out.additional_properties = d
        return offline_payment_made_out

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
