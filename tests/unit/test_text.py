"""Free text loses its bidi controls and nothing else."""

from hypothesis import given
from hypothesis import strategies as st

from shared.domain.text import BIDI_CONTROLS, has_bidi_controls, strip_bidi_controls


def test_every_control_the_issue_names_is_taken_out() -> None:
    named = [*map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A)), "\u200e", "\u200f", "\u061c"]
    assert set(named) == BIDI_CONTROLS
    assert strip_bidi_controls("Invoice \u202eexe.FDP" + "".join(named)) == "Invoice exe.FDP"


@given(st.text())
def test_only_the_controls_go(text: str) -> None:
    stripped = strip_bidi_controls(text)
    assert not has_bidi_controls(stripped)
    assert stripped == "".join(ch for ch in text if ch not in BIDI_CONTROLS)
