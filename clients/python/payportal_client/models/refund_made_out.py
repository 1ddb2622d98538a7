from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.refund_made_out_invoice_status import RefundMadeOutInvoiceStatus

if TYPE_CHECKING:
    from ..models.payment_out import PaymentOut
    from ..models.refund_out import RefundOut


T = TypeVar("T", bound="RefundMadeOut")


@_attrs_define
class RefundMadeOut:
    """
    Attributes:
        invoice_amount_remaining (int):
        invoice_id (str):
        invoice_status (RefundMadeOutInvoiceStatus):
        payment (PaymentOut):
        refund (RefundOut):
    """

    invoice_amount_remaining: int
    invoice_id: str
    invoice_status: RefundMadeOutInvoiceStatus
    payment: PaymentOut
    refund: RefundOut
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        invoice_amount_remaining = self.invoice_amount_remaining

        invoice_id = self.invoice_id

        invoice_status = self.invoice_status.value

        payment = self.payment.to_dict()

        refund = self.refund.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "invoice_amount_remaining": invoice_amount_remaining,
                "invoice_id": invoice_id,
                "invoice_status": invoice_status,
                "payment": payment,
                "refund": refund,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.payment_out import PaymentOut  # noqa: PLC0415
        from ..models.refund_out import RefundOut  # noqa: PLC0415

        d = dict(src_dict)
        invoice_amount_remaining = d.pop("invoice_amount_remaining")

        invoice_id = d.pop("invoice_id")

        invoice_status = RefundMadeOutInvoiceStatus(d.pop("invoice_status"))

        payment = PaymentOut.from_dict(d.pop("payment"))

        refund = RefundOut.from_dict(d.pop("refund"))

        refund_made_out = cls(
            invoice_amount_remaining=invoice_amount_remaining,
            invoice_id=invoice_id,
            invoice_status=invoice_status,
            payment=payment,
            refund=refund,
        )

        refund_made_out.additional_properties = d
        return refund_made_out

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
