from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="CollectionsFigures")


@_attrs_define
class CollectionsFigures:
    """docs/reports.md defines each; null when there is nothing to measure it on (e.g. no invoice paid).

    Attributes:
        average_days_delinquent (float | None):
        average_days_to_pay (float | None):
        best_possible_dso (float | None):
        collection_effectiveness_index (float | None): percent
        collection_rate (float | None): a share, 0 to 1
        dso (float): days sales outstanding, countback method
        offsession_first_attempt_failure_rate (float | None):
        offsession_recovery_rate (float | None):
        paid_on_time_share (float | None):
        promises_kept_share (float | None):
    """

    average_days_delinquent: float | None
    average_days_to_pay: float | None
    best_possible_dso: float | None
    collection_effectiveness_index: float | None
    collection_rate: float | None
    dso: float
    offsession_first_attempt_failure_rate: float | None
    offsession_recovery_rate: float | None
    paid_on_time_share: float | None
    promises_kept_share: float | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        average_days_delinquent: float | None
        average_days_delinquent = self.average_days_delinquent

        average_days_to_pay: float | None
        average_days_to_pay = self.average_days_to_pay

        best_possible_dso: float | None
        best_possible_dso = self.best_possible_dso

        collection_effectiveness_index: float | None
        collection_effectiveness_index = self.collection_effectiveness_index

        collection_rate: float | None
        collection_rate = self.collection_rate

        dso = self.dso

        offsession_first_attempt_failure_rate: float | None
        offsession_first_attempt_failure_rate = self.offsession_first_attempt_failure_rate

        offsession_recovery_rate: float | None
        offsession_recovery_rate = self.offsession_recovery_rate

        paid_on_time_share: float | None
        paid_on_time_share = self.paid_on_time_share

        promises_kept_share: float | None
        promises_kept_share = self.promises_kept_share

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "average_days_delinquent": average_days_delinquent,
                "average_days_to_pay": average_days_to_pay,
                "best_possible_dso": best_possible_dso,
                "collection_effectiveness_index": collection_effectiveness_index,
                "collection_rate": collection_rate,
                "dso": dso,
                "offsession_first_attempt_failure_rate": offsession_first_attempt_failure_rate,
                "offsession_recovery_rate": offsession_recovery_rate,
                "paid_on_time_share": paid_on_time_share,
                "promises_kept_share": promises_kept_share,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_average_days_delinquent(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        average_days_delinquent = _parse_average_days_delinquent(d.pop("average_days_delinquent"))

        def _parse_average_days_to_pay(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        average_days_to_pay = _parse_average_days_to_pay(d.pop("average_days_to_pay"))

        def _parse_best_possible_dso(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        best_possible_dso = _parse_best_possible_dso(d.pop("best_possible_dso"))

        def _parse_collection_effectiveness_index(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        collection_effectiveness_index = _parse_collection_effectiveness_index(d.pop("collection_effectiveness_index"))

        def _parse_collection_rate(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        collection_rate = _parse_collection_rate(d.pop("collection_rate"))

        dso = d.pop("dso")

        def _parse_offsession_first_attempt_failure_rate(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        offsession_first_attempt_failure_rate = _parse_offsession_first_attempt_failure_rate(
            d.pop("offsession_first_attempt_failure_rate")
        )

        def _parse_offsession_recovery_rate(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        offsession_recovery_rate = _parse_offsession_recovery_rate(d.pop("offsession_recovery_rate"))

        def _parse_paid_on_time_share(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        paid_on_time_share = _parse_paid_on_time_share(d.pop("paid_on_time_share"))

        def _parse_promises_kept_share(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        promises_kept_share = _parse_promises_kept_share(d.pop("promises_kept_share"))

        collections_figures = cls(
            average_days_delinquent=average_days_delinquent,
            average_days_to_pay=average_days_to_pay,
            best_possible_dso=best_possible_dso,
            collection_effectiveness_index=collection_effectiveness_index,
            collection_rate=collection_rate,
            dso=dso,
            offsession_first_attempt_failure_rate=offsession_first_attempt_failure_rate,
            offsession_recovery_rate=offsession_recovery_rate,
            paid_on_time_share=paid_on_time_share,
            promises_kept_share=promises_kept_share,
        )

        collections_figures.additional_properties = d
        return collections_figures

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
