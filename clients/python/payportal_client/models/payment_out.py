from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.payment_out_status import PaymentOutStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.fee_out import FeeOut
    from ..models.offline_receipt_out import OfflineReceiptOut
    from ..models.refund_out import RefundOut
    from ..models.reminder_out import ReminderOut


T = TypeVar("T", bound="PaymentOut")


@_attrs_define
class PaymentOut:
    """
    Attributes:
        amount (int):
        created_at (datetime.datetime):
        currency (str):
        id (str):
        invoice_id (str):
        status (PaymentOutStatus):
        updated_at (datetime.datetime):
        amount_refunded (int | Unset): refunds pending or succeeded, as Stripe's charge counts them Default: 0.
        failure_reason (None | str | Unset):
        fee (FeeOut | None | Unset): Stripe's fee on the payment's charge, once reconciliation has read it (within the
            hour after the payment); null: not known (yet), or an offline payment
        offline (None | OfflineReceiptOut | Unset): money received outside Stripe, recorded with POST
            /v1/invoices/{id}/payments
        refunds (list[RefundOut] | Unset): oldest first
        reminder (None | ReminderOut | Unset): the reminder whose pay link opened the Checkout Session that took this
            payment; null: none
    """

    amount: int
    created_at: datetime.datetime
    currency: str
    id: str
    invoice_id: str
    status: PaymentOutStatus
    updated_at: datetime.datetime
    amount_refunded: int | Unset = 0
    failure_reason: None | str | Unset = UNSET
    fee: FeeOut | None | Unset = UNSET
    offline: None | OfflineReceiptOut | Unset = UNSET
    refunds: list[RefundOut] | Unset = UNSET
    reminder: None | ReminderOut | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.fee_out import FeeOut  # noqa: PLC0415
        from ..models.offline_receipt_out import OfflineReceiptOut  # noqa: PLC0415
        from ..models.reminder_out import ReminderOut  # noqa: PLC0415

        amount = self.amount

        created_at = self.created_at.isoformat()

        currency = self.currency

        id = self.id

        invoice_id = self.invoice_id

        status = self.status.value

        updated_at = self.updated_at.isoformat()

        amount_refunded = self.amount_refunded

        failure_reason: None | str | Unset
        if isinstance(self.failure_reason, Unset):
            failure_reason = UNSET
        else:
            failure_reason = self.failure_reason

        fee: dict[str, Any] | None | Unset
        if isinstance(self.fee, Unset):
            fee = UNSET
        elif isinstance(self.fee, FeeOut):
            fee = self.fee.to_dict()
        else:
            fee = self.fee

        offline: dict[str, Any] | None | Unset
        if isinstance(self.offline, Unset):
            offline = UNSET
        elif isinstance(self.offline, OfflineReceiptOut):
            offline = self.offline.to_dict()
        else:
            offline = self.offline

        refunds: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.refunds, Unset):
            refunds = []
            for refunds_item_data in self.refunds:
                refunds_item = refunds_item_data.to_dict()
                refunds.append(refunds_item)

        reminder: dict[str, Any] | None | Unset
        if isinstance(self.reminder, Unset):
            reminder = UNSET
        elif isinstance(self.reminder, ReminderOut):
            reminder = self.reminder.to_dict()
        else:
            reminder = self.reminder

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "amount": amount,
                "created_at": created_at,
                "currency": currency,
                "id": id,
                "invoice_id": invoice_id,
                "status": status,
                "updated_at": updated_at,
            }
        )
        if amount_refunded is not UNSET:
            field_dict["amount_refunded"] = amount_refunded
        if failure_reason is not UNSET:
            field_dict["failure_reason"] = failure_reason
        if fee is not UNSET:
            field_dict["fee"] = fee
        if offline is not UNSET:
            field_dict["offline"] = offline
        if refunds is not UNSET:
            field_dict["refunds"] = refunds
        if reminder is not UNSET:
            field_dict["reminder"] = reminder

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.fee_out import FeeOut  # noqa: PLC0415
        from ..models.offline_receipt_out import OfflineReceiptOut  # noqa: PLC0415
        from ..models.refund_out import RefundOut  # noqa: PLC0415
        from ..models.reminder_out import ReminderOut  # noqa: PLC0415

        d = dict(src_dict)
        amount = d.pop("amount")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        currency = d.pop("currency")

        id = d.pop("id")

        invoice_id = d.pop("invoice_id")

        status = PaymentOutStatus(d.pop("status"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        amount_refunded = d.pop("amount_refunded", UNSET)

        def _parse_failure_reason(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        failure_reason = _parse_failure_reason(d.pop("failure_reason", UNSET))

        def _parse_fee(data: object) -> FeeOut | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                fee_type_0 = FeeOut.from_dict(data)

                return fee_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(FeeOut | None | Unset, data)

        fee = _parse_fee(d.pop("fee", UNSET))

        def _parse_offline(data: object) -> None | OfflineReceiptOut | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                offline_type_0 = OfflineReceiptOut.from_dict(data)

                return offline_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | OfflineReceiptOut | Unset, data)

        offline = _parse_offline(d.pop("offline", UNSET))

        _refunds = d.pop("refunds", UNSET)
        refunds: list[RefundOut] | Unset = UNSET
        if _refunds is not UNSET:
            refunds = []
            for refunds_item_data in _refunds:
                refunds_item = RefundOut.from_dict(refunds_item_data)

                refunds.append(refunds_item)

        def _parse_reminder(data: object) -> None | ReminderOut | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                reminder_type_0 = ReminderOut.from_dict(data)

                return reminder_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ReminderOut | Unset, data)

        reminder = _parse_reminder(d.pop("reminder", UNSET))

        payment_out = cls(
            amount=amount,
            created_at=created_at,
            currency=currency,
            id=id,
            invoice_id=invoice_id,
            status=status,
            updated_at=updated_at,
            amount_refunded=amount_refunded,
            failure_reason=failure_reason,
            fee=fee,
            offline=offline,
            refunds=refunds,
            reminder=reminder,
        )

        payment_out.additional_properties = d
        return payment_out

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
