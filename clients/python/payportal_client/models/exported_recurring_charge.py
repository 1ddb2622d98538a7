from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.exported_audit_entry import ExportedAuditEntry


T = TypeVar("T", bound="ExportedRecurringCharge")


@_attrs_define
class ExportedRecurringCharge:
    """
    Attributes:
        audit (list[ExportedAuditEntry]):
        id (str):
    """

    audit: list[ExportedAuditEntry]
    id: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        audit = []
        for audit_item_data in self.audit:
            audit_item = audit_item_data.to_dict()
            audit.append(audit_item)

        id = self.id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "audit": audit,
                "id": id,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.exported_audit_entry import ExportedAuditEntry  # noqa: PLC0415

        d = dict(src_dict)
        audit = []
        _audit = d.pop("audit")
        for audit_item_data in _audit:
            audit_item = ExportedAuditEntry.from_dict(audit_item_data)

            audit.append(audit_item)

        id = d.pop("id")

        exported_recurring_charge = cls(
            audit=audit,
            id=id,
        )

        exported_recurring_charge.additional_properties = d
        return exported_recurring_charge

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
