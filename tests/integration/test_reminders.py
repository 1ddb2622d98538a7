"""The dunning run over moto: the right email, in the customer's hours, exactly once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shared.clock import FixedClock
from tests.integration.conftest import Aws
from tests.integration.helpers import checkout_for, completed, create_customer, create_invoice, deliver
from tests.support import FakeLambdaContext


def run() -> dict[str, Any]:
    from functions.reminders.handler import lambda_handler

    return lambda_handler({"source": "aws.scheduler", "detail": {}}, FakeLambdaContext())


def subjects(aws: Aws) -> list[str]:
    aws.drain_outbox()
    return [e.subject for e in aws.emails()]


@pytest.fixture
def invoice(aws: Aws, clock: FixedClock) -> dict[str, Any]:
    customer = create_customer(timezone="America/New_York", locale="en-US", email="dana@example.com")
    return create_invoice(customer["id"], number="INV-77", amount_due=25_000, due_date="2027-03-15")


def test_the_upcoming_reminder_goes_out_a_week_before_in_the_customers_morning(
    aws: Aws, clock: FixedClock, invoice: dict[str, Any]
) -> None:
    clock.instant = datetime(2027, 3, 8, 13, 59, tzinfo=UTC)  # 08:59 in New York: not yet
    assert run()["sent"] == 0
    clock.instant = datetime(2027, 3, 8, 14, 0, tzinfo=UTC)  # 09:00 EST
    assert run()["sent"] == 1
    [subject] = subjects(aws)
    assert subject == "Reminder: invoice INV-77 for $250.00 is due March 15, 2027"
    [email] = aws.emails()
    assert email.to == ["dana@example.com"] and "https://pay.example.com/pay/" in email.text
    assert "If you have already paid" in email.text


def test_firing_twice_sends_once(aws: Aws, clock: FixedClock, invoice: dict[str, Any]) -> None:
    clock.instant = datetime(2027, 3, 8, 15, tzinfo=UTC)
    assert run()["sent"] == 1
    assert run()["sent"] == 0
    assert len(subjects(aws)) == 1


def test_a_concurrent_run_cannot_send_the_same_step_again(
    aws: Aws, clock: FixedClock, invoice: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.wiring import ledger

    clock.instant = datetime(2027, 3, 8, 15, tzinfo=UTC)
    store = ledger()
    real = store.due_invoices
    raced: list[dict[str, Any]] = []

    def read_then_let_another_run_finish(*args: Any, **kwargs: Any) -> Any:
        page = real(*args, **kwargs)
        if page.items and not raced:
            monkeypatch.setattr(store, "due_invoices", real)
            raced.append(run())
            monkeypatch.setattr(store, "due_invoices", read_then_let_another_run_finish)
        return page

    monkeypatch.setattr(store, "due_invoices", read_then_let_another_run_finish)
    first = run()
    assert raced[0]["sent"] == 1
    assert (first["sent"], first["conflicts"]) == (0, 1)
    assert len(subjects(aws)) == 1


def test_the_due_day_step_keeps_nine_local_after_the_clocks_spring_forward(
    aws: Aws, clock: FixedClock, invoice: dict[str, Any]
) -> None:
    clock.instant = datetime(2027, 3, 8, 15, tzinfo=UTC)
    run()
    clock.instant = datetime(2027, 3, 15, 12, 59, tzinfo=UTC)  # 08:59 EDT (DST began on 14 March)
    assert run()["sent"] == 0
    clock.instant = datetime(2027, 3, 15, 13, 0, tzinfo=UTC)  # 09:00 EDT
    assert run()["sent"] == 1
    assert sorted(subjects(aws)) == [
        "Invoice INV-77 is due today: $250.00",
        "Reminder: invoice INV-77 for $250.00 is due March 15, 2027",
    ]


def test_after_downtime_only_the_latest_step_is_sent(aws: Aws, clock: FixedClock, invoice: dict[str, Any]) -> None:
    clock.instant = datetime(2027, 3, 30, 15, tzinfo=UTC)  # 15 days overdue, nothing sent yet
    report = run()
    assert report["sent"] == 1
    assert subjects(aws) == ["Invoice INV-77 is overdue: $250.00"]
    audit = [
        i
        for i in aws.items(f"INVOICE#{invoice['id']}")
        if i["sk"].startswith("AUDIT#") and i["action"] == "invoice.reminder_sent"
    ]
    assert audit[0]["details"] == {
        "step": "+14:overdue",
        "skipped": ["-7:upcoming", "+0:due_today", "+3:overdue", "+7:overdue"],
    }


def test_outside_the_window_a_due_reminder_waits_for_the_morning(
    aws: Aws, clock: FixedClock, invoice: dict[str, Any]
) -> None:
    clock.instant = datetime(2027, 3, 9, 3, tzinfo=UTC)  # 22:00 on 8 March in New York: due, but after hours
    report = run()
    assert (report["sent"], report["rescheduled"]) == (0, 1)
    [item] = [i for i in aws.items(f"INVOICE#{invoice['id']}") if i["sk"] == "INVOICE"]
    assert item["next_action_at"] == "2027-03-09T14:00:00Z"
    assert subjects(aws) == []


def test_a_paid_invoice_gets_no_reminder(aws: Aws, clock: FixedClock, invoice: dict[str, Any]) -> None:
    deliver(completed(checkout_for(invoice, 25_000)))
    aws.drain_outbox()
    clock.instant = datetime(2027, 3, 20, 15, tzinfo=UTC)
    assert run()["examined"] == 0
    assert all("Reminder" not in s and "overdue" not in s for s in subjects(aws))


def test_a_reminder_is_announced_as_a_domain_event(aws: Aws, clock: FixedClock, invoice: dict[str, Any]) -> None:
    clock.instant = datetime(2027, 3, 18, 15, tzinfo=UTC)
    run()
    aws.drain_outbox()
    events = aws.domain_events()
    sent = [e for e in events if e["detail-type"] == "invoice.reminder_sent"]
    assert [(e["detail"]["invoice_id"], e["detail"]["step"]) for e in sent] == [(invoice["id"], "+3:overdue")]
    assert [e["detail"]["invoice_id"] for e in events if e["detail-type"] == "invoice.overdue"] == [invoice["id"]]
    # A later overdue step does not announce "overdue" again
    clock.instant = datetime(2027, 3, 22, 15, tzinfo=UTC)
    run()
    aws.drain_outbox()
    assert [e["detail-type"] for e in aws.domain_events()] == ["invoice.reminder_sent"]


def test_the_run_reads_only_the_due_index(aws: Aws, clock: FixedClock) -> None:
    from collections import Counter

    from shared.adapters.aws import client

    customer = create_customer(timezone="UTC")
    for n in range(12):
        create_invoice(customer["id"], due_date="2027-03-08" if n < 3 else "2027-06-30")
    clock.instant = datetime(2027, 3, 8, 10, tzinfo=UTC)
    calls: Counter[str] = Counter()

    def count(model: Any, params: dict[str, Any], **_: Any) -> None:
        calls[f"{model.name}:{params.get('IndexName', '-')}"] += 1

    client("dynamodb").meta.events.register("before-parameter-build", count)
    try:
        report = run()
    finally:
        client("dynamodb").meta.events.unregister("before-parameter-build", count)
    assert report["sent"] == 3 and report["examined"] == 3
    assert set(calls) == {"GetItem:-", "Query:due_work", "Query:-", "TransactWriteItems:-"}
    assert calls["GetItem:-"] == 1  # the dunning policy, once per run
    assert calls["Query:-"] == 1  # the customer's reminders waiting for its one email of the run
    assert calls["TransactWriteItems:-"] == 4  # three reminders, then the one email listing them


def hold(invoice_id: str, body: dict[str, Any] | None = None, method: str = "POST") -> dict[str, Any]:
    from tests.integration.helpers import operator

    return operator(
        method, f"/v1/invoices/{invoice_id}/hold", "/v1/invoices/{invoice_id}/hold", params={"invoice_id": invoice_id},
        body=body,
    )  # fmt: skip


def test_a_hold_until_a_date_pauses_reminders_then_dunning_resumes(
    aws: Aws, clock: FixedClock, invoice: dict[str, Any]
) -> None:
    from tests.support import json_body

    clock.instant = datetime(2027, 3, 10, 15, tzinfo=UTC)
    response = hold(invoice["id"], {"reason": "disputed line item", "until": "2027-03-25T00:00:00Z"})
    assert response["statusCode"] == 200, response["body"]
    assert json_body(response)["hold"] == {"reason": "disputed line item", "until": "2027-03-25T00:00:00Z"}
    clock.instant = datetime(2027, 3, 15, 15, tzinfo=UTC)  # due day: held, nothing goes out
    assert run()["sent"] == 0
    clock.instant = datetime(2027, 3, 25, 15, tzinfo=UTC)  # the hold has ended: the latest step goes out
    assert run()["sent"] == 1
    assert subjects(aws) == ["Invoice INV-77 is overdue: $250.00"]


def test_an_open_ended_hold_lasts_until_released(aws: Aws, clock: FixedClock, invoice: dict[str, Any]) -> None:
    from tests.support import json_body

    hold(invoice["id"], {"reason": "customer called, paying by wire"})
    clock.instant = datetime(2027, 4, 30, 15, tzinfo=UTC)
    assert run()["examined"] == 0  # out of the due index altogether
    released = hold(invoice["id"], method="DELETE")
    assert released["statusCode"] == 200 and json_body(released)["hold"] is None
    assert run()["sent"] == 1
    assert subjects(aws) == ["Final notice: invoice INV-77 is overdue"]


def test_holds_refuse_bad_input(aws: Aws, clock: FixedClock, invoice: dict[str, Any]) -> None:
    assert hold(invoice["id"], {"reason": "x", "until": "2020-01-01T00:00:00Z"})["statusCode"] == 422
    assert hold(invoice["id"], {"reason": "x", "until": "2027-05-01T00:00:00"})["statusCode"] == 422  # no zone
    assert hold(invoice["id"], {"reason": ""})["statusCode"] == 422
    assert hold("inv_nope", {"reason": "x"})["statusCode"] == 404
    deliver(completed(checkout_for(invoice, 25_000)))
    assert hold(invoice["id"], {"reason": "x"})["statusCode"] == 409  # paid: nothing to hold


def test_operators_read_and_replace_the_dunning_policy(aws: Aws, clock: FixedClock) -> None:
    from tests.integration.helpers import operator
    from tests.support import json_body

    current = json_body(operator("GET", "/v1/dunning-policy", "/v1/dunning-policy"))
    assert [s["offset_days"] for s in current["steps"]] == [-7, 0, 3, 7, 14, 30]
    assert (current["window_start"], current["window_end"]) == ("09:00:00", "18:00:00")
    policy = {
        "steps": [{"offset_days": 1, "template": "overdue"}, {"offset_days": 10, "template": "final_notice"}],
        "window_start": "08:00",
        "window_end": "12:00",
    }
    response = operator("PUT", "/v1/dunning-policy", "/v1/dunning-policy", body=policy)
    assert response["statusCode"] == 200, response["body"]
    assert [s["offset_days"] for s in json_body(response)["steps"]] == [1, 10]
    # A new invoice is scheduled by the new policy: one day after due, 08:00 in the customer's zone
    customer = create_customer(timezone="Europe/Berlin")
    invoice = create_invoice(customer["id"], due_date="2027-03-15")
    [item] = [i for i in aws.items(f"INVOICE#{invoice['id']}") if i["sk"] == "INVOICE"]
    assert item["next_action_at"] == "2027-03-16T07:00:00Z"
    clock.instant = datetime(2027, 3, 16, 7, 30, tzinfo=UTC)
    assert run()["sent"] == 1
    assert subjects(aws) == ["Invoice " + invoice["number"] + " is overdue: US$125.00"]  # an en-GB customer


@pytest.mark.parametrize(
    "policy",
    [
        {"steps": []},
        {"steps": [{"offset_days": 1, "template": "overdue"}, {"offset_days": 1, "template": "final_notice"}]},
        {"steps": [{"offset_days": 1, "template": "shouting"}]},
        {"steps": [{"offset_days": 1, "template": "overdue"}], "window_start": "18:00", "window_end": "09:00"},
        {"steps": [{"offset_days": 1000, "template": "overdue"}]},
    ],
)
def test_an_impossible_policy_is_a_422_and_changes_nothing(aws: Aws, policy: dict[str, Any]) -> None:
    from tests.integration.helpers import operator
    from tests.support import json_body

    assert operator("PUT", "/v1/dunning-policy", "/v1/dunning-policy", body=policy)["statusCode"] == 422
    current = json_body(operator("GET", "/v1/dunning-policy", "/v1/dunning-policy"))
    assert len(current["steps"]) == 6


def test_a_late_fee_is_added_once_as_its_own_line_shown_in_the_email_and_on_the_pay_page(
    aws: Aws, clock: FixedClock, invoice: dict[str, Any]
) -> None:
    from tests.integration.helpers import get_invoice, operator, token_of
    from tests.integration.test_pay_pages import open_link

    policy = {
        "steps": [
            {"offset_days": 3, "template": "overdue", "late_fee": {"fixed": 1_500}},
            {"offset_days": 10, "template": "final_notice", "late_fee": {"percent": "2", "cap": 400}},
        ]
    }
    assert operator("PUT", "/v1/dunning-policy", "/v1/dunning-policy", body=policy)["statusCode"] == 200
    clock.instant = datetime(2027, 3, 18, 15, tzinfo=UTC)
    run()
    run()  # a second firing adds no second fee
    after = get_invoice(invoice["id"])
    assert (after["amount_original"], after["amount_due"], after["amount_remaining"]) == (25_000, 26_500, 26_500)
    assert after["late_fees"] == [{"step": "+3:overdue", "amount": 1_500}]
    aws.drain_outbox()
    [email] = aws.emails()
    assert "Late fee: $15.00" in email.text and "Total due: $265.00" in email.text
    page = open_link(token_of(invoice["pay_url"]))["body"]
    assert "Late fee" in page and "$265.00" in page
    audit = [i["action"] for i in aws.items(f"INVOICE#{invoice['id']}") if i["sk"].startswith("AUDIT#")]
    assert audit.count("invoice.late_fee_added") == 1
    # The capped percentage on the final notice: 2% of 265.00 is 5.30, capped at 4.00
    clock.instant = datetime(2027, 3, 25, 15, tzinfo=UTC)
    run()
    assert get_invoice(invoice["id"])["amount_due"] == 26_900


def test_a_late_fee_policy_with_both_kinds_is_a_422(aws: Aws) -> None:
    from tests.integration.helpers import operator

    policy = {"steps": [{"offset_days": 3, "template": "overdue", "late_fee": {"fixed": 100, "percent": "1"}}]}
    assert operator("PUT", "/v1/dunning-policy", "/v1/dunning-policy", body=policy)["statusCode"] == 422


def promise(token: str, day: str) -> dict[str, Any]:
    from tests.integration.test_pay_pages import page

    return page("POST", f"/pay/{token}/promise", "/pay/{token}/promise", token, form={"date": day})


def test_a_promise_to_pay_pauses_reminders_tells_the_operator_and_dunning_resumes_if_it_is_broken(
    aws: Aws, clock: FixedClock, invoice: dict[str, Any]
) -> None:
    from tests.integration.helpers import get_invoice, token_of
    from tests.integration.test_pay_pages import headers, open_link

    token = token_of(invoice["pay_url"])
    clock.instant = datetime(2027, 3, 16, 15, tzinfo=UTC)  # the day after the due date
    assert 'id="promise-date"' in open_link(token)["body"]
    response = promise(token, "2027-03-26")
    assert response["statusCode"] == 303
    assert headers(response)["location"] == f"/pay/{token}?promised=2027-03-26"
    assert (
        "We will not send reminders until March 26, 2027" in open_link(token, query={"promised": "2027-03-26"})["body"]
    )
    assert get_invoice(invoice["id"])["hold"]["reason"] == "promise to pay"
    aws.drain_outbox()
    promised = [e for e in aws.domain_events() if e["detail-type"] == "invoice.promise_to_pay"]
    assert [e["detail"]["promised_date"] for e in promised] == ["2027-03-26"]
    # While the promise stands, nothing goes out
    clock.instant = datetime(2027, 3, 22, 15, tzinfo=UTC)
    assert run()["sent"] == 0
    # The promised day passes unpaid (midnight in New York): dunning resumes with the latest step
    clock.instant = datetime(2027, 3, 27, 14, tzinfo=UTC)
    assert run()["sent"] == 1
    assert subjects(aws) == ["Invoice INV-77 is overdue: $250.00"]


def test_one_promise_per_invoice_so_promising_again_cannot_pause_dunning_for_ever(
    aws: Aws, clock: FixedClock, invoice: dict[str, Any]
) -> None:
    from tests.integration.helpers import get_invoice, token_of
    from tests.integration.test_pay_pages import open_link

    token = token_of(invoice["pay_url"])
    clock.instant = datetime(2027, 3, 16, 15, tzinfo=UTC)  # promising allows up to 14 days: March 30
    assert promise(token, "2027-03-20")["statusCode"] == 303
    clock.instant = datetime(2027, 3, 19, 15, tzinfo=UTC)  # still running: the date may move, within the 14 days
    assert promise(token, "2027-04-02")["statusCode"] == 422
    assert promise(token, "2027-03-30")["statusCode"] == 303
    clock.instant = datetime(2027, 3, 31, 15, tzinfo=UTC)  # lapsed unpaid: no second promise
    assert 'id="promise-date"' not in open_link(token)["body"]
    refused = promise(token, "2027-04-05")
    assert refused["statusCode"] == 422 and "already promised" in refused["body"]
    assert run()["sent"] == 1  # dunning resumed
    assert get_invoice(invoice["id"])["hold"] is None


@pytest.mark.parametrize("day", ["2027-03-15", "2027-04-30", "someday", ""])
def test_a_promise_outside_the_allowed_dates_is_refused_on_the_page(
    aws: Aws, clock: FixedClock, invoice: dict[str, Any], day: str
) -> None:
    from tests.integration.helpers import get_invoice, token_of

    clock.instant = datetime(2027, 3, 16, 15, tzinfo=UTC)
    response = promise(token_of(invoice["pay_url"]), day)
    assert response["statusCode"] == 422
    assert 'role="alert"' in response["body"]
    assert get_invoice(invoice["id"])["hold"] is None


def test_an_unpaid_invoice_is_written_off_after_the_policys_days_and_can_still_be_paid(
    aws: Aws, clock: FixedClock, invoice: dict[str, Any]
) -> None:
    from tests.integration.helpers import get_invoice, operator

    policy = {"steps": [{"offset_days": 3, "template": "overdue"}], "mark_uncollectible_after_days": 20}
    assert operator("PUT", "/v1/dunning-policy", "/v1/dunning-policy", body=policy)["statusCode"] == 200
    clock.instant = datetime(2027, 3, 18, 15, tzinfo=UTC)
    assert run()["sent"] == 1  # the +3 reminder; the run comes back on the write-off day
    assert get_invoice(invoice["id"])["next_reminder_at"] == "2027-04-04T04:00:00Z"  # midnight EDT, 4 April
    clock.instant = datetime(2027, 4, 4, 3, 59, tzinfo=UTC)
    run()
    assert get_invoice(invoice["id"])["status"] == "open"
    clock.instant = datetime(2027, 4, 4, 4, 0, tzinfo=UTC)
    run()
    after = get_invoice(invoice["id"])
    assert (after["status"], after["next_reminder_at"]) == ("uncollectible", None)
    aws.drain_outbox()
    assert "invoice.uncollectible" in [e["detail-type"] for e in aws.domain_events()]
    # No reminder ever again, but money is still welcome
    clock.instant = datetime(2027, 5, 1, 15, tzinfo=UTC)
    assert run()["examined"] == 0
    deliver(completed(checkout_for(invoice, 25_000)))
    assert get_invoice(invoice["id"])["status"] == "paid"
