from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.import_out_format import ImportOutFormat
from ..models.import_out_status import ImportOutStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.rejected_row_out import RejectedRowOut


T = TypeVar("T", bound="ImportOut")


@_attrs_define
class ImportOut:
    """
    Attributes:
        created_at (datetime.datetime):
        format_ (ImportOutFormat):
        id (str):
        progress_percent (int):
        rejected_rows (list[RejectedRowOut]):
        rows_done (int):
        rows_imported (int): created by this import
        rows_rejected (int): stored already and different, or naming a customer that is not stored
        rows_skipped (int): stored already, identical: left as they are
        sha256 (str): of the file as sent (an uploaded file's: once checked)
        status (ImportOutStatus): an uploaded file is `checking` until the worker has read every row: then `invalid`
            (nothing written; `problem` says why and `rejected_rows` names each row at fault) or `queued`
        total_rows (int):
        problem (None | str | Unset): why an uploaded file did not pass the check
    """

    created_at: datetime.datetime
    format_: ImportOutFormat
    id: str
    progress_percent: int
    rejected_rows: list[RejectedRowOut]
    rows_done: int
    rows_imported: int
    rows_rejected: int
    rows_skipped: int
    sha256: str
    status: ImportOutStatus
    total_rows: int
    problem: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        format_ = self.format_.value

        id = self.id

        progress_percent = self.progress_percent

        rejected_rows = []
        for rejected_rows_item_data in self.rejected_rows:
            rejected_rows_item = rejected_rows_item_data.to_dict()
            rejected_rows.append(rejected_rows_item)

        rows_done = self.rows_done

        rows_imported = self.rows_imported

        rows_rejected = self.rows_rejected

        rows_skipped = self.rows_skipped

        sha256 = self.sha256

        status = self.status.value

        total_rows = self.total_rows

        problem: None | str | Unset
        if isinstance(self.problem, Unset):
            problem = UNSET
        else:
            problem = self.problem

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "format": format_,
                "id": id,
                "progress_percent": progress_percent,
                "rejected_rows": rejected_rows,
                "rows_done": rows_done,
                "rows_imported": rows_imported,
                "rows_rejected": rows_rejected,
                "rows_skipped": rows_skipped,
                "sha256": sha256,
                "status": status,
                "total_rows": total_rows,
            }
        )
        if problem is not UNSET:
            field_dict["problem"] = problem

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.rejected_row_out import RejectedRowOut  # noqa: PLC0415

        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        format_ = ImportOutFormat(d.pop("format"))

        id = d.pop("id")

        progress_percent = d.pop("progress_percent")

        rejected_rows = []
        _rejected_rows = d.pop("rejected_rows")
        for rejected_rows_item_data in _rejected_rows:
            rejected_rows_item = RejectedRowOut.from_dict(rejected_rows_item_data)

            rejected_rows.append(rejected_rows_item)

        rows_done = d.pop("rows_done")

        rows_imported = d.pop("rows_imported")

        rows_rejected = d.pop("rows_rejected")

        rows_skipped = d.pop("rows_skipped")

        sha256 = d.pop("sha256")

        status = ImportOutStatus(d.pop("status"))

        total_rows = d.pop("total_rows")

        def _parse_problem(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        problem = _parse_problem(d.pop("problem", UNSET))

        import_out = cls(
            created_at=created_at,
            format_=format_,
            id=id,
            progress_percent=progress_percent,
            rejected_rows=rejected_rows,
            rows_done=rows_done,
            rows_imported=rows_imported,
            rows_rejected=rows_rejected,
            rows_skipped=rows_skipped,
            sha256=sha256,
            status=status,
            total_rows=total_rows,
            problem=problem,
        )

        import_out.additional_properties = d
        return import_out

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
