from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.customer_export_customer import CustomerExportCustomer
    from ..models.exported_audit_entry import ExportedAuditEntry
    from ..models.exported_email import ExportedEmail
    from ..models.exported_invoice import ExportedInvoice
    from ..models.exported_recurring_charge import ExportedRecurringCharge


T = TypeVar("T", bound="CustomerExport")


@_attrs_define
class CustomerExport:
    """Everything payportal holds about one customer (GET /v1/customers/{id}/export). Records are as stored:
    amounts in minor units with their currency, instants in ISO 8601 UTC; each invoice carries its holds,
    promises, late fees and credit notes as fields, and its partition's records as lists.

        Attributes:
            audit (list[ExportedAuditEntry]): the customer record's trail, with the reads of it
            customer (CustomerExportCustomer): the customer record: name, email, external id, locale, ...
            emails_sent (list[ExportedEmail]):
            format_version (int):
            generated_at (datetime.datetime):
            invoices (list[ExportedInvoice]):
            recurring_charges (list[ExportedRecurringCharge]):
    """

    audit: list[ExportedAuditEntry]
    customer: CustomerExportCustomer
    emails_sent: list[ExportedEmail]
    format_version: int
    generated_at: datetime.datetime
    invoices: list[ExportedInvoice]
    recurring_charges: list[ExportedRecurringCharge]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        audit = []
        for audit_item_data in self.audit:
            audit_item = audit_item_data.to_dict()
            audit.append(audit_item)

        customer = self.customer.to_dict()

        emails_sent = []
        for emails_sent_item_data in self.emails_sent:
            emails_sent_item = emails_sent_item_data.to_dict()
            emails_sent.append(emails_sent_item)

        format_version = self.format_version

        generated_at = self.generated_at.isoformat()

        invoices = []
        for invoices_item_data in self.invoices:
            invoices_item = invoices_item_data.to_dict()
            invoices.append(invoices_item)

        recurring_charges = []
        for recurring_charges_item_data in self.recurring_charges:
            recurring_charges_item = recurring_charges_item_data.to_dict()
            recurring_charges.append(recurring_charges_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "audit": audit,
                "customer": customer,
                "emails_sent": emails_sent,
                "format_version": format_version,
                "generated_at": generated_at,
                "invoices": invoices,
                "recurring_charges": recurring_charges,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.customer_export_customer import CustomerExportCustomer  # noqa: PLC0415
        from ..models.exported_audit_entry import ExportedAuditEntry  # noqa: PLC0415
        from ..models.exported_email import ExportedEmail  # noqa: PLC0415
        from ..models.exported_invoice import ExportedInvoice  # noqa: PLC0415
        from ..models.exported_recurring_charge import ExportedRecurringCharge  # noqa: PLC0415

        d = dict(src_dict)
        audit = []
        _audit = d.pop("audit")
        for audit_item_data in _audit:
            audit_item = ExportedAuditEntry.from_dict(audit_item_data)

            audit.append(audit_item)

        customer = CustomerExportCustomer.from_dict(d.pop("customer"))

        emails_sent = []
        _emails_sent = d.pop("emails_sent")
        for emails_sent_item_data in _emails_sent:
            emails_sent_item = ExportedEmail.from_dict(emails_sent_item_data)

            emails_sent.append(emails_sent_item)

        format_version = d.pop("format_version")

        generated_at = datetime.datetime.fromisoformat(d.pop("generated_at"))

        invoices = []
        _invoices = d.pop("invoices")
        for invoices_item_data in _invoices:
            invoices_item = ExportedInvoice.from_dict(invoices_item_data)

            invoices.append(invoices_item)

        recurring_charges = []
        _recurring_charges = d.pop("recurring_charges")
        for recurring_charges_item_data in _recurring_charges:
            recurring_charges_item = ExportedRecurringCharge.from_dict(recurring_charges_item_data)

            recurring_charges.append(recurring_charges_item)

        customer_export = cls(
            audit=audit,
            customer=customer,
            emails_sent=emails_sent,
            format_version=format_version,
            generated_at=generated_at,
            invoices=invoices,
            recurring_charges=recurring_charges,
        )

        customer_export.additional_properties = d
        return customer_export

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
