"""The console's Review page over the in-memory ledger: flagged and failed events listed, and a replay through
the operator API's own replay service, allowed to collectors and admins, applied once, audited as the staff
member."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shared.domain.console_roles import ActionForbidden, Role
from shared.domain.errors import NotFound
from shared.domain.invoices import InvoiceStatus
from shared.domain.records import AuditSubject
from shared.services import console_review
from shared.services.ports import Change
from shared.services.stripe_events.engine import Outcome
from shared.services.stripe_events.router import record_stripe_event, record_stripe_event_failure
from tests.fakes import FixedClock, InMemoryLedger
from tests.fakes.gateway import FakeGateway
from tests.fakes.records import NOW, a_checkout, a_customer, an_invoice
from tests.fakes.records import a_staff_session as staff
from tests.fakes.stripe_facts import a_session_fact

CLOCK = FixedClock(NOW)
LIVE_PAYMENT = replace(a_session_fact(), event=replace(a_session_fact().event, livemode=True))
ACTOR = "staff:sub-1:ada@example.com"


def flagged_payment() -> tuple[InMemoryLedger, FakeGateway]:
    """Given inv_1 paid in live mode on a stack set up in test mode: kept as flagged, nothing moved; Stripe
    holds the event."""
    ledger = InMemoryLedger()
    ledger.commit(Change(new_customer=a_customer(), new_invoice=an_invoice(), checkout=a_checkout()))
    assert record_stripe_event(ledger, CLOCK, LIVE_PAYMENT, livemode=False) is Outcome.FLAGGED
    gateway = FakeGateway()
    gateway.held_events = {"evt_1": LIVE_PAYMENT}
    return ledger, gateway


def live() -> bool:
    return True  # the fix: the stack now runs on the live key


@pytest.mark.parametrize("role", [Role.COLLECTOR, Role.ADMIN])
def test_a_collector_or_an_admin_replays_a_flagged_event_once_its_cause_is_fixed(role: Role) -> None:
    ledger, gateway = flagged_payment()

    replayed = console_review.replay_event(ledger, gateway, CLOCK, staff(role), "evt_1", livemode=live)

    # Then it is applied: the invoice is paid, and the entries name the event and who replayed it
    assert replayed.outcome is Outcome.APPLIED
    assert ledger.get_invoice("inv_1").status is InvoiceStatus.PAID  # type: ignore[union-attr]
    [paid] = [a for a in ledger.audit if a.subject is AuditSubject.INVOICE]
    assert (paid.action, paid.cause, paid.details["replayed_by"]) == ("payment.succeeded", "stripe_event:evt_1", ACTOR)
    # And the page shows it with its replay
    page = console_review.review_page(ledger, staff(role), replayed="evt_1", outcome="applied")
    assert page.flagged == [] and page.replayed is not None and page.replayed.settled
    assert (page.replayed.event.outcome, [(e.actor, e.details["outcome"]) for e in page.replayed.history]) == (
        "applied", [(ACTOR, "applied")],
    )  # fmt: skip


def test_replaying_twice_applies_once_and_writes_nothing_the_second_time() -> None:
    ledger, gateway = flagged_payment()
    console_review.replay_event(ledger, gateway, CLOCK, staff(Role.ADMIN), "evt_1", livemode=live)
    state = (ledger.commits, len(ledger.outbox), len(ledger.audit), dict(ledger.invoices))

    again = console_review.replay_event(ledger, gateway, CLOCK, staff(Role.ADMIN), "evt_1", livemode=live)

    assert again.outcome is Outcome.DUPLICATE_EVENT
    assert (ledger.commits, len(ledger.outbox), len(ledger.audit), dict(ledger.invoices)) == state
    assert ledger.get_invoice("inv_1").amount_paid == 12_500  # type: ignore[union-attr]
    notice = console_review.review_page(ledger, staff(Role.ADMIN), replayed="evt_1", outcome="duplicate_event")
    assert notice.replayed is not None and notice.replayed.says == "it was applied before, so nothing changed"


def test_a_replay_whose_cause_is_not_fixed_is_flagged_again_and_the_page_says_so() -> None:
    ledger, gateway = flagged_payment()

    collector = staff(Role.COLLECTOR)  # the stack still runs on the test key
    replayed = console_review.replay_event(ledger, gateway, CLOCK, collector, "evt_1", livemode=lambda: False)

    assert replayed.outcome is Outcome.FLAGGED
    assert ledger.get_invoice("inv_1").status is InvoiceStatus.OPEN  # type: ignore[union-attr]
    page = console_review.review_page(ledger, staff(Role.COLLECTOR), replayed="evt_1", outcome="flagged")
    assert [e.event_id for e in page.flagged] == ["evt_1"]
    assert page.replayed is not None and not page.replayed.settled and "flagged again" in page.replayed.says


@pytest.mark.parametrize("roles", [(Role.VIEWER,), ()])
def test_a_viewer_cannot_replay_and_neither_stripe_nor_the_secret_is_asked(roles: tuple[Role, ...]) -> None:
    ledger, gateway = flagged_payment()
    asked: list[str] = []

    def livemode() -> bool:
        asked.append("secret")
        return True

    with pytest.raises(ActionForbidden):
        console_review.replay_event(ledger, gateway, CLOCK, staff(*roles), "evt_1", livemode=livemode)

    assert (gateway.event_requests, asked) == ([], [])
    assert ledger.stripe_events["evt_1"].outcome == "flagged"


@pytest.mark.parametrize("event_id", ["evt_never_kept", "evt_1/../x", "<script>", ""])
def test_an_event_we_do_not_keep_is_not_found_and_stripe_is_not_asked(event_id: str) -> None:
    ledger, gateway = flagged_payment()

    with pytest.raises(NotFound):
        console_review.replay_event(ledger, gateway, CLOCK, staff(Role.ADMIN), event_id, livemode=live)

    assert gateway.event_requests == []


def test_the_page_lists_flagged_and_failed_events_newest_first_for_every_role() -> None:
    ledger, _ = flagged_payment()
    record_stripe_event_failure(ledger, CLOCK, replace(a_session_fact(), event=replace(
        a_session_fact().event, id="evt_2")), TimeoutError("secret detail"))  # fmt: skip

    page = console_review.review_page(ledger, staff(Role.VIEWER))

    assert [(e.event_id, e.detail) for e in page.flagged] == [("evt_1", "a live-mode event on a test-mode stack")]
    assert [(e.event_id, e.detail) for e in page.failed] == [("evt_2", "TimeoutError")]
    assert "replay_stripe_event" not in page.actions and page.replayed is None


@pytest.mark.parametrize(
    ("replayed", "outcome"), [("evt_1", "made up"), ("evt_nope", "applied"), ("<b>", "applied"), ("evt_1", None)]
)
def test_a_notice_is_shown_only_for_a_kept_event_and_a_real_outcome(replayed: str, outcome: str | None) -> None:
    ledger, _ = flagged_payment()
    assert console_review.review_page(ledger, staff(Role.ADMIN), replayed=replayed, outcome=outcome).replayed is None


def test_nobody_without_a_role_reads_the_page() -> None:
    ledger, _ = flagged_payment()
    with pytest.raises(ActionForbidden):
        console_review.review_page(ledger, staff())
