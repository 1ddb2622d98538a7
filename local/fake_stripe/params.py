"""Reading request parameters as Stripe does: the SDK's form encoding (`a[b][0]=x`), and the checks every
endpoint applies to a string, an integer, a currency or metadata, failing with Stripe's errors."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from local.fake_stripe.errors import StripeApiError

MAX_AMOUNT = 99_999_999  # Stripe's ceiling for a card payment, in minor units


# -- the SDK's form encoding -------------------------------------------------------------------------------


def unflatten(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """`a[b][0][c]=x` pairs (how stripe-python encodes params) into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = _key_parts(key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise StripeApiError(400, f"Invalid parameter: {key}", param=key)
        last = parts[-1]
        if last == "":  # `a[]=x`: an unindexed list item
            node[str(len(node))] = value
        else:
            node[last] = value
    return _lists_from_indexed_dicts(root)


def _key_parts(key: str) -> list[str]:
    head, _, rest = key.partition("[")
    return [head, *re.findall(r"([^\[\]]*)\]", "[" + rest)] if rest else [head]


def _lists_from_indexed_dicts(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {k: _lists_from_indexed_dicts(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


# -- parameters ------------------------------------------------------------------------------------------


def required_str(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise StripeApiError(400, f"Missing required param: {name}.", code="parameter_missing", param=name)
    return value


def optional_str(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise StripeApiError(400, f"Invalid string: {name}", param=name)
    return value


def dict_param(params: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = params.get(name) or {}
    if not isinstance(value, dict):
        raise StripeApiError(400, f"Invalid object: {name}", param=name)
    return value


def integer_param(value: Any, param: str, *, minimum: int) -> int:
    if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
        raise StripeApiError(400, f"Invalid integer: {value}", param=param)
    number = int(value)
    if number < minimum:
        raise StripeApiError(400, f"Invalid {param}: must be at least {minimum}", param=param)
    return number


def currency_param(value: Any, param: str, *, required: bool) -> str | None:
    if value is None or value == "":
        if required:
            raise StripeApiError(400, f"Missing required param: {param}.", code="parameter_missing", param=param)
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{3}", value):
        raise StripeApiError(400, f"Invalid currency: {value}", param=param)
    return value.lower()


def metadata_param(value: Any, param: str) -> dict[str, str]:
    if value is None or value == "":
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise StripeApiError(400, f"Invalid object: {param}", param=param)
    # Stripe drops keys sent with an empty value ("unset").
    return {k: v for k, v in value.items() if v != ""}
