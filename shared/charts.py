"""Charts as inline SVG, drawn on the server: the console's reports need no script and nothing from elsewhere.

Two shapes, each small enough to read at a glance (docs/decisions.md, entry 73, says why no library):
- `bar_chart`: horizontal bars in groups (an aging bucket, a dunning step), one bar per series in each.
- `column_chart`: one value per period (a KPI per month), a gap where a period has no value.

Values are integers (minor units, counts) or floats (ratios, days); they only place bars, so floats are
fine here, and every figure a reader sees is the `text` the caller formatted exactly. Bars are proportional
to the values from a zero baseline (negative values extend to the other side of it). Every chart is
`role="img"` named by its <title> and described by its <desc>; the page's table is its accessible twin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Final

WIDTH: Final = 360  # the viewBox: about a phone's width, so text stays legible when the chart is scaled down
LABEL_WIDTH: Final = 100
VALUE_WIDTH: Final = 116
ROW: Final = 22  # one bar's row
GAP: Final = 8  # between groups
COLUMN_HEIGHT: Final = 120  # the plot area of a column chart
FONT: Final = 11
# Each series' colour, all at least 4.5:1 against white; series are also named in each bar's text.
PALETTE: Final = ("#0b57d0", "#1e7e34", "#8e24aa", "#b3261e")


@dataclass(frozen=True, slots=True)
class Bar:
    value: int | float
    text: str  # what the reader sees for it: "$1,234.56", "sent 12"


@dataclass(frozen=True, slots=True)
class Group:
    label: str  # "1-30 days", "+3:overdue"
    bars: tuple[Bar, ...]  # one per series, in the series' order


@dataclass(frozen=True, slots=True)
class Column:
    label: str  # "Mar"
    value: int | float | None  # None: nothing to measure in that period (a gap, said in the text)
    text: str


def _attr(text: str) -> str:
    return escape(text, quote=True)


def _open(chart_id: str, title: str, desc: str, height: float) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {_n(height)}"'
        f' aria-labelledby="{_attr(chart_id)}-title {_attr(chart_id)}-desc" id="{_attr(chart_id)}">',
        f'<title id="{_attr(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{_attr(chart_id)}-desc">{escape(desc)}</desc>',
    ]


def _n(number: float) -> str:
    """A coordinate: two decimals at most, no trailing zeros (a float is fine for a pixel)."""
    return f"{number:.2f}".rstrip("0").rstrip(".")


def _scale(values: Sequence[int | float], length: float) -> tuple[float, float]:
    """(where zero is, pixels per unit) along an axis of `length`: the range covers zero and every value."""
    low, high = min([0, *values]), max([0, *values])
    if high == low:
        return 0.0, 0.0
    per_unit = length / (high - low)
    return -low * per_unit, per_unit


def bar_chart(chart_id: str, title: str, desc: str, groups: Sequence[Group], *, empty: str = "No data") -> str:
    """Horizontal bars: each group's label on the left, its bars (one per series), each bar's text on the right."""
    rows = sum(max(1, len(group.bars)) for group in groups)
    height = max(ROW, rows * ROW + max(0, len(groups) - 1) * GAP) + 4
    parts = _open(chart_id, title, desc, height)
    values = [bar.value for group in groups for bar in group.bars]
    if not values:
        parts.append(
            f'<text x="{_n(WIDTH / 2)}" y="{ROW - 6}" text-anchor="middle" font-size="{FONT}">{escape(empty)}</text>'
        )
        return "".join([*parts, "</svg>"])
    area = WIDTH - LABEL_WIDTH - VALUE_WIDTH - 8
    zero, per_unit = _scale(values, area)
    x0 = LABEL_WIDTH + 4 + zero
    y = 2.0
    for group in groups:
        parts.append(
            f'<text x="{LABEL_WIDTH}" y="{_n(y + ROW - 7)}" text-anchor="end" font-size="{FONT}">'
            f"{escape(group.label)}</text>"
        )
        for series, bar in enumerate(group.bars):
            length = abs(bar.value) * per_unit
            left = x0 if bar.value >= 0 else x0 - length
            parts.append(
                f'<rect x="{_n(left + 4)}" y="{_n(y + 4)}" width="{_n(length)}" height="{ROW - 8}"'
                f' fill="{PALETTE[series % len(PALETTE)]}"><title>{escape(f"{group.label}: {bar.text}")}</title></rect>'
            )
            parts.append(
                f'<text x="{WIDTH - 2}" y="{_n(y + ROW - 7)}" text-anchor="end" font-size="{FONT}">'
                f"{escape(bar.text)}</text>"
            )
            y += ROW
        y += GAP
    if zero:  # a baseline where negative bars start
        parts.append(f'<line x1="{_n(x0 + 4)}" x2="{_n(x0 + 4)}" y1="0" y2="{_n(height)}" stroke="#5f6368"/>')
    return "".join([*parts, "</svg>"])


def column_chart(chart_id: str, title: str, desc: str, columns: Sequence[Column]) -> str:
    """One column per period from a zero baseline, its label below; a period without a value has none."""
    height = COLUMN_HEIGHT + 2 * FONT + 12
    parts = _open(chart_id, title, desc, height)
    known = [c.value for c in columns if c.value is not None]
    top = FONT + 4  # room for the highest column's text
    zero, per_unit = _scale(known, COLUMN_HEIGHT - top)
    baseline = COLUMN_HEIGHT - zero
    slot = WIDTH / max(1, len(columns))
    for n, column in enumerate(columns):
        middle = slot * n + slot / 2
        parts.append(
            f'<text x="{_n(middle)}" y="{_n(height - 4)}" text-anchor="middle" font-size="{FONT - 1}">'
            f"{escape(column.label)}</text>"
        )
        if column.value is None:
            parts.append(
                f'<text x="{_n(middle)}" y="{_n(baseline - 3)}" text-anchor="middle" font-size="{FONT - 1}"'
                f' fill="#5f6368">-</text>'
            )
            continue
        length = abs(column.value) * per_unit
        y = baseline - length if column.value >= 0 else baseline
        parts.append(
            f'<rect x="{_n(middle - slot * 0.35)}" y="{_n(y)}" width="{_n(slot * 0.7)}" height="{_n(length)}"'
            f' fill="{PALETTE[0]}"><title>{escape(f"{column.label}: {column.text}")}</title></rect>'
        )
        above = y - 3 if column.value >= 0 else y + length + FONT
        parts.append(
            f'<text x="{_n(middle)}" y="{_n(above)}" text-anchor="middle" font-size="{FONT - 2}">'
            f"{escape(column.text)}</text>"
        )
    parts.append(f'<line x1="0" x2="{WIDTH}" y1="{_n(baseline)}" y2="{_n(baseline)}" stroke="#5f6368"/>')
    if not known:
        parts.append(
            f'<text x="{_n(WIDTH / 2)}" y="{_n(COLUMN_HEIGHT / 2)}" text-anchor="middle" font-size="{FONT}">'
            "No data</text>"
        )
    return "".join([*parts, "</svg>"])
