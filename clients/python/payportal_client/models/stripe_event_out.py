from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.stripe_event_out_outcome import StripeEventOutOutcome

T = TypeVar("T", bound="StripeEventOut")


@_attrs_define
class StripeEventOut:
    """
    Attributes:
        detail (None | str): why it was flagged or failed
        id (str): Stripe's event id
        object_id (str): the Stripe object it is about
        outcome (StripeEventOutOutcome): applied; no_change (already at that state); flagged (did not match what we
            recorded: nothing moved, replay once fixed); failed (processing raised: Stripe retries, or replay it)
        received_at (datetime.datetime): when it was last processed
        type_ (str):
    """

    detail: None | str
    id: str
    object_id: str
    outcome: StripeEventOutOutcome
    received_at: datetime.datetime
    type_: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        detail: None | str
        detail = self.detail

        id = self.id

        object_id = self.object_id

        outcome = self.outcome.value

        received_at = self.received_at.isoformat()

        type_ = self.type_

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "detail": detail,
                "id": id,
                "object_id": object_id,
                "outcome": outcome,
                "received_at": received_at,
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_detail(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        detail = _parse_detail(d.pop("detail"))

        id = d.pop("id")

        object_id = d.pop("object_id")

        outcome = StripeEventOutOutcome(d.pop("outcome"))

        received_at = datetime.datetime.fromisoformat(d.pop("received_at"))

        type_ = d.pop("type")

        stripe_event_out = cls(
            detail=detail,
            id=id,
            object_id=object_id,
            outcome=outcome,
            received_at=received_at,
            type_=type_,
        )

        stripe_event_out.additional_properties = d
        return stripe_event_out

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
