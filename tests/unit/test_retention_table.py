"""docs/security.md section 2 lists every kind of item payportal writes with its retention, and the retentions it
states are the ones the code sets: the table cannot drift from the code."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from shared.adapters.dynamodb import items, privacy
from shared.domain import retention
from shared.services import aggregates, imports, reports
from shared.wiring import IDEMPOTENCY_TTL_SECONDS

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "security.md"
FINANCIAL = f"financial: {retention.DEFAULT_FINANCIAL_DAYS} days after final"
# Kinds whose items say `"type": kind` in the adapters, plus what every item in an invoice's partition is.
FINANCIAL_KINDS = (
    "invoice", "checkout", "open_checkout", "payment", "plan", "dispute", "audit", "invoice_listing",
    "payment_listing", "return_listing",
)  # fmt: skip


def _days(period: timedelta) -> str:
    return f"{period.days} day{'' if period.days == 1 else 's'}"


# Kinds with an operational TTL: the period the row must state, from the constant that sets it.
OPERATIONAL = {
    "reminder_opening": _days(items.REMINDER_OPENING_KEPT),
    "retention_sweep": _days(items.SWEEP_KEPT),
    "pay_link": _days(items.PAY_LINK_GRACE),
    "pay_together_link": _days(items.PAY_LINK_GRACE),
    "reminder_line": _days(items.REMINDER_LINE_KEPT),
    "stripe_event": _days(items.EVENT_RETENTION),
    "outbox": _days(items.OUTBOX_RETENTION),
    "tally": _days(aggregates.QUARTER_KEPT),
    "snapshot": _days(reports.SNAPSHOT_KEPT),
    "import": _days(imports.KEPT_FOR),
    "idempotency": f"{IDEMPOTENCY_TTL_SECONDS // 3600} hours",
    "email_sent": _days(items.EMAIL_SENT_RETENTION),
    "export_link": _days(privacy.EXPORT_LINK_GRACE),
}


def table() -> dict[str, str]:
    text = DOC.read_text()
    body = text.split("<!-- retention-table -->", 1)[1].split("<!-- /retention-table -->", 1)[0]
    rows = [line.strip().strip("|").split("|") for line in body.strip().splitlines()[2:]]
    return {cells[0].strip().strip("`"): cells[2].strip() for cells in rows}


def kinds_in_code() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "shared" / "adapters").rglob("*.py"):
        found |= set(re.findall(r'"type": "([a-z_]+)"', path.read_text()))
        found |= set(re.findall(r'_listed_copy\([^"]*"([a-z_]+)"', path.read_text(), flags=re.DOTALL))
    return found


def test_every_kind_of_item_the_adapters_write_has_a_row() -> None:
    missing = kinds_in_code() - set(table())
    assert not missing, f"docs/security.md section 2 has no retention row for {sorted(missing)}"


@pytest.mark.parametrize("kind", FINANCIAL_KINDS)
def test_financial_records_state_the_configured_default(kind: str) -> None:
    assert table()[kind] == FINANCIAL


@pytest.mark.parametrize(("kind", "period"), sorted(OPERATIONAL.items()))
def test_operational_items_state_the_period_the_code_sets(kind: str, period: str) -> None:
    assert period in table()[kind], f"{kind}: the code keeps it {period}, the table says {table()[kind]!r}"


def test_the_table_names_no_kind_the_code_does_not_write() -> None:
    # Kinds without a `type` attribute (keyed only): named in prose, not as a `code` kind.
    stale = {kind for kind in table() if re.fullmatch(r"[a-z_]+", kind)} - kinds_in_code() - set(OPERATIONAL)
    assert not stale, f"docs/security.md section 2 lists {sorted(stale)}, which nothing writes"
