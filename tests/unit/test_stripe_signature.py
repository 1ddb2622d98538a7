"""Webhook signatures: Stripe's scheme, 300 s tolerance both ways, rotation-friendly."""

import pytest

from shared.adapters.stripe_signature import SignatureError, sign, verify

BODY = b'{"id":"evt_1","type":"checkout.session.completed"}'
NOW = 1_800_000_000


def test_a_fresh_correct_signature_passes() -> None:
    verify(BODY, sign(BODY, "whsec_a", NOW), ("whsec_a",), now=NOW)


def test_the_previous_secret_still_works_during_a_rotation() -> None:
    verify(BODY, sign(BODY, "whsec_old", NOW), ("whsec_new", "whsec_old"), now=NOW)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        "t=abc,v1=00",
        f"t={NOW}",
        sign(BODY, "whsec_wrong", NOW),
        sign(BODY, "whsec_a", NOW - 301),
        sign(BODY, "whsec_a", NOW + 301),
        sign(BODY + b" ", "whsec_a", NOW),
    ],
)
def test_missing_malformed_stale_or_wrong_signatures_fail(header: str | None) -> None:
    with pytest.raises(SignatureError):
        verify(BODY, header, ("whsec_a",), now=NOW)


def test_tolerance_is_inclusive_at_300_seconds() -> None:
    verify(BODY, sign(BODY, "whsec_a", NOW - 300), ("whsec_a",), now=NOW)
    verify(BODY, sign(BODY, "whsec_a", NOW + 300), ("whsec_a",), now=NOW)
