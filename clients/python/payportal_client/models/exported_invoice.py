from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.exported_audit_entry import ExportedAuditEntry
    from ..models.exported_invoice_checkout_attempts_item import (
        ExportedInvoiceCheckoutAttemptsItem,
    )
    from ..models.exported_invoice_disputes_item import ExportedInvoiceDisputesItem
    from ..models.exported_invoice_payments_item import ExportedInvoicePaymentsItem
    from ..models.exported_invoice_plans_item import ExportedInvoicePlansItem
    from ..models.exported_invoice_reminders_opened_item import (
        ExportedInvoiceRemindersOpenedItem,
    )


T = TypeVar("T", bound="ExportedInvoice")


@_attrs_define
class ExportedInvoice:
    """
    Attributes:
        audit (list[ExportedAuditEntry]):
        checkout_attempts (list[ExportedInvoiceCheckoutAttemptsItem]):
        currency (str):
        disputes (list[ExportedInvoiceDisputesItem]):
        id (str):
        number (str):
        payments (list[ExportedInvoicePaymentsItem]): each with its refunds; amounts in minor units
        plans (list[ExportedInvoicePlansItem]):
        reminders_opened (list[ExportedInvoiceRemindersOpenedItem]):
    """

    audit: list[ExportedAuditEntry]
    checkout_attempts: list[ExportedInvoiceCheckoutAttemptsItem]
    currency: str
    disputes: list[ExportedInvoiceDisputesItem]
    id: str
    number: str
    payments: list[ExportedInvoicePaymentsItem]
    plans: list[ExportedInvoicePlansItem]
    reminders_opened: list[ExportedInvoiceRemindersOpenedItem]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        audit = []
        for audit_item_data in self.audit:
            audit_item = audit_item_data.to_dict()
            audit.append(audit_item)

        checkout_attempts = []
        for checkout_attempts_item_data in self.checkout_attempts:
            checkout_attempts_item = checkout_attempts_item_data.to_dict()
            checkout_attempts.append(checkout_attempts_item)

        currency = self.currency

        disputes = []
        for disputes_item_data in self.disputes:
            disputes_item = disputes_item_data.to_dict()
            disputes.append(disputes_item)

        id = self.id

        number = self.number

        payments = []
        for payments_item_data in self.payments:
            payments_item = payments_item_data.to_dict()
            payments.append(payments_item)

        plans = []
        for plans_item_data in self.plans:
            plans_item = plans_item_data.to_dict()
            plans.append(plans_item)

        reminders_opened = []
        for reminders_opened_item_data in self.reminders_opened:
            reminders_opened_item = reminders_opened_item_data.to_dict()
            reminders_opened.append(reminders_opened_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "audit": audit,
                "checkout_attempts": checkout_attempts,
                "currency": currency,
                "disputes": disputes,
                "id": id,
                "number": number,
                "payments": payments,
                "plans": plans,
                "reminders_opened": reminders_opened,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.exported_audit_entry import ExportedAuditEntry  # noqa: PLC0415
        from ..models.exported_invoice_checkout_attempts_item import (
            ExportedInvoiceCheckoutAttemptsItem,  # noqa: PLC0415
        )
        from ..models.exported_invoice_disputes_item import ExportedInvoiceDisputesItem  # noqa: PLC0415
        from ..models.exported_invoice_payments_item import ExportedInvoicePaymentsItem  # noqa: PLC0415
        from ..models.exported_invoice_plans_item import ExportedInvoicePlansItem  # noqa: PLC0415
        from ..models.exported_invoice_reminders_opened_item import (
            ExportedInvoiceRemindersOpenedItem,  # noqa: PLC0415
        )

        d = dict(src_dict)
        audit = []
        _audit = d.pop("audit")
        for audit_item_data in _audit:
            audit_item = ExportedAuditEntry.from_dict(audit_item_data)

            audit.append(audit_item)

        checkout_attempts = []
        _checkout_attempts = d.pop("checkout_attempts")
        for checkout_attempts_item_data in _checkout_attempts:
            checkout_attempts_item = ExportedInvoiceCheckoutAttemptsItem.from_dict(checkout_attempts_item_data)

            checkout_attempts.append(checkout_attempts_item)

        currency = d.pop("currency")

        disputes = []
        _disputes = d.pop("disputes")
        for disputes_item_data in _disputes:
            disputes_item = ExportedInvoiceDisputesItem.from_dict(disputes_item_data)

            disputes.append(disputes_item)

        id = d.pop("id")

        number = d.pop("number")

        payments = []
        _payments = d.pop("payments")
        for payments_item_data in _payments:
            payments_item = ExportedInvoicePaymentsItem.from_dict(payments_item_data)

            payments.append(payments_item)

        plans = []
        _plans = d.pop("plans")
        for plans_item_data in _plans:
            plans_item = ExportedInvoicePlansItem.from_dict(plans_item_data)

            plans.append(plans_item)

        reminders_opened = []
        _reminders_opened = d.pop("reminders_opened")
        for reminders_opened_item_data in _reminders_opened:
            reminders_opened_item = ExportedInvoiceRemindersOpenedItem.from_dict(reminders_opened_item_data)

            reminders_opened.append(reminders_opened_item)

        exported_invoice = cls(
            audit=audit,
            checkout_attempts=checkout_attempts,
            currency=currency,
            disputes=disputes,
            id=id,
            number=number,
            payments=payments,
            plans=plans,
            reminders_opened=reminders_opened,
        )

        exported_invoice.additional_properties = d
        return exported_invoice

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
