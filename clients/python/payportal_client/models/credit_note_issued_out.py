from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.credit_note_out import CreditNoteOut
    from ..models.invoice_out import InvoiceOut


T = TypeVar("T", bound="CreditNoteIssuedOut")


@_attrs_define
class CreditNoteIssuedOut:
    """
    Attributes:
        credit_note (CreditNoteOut):
        invoice (InvoiceOut):
    """

    credit_note: CreditNoteOut
    invoice: InvoiceOut
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        credit_note = self.credit_note.to_dict()

        invoice = self.invoice.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "credit_note": credit_note,
                "invoice": invoice,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.credit_note_out import CreditNoteOut  # noqa: PLC0415
        from ..models.invoice_out import InvoiceOut  # noqa: PLC0415

        d = dict(src_dict)
        credit_note = CreditNoteOut.from_dict(d.pop("credit_note"))

        invoice = InvoiceOut.from_dict(d.pop("invoice"))

        credit_note_issued_out = cls(
            credit_note=credit_note,
            invoice=invoice,
        )

        credit_note_issued_out.additional_properties = d
        return credit_note_issued_out

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
