"""DynamoDB's attribute-value wire format <-> Python, for the few types our items hold.

Written here, not taken from boto3.dynamodb.types, because importing that loads all of boto3
(docs/decisions.md, 9); tests/unit/test_dynamodb_attributes.py holds it equal to boto3's.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from shared import schema


def to_attribute(value: Any) -> dict[str, Any]:
    """One value in DynamoDB's wire format. Money is an int; a float is refused."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int | Decimal):
        return {"N": str(value)}
    if isinstance(value, dict):
        return {"M": {k: to_attribute(v) for k, v in value.items() if v is not None}}
    if isinstance(value, list | tuple):
        return {"L": [to_attribute(v) for v in value]}
    if value is None:
        return {"NULL": True}
    raise TypeError(f"cannot store a {type(value).__name__} in DynamoDB (money is an int, never a float)")


def from_attribute(attribute: dict[str, Any]) -> Any:
    """One wire-format value as Python: whole numbers as int, others as Decimal."""
    kind, value = next(iter(attribute.items()))
    if kind == "S":
        return value
    if kind == "N":
        number = Decimal(value)
        return int(number) if number == number.to_integral_value() else number
    if kind == "BOOL":
        return bool(value)
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: from_attribute(v) for k, v in value.items()}
    if kind == "L":
        return [from_attribute(v) for v in value]
    if kind == "SS":
        return set(value)
    if kind == "B":
        return value
    raise TypeError(f"unexpected DynamoDB type {kind}")


def serialize(item: dict[str, Any]) -> dict[str, Any]:
    """A whole item (or a set of expression values) in wire format; None attributes are left out."""
    return {k: to_attribute(v) for k, v in item.items() if v is not None}


def deserialize(item: dict[str, Any]) -> dict[str, Any]:
    """A whole wire-format item as a dict of Python values."""
    return {k: from_attribute(v) for k, v in item.items()}


def wire_key(pk: str, sk: str) -> dict[str, Any]:
    """The table key of one item in wire format."""
    return {schema.PARTITION_KEY: {"S": pk}, schema.SORT_KEY: {"S": sk}}
