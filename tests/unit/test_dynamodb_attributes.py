"""Our DynamoDB attribute codec agrees with boto3's on everything our items hold."""

from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from hypothesis import given
from hypothesis import strategies as st

from shared.adapters.dynamodb.codec import from_attribute, to_attribute

values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**15), 10**15) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(min_size=1, max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def _without_none_in_maps(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_none_in_maps(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none_in_maps(v) for v in value]
    return value


@given(values)
def test_round_trip_matches_boto3(value: Any) -> None:
    expected = _without_none_in_maps(value)
    assert from_attribute(to_attribute(value)) == expected
    assert to_attribute(expected) == TypeSerializer().serialize(expected)
    assert from_attribute(TypeSerializer().serialize(expected)) == TypeDeserializer().deserialize(
        TypeSerializer().serialize(expected)
    )


def test_floats_are_refused() -> None:
    import pytest

    with pytest.raises(TypeError):
        to_attribute(12.5)
