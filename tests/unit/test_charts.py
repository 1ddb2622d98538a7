"""The console's server-drawn SVG charts: proportional bars, empty and zero data, huge values, any currency's
text, and an accessible name on every chart."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from shared.charts import Bar, Column, Group, bar_chart, column_chart
from shared.rendering import format_money

SVG = "{http://www.w3.org/2000/svg}"


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed XML, or this raises


def bars(svg: str) -> list[ET.Element]:
    return parsed(svg).findall(f"{SVG}rect")


def texts(svg: str) -> list[str]:
    return [t.text or "" for t in parsed(svg).findall(f"{SVG}text")]


def aging_groups(amounts: list[int], currency: str) -> list[Group]:
    labels = ["Current", "1-30 days", "31-60 days", "61-90 days", "91+ days"]
    return [
        Group(label, (Bar(amount, format_money(amount, currency, "en")),))
        for label, amount in zip(labels, amounts, strict=True)
    ]


def test_bars_are_proportional_to_their_values_and_carry_the_exact_text() -> None:
    # Given an aging in USD
    svg = bar_chart(
        "aging-usd", "Aging, USD", "Owed by days past due", aging_groups([40_000, 20_000, 10_000, 0, 5], "USD")
    )
    widths = [float(rect.get("width", "")) for rect in bars(svg)]
    # Then the widest bar is the largest amount and every bar is to scale with it
    assert widths[0] == max(widths) > 0
    assert widths[1] == pytest.approx(widths[0] / 2, abs=0.01)
    assert widths[2] == pytest.approx(widths[0] / 4, abs=0.01)
    assert widths[3] == 0
    # And the figures shown are the amounts formatted from minor units, exactly
    assert "$400.00" in texts(svg) and "$0.05" in texts(svg)


def test_a_chart_is_an_image_named_by_its_title_and_described() -> None:
    svg = bar_chart("c1", "Aging, EUR", "What was owed at the end of 2027-03-01", aging_groups([1, 2, 3, 4, 5], "EUR"))
    root = parsed(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find(f"{SVG}title").text == "Aging, EUR"  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc").text == "What was owed at the end of 2027-03-01"  # type: ignore[union-attr]
    assert root.find(f"{SVG}title").get("id") == "c1-title"  # type: ignore[union-attr]


def test_no_data_draws_no_bar_and_says_so_and_all_zero_draws_empty_bars() -> None:
    empty = bar_chart("e", "Aging", "Nothing owed", [], empty="Nothing is owed")
    assert bars(empty) == [] and texts(empty) == ["Nothing is owed"]
    zeros = bar_chart("z", "Aging", "All zero", aging_groups([0, 0, 0, 0, 0], "USD"))
    assert [rect.get("width") for rect in bars(zeros)] == ["0"] * 5
    assert texts(zeros).count("$0.00") == 5


def test_huge_values_stay_inside_the_chart_and_keep_their_exact_text() -> None:
    # Given amounts far beyond what a float holds exactly
    huge = 2**62 + 1
    svg = bar_chart("h", "Aging", "Huge", aging_groups([huge, huge // 2, 1, 0, 0], "USD"))
    widths = [float(rect.get("width", "")) for rect in bars(svg)]
    view_width = float(parsed(svg).get("viewBox", "").split()[2])
    # Then no bar leaves the drawing, the smallest still has a width, and the text is the exact amount
    assert all(0 <= float(r.get("x", "")) + w <= view_width for r, w in zip(bars(svg), widths, strict=True))
    assert widths[1] == pytest.approx(widths[0] / 2, abs=0.01)
    assert format_money(huge, "USD", "en") in texts(svg)
    assert "$46,116,860,184,273,879.05" in texts(svg)


@pytest.mark.parametrize(
    ("currency", "amount", "shown"),
    [("USD", 123_456, "$1,234.56"), ("JPY", 123_456, "¥123,456"), ("KWD", 123_456, "KWD123.456"), ("EUR", 5, "€0.05")],
)
def test_each_currency_is_shown_in_its_own_minor_units(currency: str, amount: int, shown: str) -> None:
    svg = bar_chart("m", f"Aging, {currency}", "d", aging_groups([amount, 0, 0, 0, 0], currency))
    assert shown in texts(svg)


def test_text_is_escaped_so_no_label_can_write_markup() -> None:
    svg = bar_chart("x", "<script>", 'a "b" & c', [Group("<b>step</b>", (Bar(1, "1 & 2"),))])
    root = parsed(svg)
    assert root.find(f"{SVG}title").text == "<script>"  # type: ignore[union-attr]
    assert "<script>" not in svg and "<b>" not in svg


def test_several_series_per_group_each_scaled_to_the_same_axis() -> None:
    groups = [Group("+3:overdue", (Bar(100, "sent 100"), Bar(50, "opened 50"), Bar(10, "paid 10")))]
    svg = bar_chart("r", "Reminders", "d", groups)
    widths = [float(rect.get("width", "")) for rect in bars(svg)]
    assert widths[1] == pytest.approx(widths[0] / 2) and widths[2] == pytest.approx(widths[0] / 10)
    assert len({rect.get("fill") for rect in bars(svg)}) == 3


def test_negative_values_extend_from_a_zero_baseline() -> None:
    svg = bar_chart("n", "t", "d", [Group("a", (Bar(-50, "-50"),)), Group("b", (Bar(100, "100"),))])
    negative, positive = bars(svg)
    assert float(negative.get("x", "")) + float(negative.get("width", "")) == pytest.approx(
        float(positive.get("x", ""))
    )
    assert float(positive.get("width", "")) == pytest.approx(2 * float(negative.get("width", "")), abs=0.02)


def test_columns_are_proportional_and_a_period_without_a_value_is_a_gap() -> None:
    months = [
        Column("Jan", 40.0, "40.0"),
        Column("Feb", None, "n/a"),
        Column("Mar", 10.0, "10.0"),
        Column("Apr", 0, "0"),
    ]
    svg = column_chart("k", "DSO", "Days sales outstanding per month", months)
    heights = [float(rect.get("height", "")) for rect in bars(svg)]
    assert len(heights) == 3  # none for February
    assert heights[1] == pytest.approx(heights[0] / 4) and heights[2] == 0
    assert [t for t in texts(svg) if t in ("Jan", "Feb", "Mar", "Apr")] == ["Jan", "Feb", "Mar", "Apr"]
    assert parsed(svg).get("role") == "img"


def test_columns_with_no_value_at_all_say_no_data() -> None:
    svg = column_chart("k", "DSO", "d", [Column("Jan", None, "n/a"), Column("Feb", None, "n/a")])
    assert bars(svg) == [] and "No data" in texts(svg)
