from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.replay_out_outcome import ReplayOutOutcome
from ..types import UNSET, Unset

T = TypeVar("T", bound="ReplayOut")


@_attrs_define
class ReplayOut:
    """
    Attributes:
        id (str):
        outcome (ReplayOutOutcome): what the replay did; duplicate_event: it was applied before, and nothing changed;
            retry_later: it is about a payment whose success is not recorded yet (replay that event first), nothing was kept
        type_ (str):
        previous_outcome (None | str | Unset): what was kept of it before (null: it never reached us)
    """

    id: str
    outcome: ReplayOutOutcome
    type_: str
    previous_outcome: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        outcome = self.outcome.value

        type_ = self.type_

        previous_outcome: None | str | Unset
        if isinstance(self.previous_outcome, Unset):
            previous_outcome = UNSET
        else:
            previous_outcome = self.previous_outcome

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "outcome": outcome,
                "type": type_,
            }
        )
        if previous_outcome is not UNSET:
            field_dict["previous_outcome"] = previous_outcome

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        outcome = ReplayOutOutcome(d.pop("outcome"))

        type_ = d.pop("type")

        def _parse_previous_outcome(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        previous_outcome = _parse_previous_outcome(d.pop("previous_outcome", UNSET))

        replay_out = cls(
            id=id,
            outcome=outcome,
            type_=type_,
            previous_outcome=previous_outcome,
        )

        replay_out.additional_properties = d
        return replay_out

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
