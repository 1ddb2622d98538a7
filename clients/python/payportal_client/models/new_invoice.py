from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.plan_offer_model import PlanOfferModel


T = TypeVar("T", bound="NewInvoice")


@_attrs_define
class NewInvoice:
    """
    Attributes:
        amount_due (int): integer in the currency's minor unit
        currency (str):
        customer_id (str):
        due_date (datetime.date):
        number (str):
        allow_partial (bool | Unset):  Default: False.
        description (str | Unset):  Default: ''.
        installments (None | PlanOfferModel | Unset): let the customer pay in installments on the pay page (first one on
            Checkout)
        min_partial_amount (int | None | Unset):
        notify (bool | Unset): email the pay link to the customer Default: False.
    """

    amount_due: int
    currency: str
    customer_id: str
    due_date: datetime.date
    number: str
    allow_partial: bool | Unset = False
    description: str | Unset = ""
    installments: None | PlanOfferModel | Unset = UNSET
    min_partial_amount: int | None | Unset = UNSET
    notify: bool | Unset = False

    def to_dict(self) -> dict[str, Any]:
        from ..models.plan_offer_model import PlanOfferModel  # noqa: PLC0415

        amount_due = self.amount_due

        currency = self.currency

        customer_id = self.customer_id

        due_date = self.due_date.isoformat()

        number = self.number

        allow_partial = self.allow_partial

        description = self.description

        installments: dict[str, Any] | None | Unset
        if isinstance(self.installments, Unset):
            installments = UNSET
        elif isinstance(self.installments, PlanOfferModel):
            installments = self.installments.to_dict()
        else:
            installments = self.installments

        min_partial_amount: int | None | Unset
        if isinstance(self.min_partial_amount, Unset):
            min_partial_amount = UNSET
        else:
            min_partial_amount = self.min_partial_amount

        notify = self.notify

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "amount_due": amount_due,
                "currency": currency,
                "customer_id": customer_id,
                "due_date": due_date,
                "number": number,
            }
        )
        if allow_partial is not UNSET:
            field_dict["allow_partial"] = allow_partial
        if description is not UNSET:
            field_dict["description"] = description
        if installments is not UNSET:
            field_dict["installments"] = installments
        if min_partial_amount is not UNSET:
            field_dict["min_partial_amount"] = min_partial_amount
        if notify is not UNSET:
            field_dict["notify"] = notify

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.plan_offer_model import PlanOfferModel  # noqa: PLC0415

        d = dict(src_dict)
        amount_due = d.pop("amount_due")

        currency = d.pop("currency")

        customer_id = d.pop("customer_id")

        due_date = datetime.date.fromisoformat(d.pop("due_date"))

        number = d.pop("number")

        allow_partial = d.pop("allow_partial", UNSET)

        description = d.pop("description", UNSET)

        def _parse_installments(data: object) -> None | PlanOfferModel | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                installments_type_0 = PlanOfferModel.from_dict(data)

                return installments_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PlanOfferModel | Unset, data)

        installments = _parse_installments(d.pop("installments", UNSET))

        def _parse_min_partial_amount(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        min_partial_amount = _parse_min_partial_amount(d.pop("min_partial_amount", UNSET))

        notify = d.pop("notify", UNSET)

        new_invoice = cls(
            amount_due=amount_due,
            currency=currency,
            customer_id=customer_id,
            due_date=due_date,
            number=number,
            allow_partial=allow_partial,
            description=description,
            installments=installments,
            min_partial_amount=min_partial_amount,
            notify=notify,
        )

        return new_invoice
