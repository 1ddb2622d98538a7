"""Retention over moto: an invoice made final gets its TTL (and everything its transaction puts in its partition),
its customer's retention marker moves, an open invoice keeps none; the retention job pseudonymises exactly the
customers whose records have all expired, once, past a bad item, and leaves the open balance as it was."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.retention.handler import lambda_handler
from shared import schema, wiring
from shared.adapters.dynamodb.codec import serialize
from shared.clock import FixedClock, use_clock, wall_clock_now
from shared.domain.invoices import InvoiceStatus
from shared.domain.retention import DEFAULT_FINANCIAL_DAYS
from shared.services.balances import open_balances
from shared.services.ports import Change, ChangeRejected
from tests.fakes.gateway import FakeGateway
from tests.fakes.records import A_FEE
from tests.integration.conftest import Aws
from tests.integration.helpers import create_customer, create_invoice, operator
from tests.integration.test_reconcile import run as reconcile_run
from tests.integration.test_refunds import pay as pay_by_card
from tests.support import FakeLambdaContext, json_body

NAME = "Théodora Quillfeather"
EMAIL = "theodora.quillfeather@example.org"


@pytest.fixture
def clock() -> FixedClock:
    fixed = FixedClock(datetime(2027, 3, 1, 15, tzinfo=UTC))
    use_clock(fixed)
    return fixed


def pay_by_cheque(invoice_id: str, amount: int = 12_500) -> dict[str, Any]:
    body = {"amount": amount, "method": "check", "reference": "1234", "received_on": "2027-03-01"}
    response = operator(
        "POST",
        f"/v1/invoices/{invoice_id}/payments",
        "/v1/invoices/{invoice_id}/payments",
        params={"invoice_id": invoice_id},
        body=body,
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert response["statusCode"] == 201, response["body"]
    return dict(json_body(response))


def void(invoice_id: str) -> None:
    response = operator(
        "POST", f"/v1/invoices/{invoice_id}/void", "/v1/invoices/{invoice_id}/void", {"invoice_id": invoice_id}
    )
    assert response["statusCode"] == 200, response["body"]


def marker(aws: Aws, customer_id: str) -> dict[str, Any] | None:
    found = [i for i in aws.items(f"CUSTOMER#{customer_id}") if i["sk"] == "RETAIN"]
    return found[0] if found else None


def customer(aws: Aws, customer_id: str) -> dict[str, Any]:
    [item] = [i for i in aws.items(f"CUSTOMER#{customer_id}") if i["sk"] == "CUSTOMER"]
    return item


def run_job_at(clock: FixedClock, at: datetime) -> dict[str, Any]:
    use_clock(FixedClock(at))
    try:
        return lambda_handler({"source": "aws.scheduler"}, FakeLambdaContext())
    finally:
        use_clock(clock)


def after_retention() -> datetime:
    return wall_clock_now() + timedelta(days=DEFAULT_FINANCIAL_DAYS, hours=1)


def test_a_paid_invoice_gets_its_ttl_and_moves_its_customers_retain_until(aws: Aws, clock: FixedClock) -> None:
    # Given a customer with an invoice
    cid = create_customer(name=NAME, email=EMAIL)["id"]
    invoice = create_invoice(cid, amount_due=12_500)
    assert marker(aws, cid) is None
    before = wall_clock_now()

    # When it is paid in full
    pay_by_cheque(invoice["id"])

    # Then the invoice and what the payment put in its partition expire ten years from now, and the customer's
    # marker says so, in the retention partition of the due_work index
    partition = aws.items(f"INVOICE#{invoice['id']}")
    [stored] = [i for i in partition if i["sk"] == "INVOICE"]
    expected = before + timedelta(days=DEFAULT_FINANCIAL_DAYS)
    assert abs(int(stored["ttl"]) - expected.timestamp()) < 60
    payments = [i for i in partition if i["sk"].startswith("PAYMENT#")]
    assert payments and all(int(p["ttl"]) == int(stored["ttl"]) for p in payments)
    kept = marker(aws, cid)
    assert kept is not None
    assert kept["gsi2pk"].startswith(f"{schema.RETENTION_WORK}#")
    assert abs(datetime.fromisoformat(kept["retain_until"]).timestamp() - expected.timestamp()) < 60


def test_an_open_or_partly_paid_invoice_keeps_no_ttl(aws: Aws, clock: FixedClock) -> None:
    cid = create_customer()["id"]
    invoice = create_invoice(cid, amount_due=12_500, allow_partial=True)

    pay_by_cheque(invoice["id"], amount=5_000)

    assert all("ttl" not in i for i in aws.items(f"INVOICE#{invoice['id']}") if not i["sk"].startswith("AUDIT"))
    assert marker(aws, cid) is None


def test_the_job_pseudonymises_exactly_the_customers_whose_records_all_expired(aws: Aws, clock: FixedClock) -> None:
    # Given one customer whose only invoice was paid, one with a paid and an open invoice, and one whose
    # invoice was voided
    gone = create_customer(name=NAME, email=EMAIL)["id"]
    pay_by_cheque(create_invoice(gone)["id"])
    still_owing = create_customer(email="owing@example.com")["id"]
    pay_by_cheque(create_invoice(still_owing)["id"])
    create_invoice(still_owing, amount_due=9_900)
    voided = create_customer(email="voided@example.com")["id"]
    void(create_invoice(voided)["id"])
    balances_before = open_balances(wiring.ledger())

    # When the job runs before the retention has passed, nothing happens
    early = run_job_at(clock, wall_clock_now() + timedelta(days=30))
    assert early["erased"] == 0
    assert customer(aws, gone)["email"] == EMAIL

    # When it runs once ten years have passed
    report = run_job_at(clock, after_retention())

    # Then the two customers whose records all expired are pseudonymised, by the scheduler, and the one with an
    # open invoice is kept (with no marker until another of their invoices is made final)
    assert report["erased"] == 2 and report["kept"] == 1 and report["skipped"] == 0
    erased = customer(aws, gone)
    assert erased["email"] != EMAIL and erased["name"] != NAME and erased["erased_at"]
    assert customer(aws, voided)["erased_at"]
    assert customer(aws, still_owing).get("erased_at") is None
    assert marker(aws, gone) is None and marker(aws, still_owing) is None
    audit = [i for i in aws.items(f"CUSTOMER#{gone}") if i["sk"].startswith("AUDIT#")]
    erasures = [a for a in audit if a.get("action") == "customer.erased"]
    assert erasures and all(a["actor"] == "scheduler" for a in erasures)
    assert EMAIL not in str(audit)
    aws.domain_events()  # what was published before
    aws.drain_outbox()
    erased_events = [e["detail"] for e in aws.domain_events() if e["detail-type"] == "customer.erased"]
    assert sorted(e["customer_id"] for e in erased_events) == sorted([gone, voided])
    assert {e["cause"] for e in erased_events} == {"retention"}
    # And the open balance is what it was (the open invoice is still owed), also once DynamoDB's TTL has deleted
    # the expired invoices and everything under them
    assert open_balances(wiring.ledger()) == balances_before
    tallies = aws.items("TALLY#")
    expired = [i for i in aws.items("INVOICE#") if int(i.get("ttl", 2**40)) < after_retention().timestamp()]
    assert expired
    for item in expired:
        aws.dynamodb.delete_item(TableName="payportal-test", Key={"pk": {"S": item["pk"]}, "sk": {"S": item["sk"]}})
    assert open_balances(wiring.ledger()) == balances_before
    assert aws.items("TALLY#") == tallies
    assert [i["sk"] for i in aws.items("INVOICE#") if i["sk"] == "INVOICE"] == ["INVOICE"]  # the open one

    # When the job runs again, it finds nothing to do
    again = run_job_at(clock, after_retention())
    assert again["erased"] == 0 and again["skipped"] == 0


def test_a_customer_with_a_later_record_is_looked_at_again_then(aws: Aws, clock: FixedClock) -> None:
    # Given a customer whose marker says earlier than their latest invoice's TTL (the period was lengthened)
    cid = create_customer(name=NAME, email=EMAIL)["id"]
    pay_by_cheque(create_invoice(cid)["id"])
    later = create_invoice(cid)
    pay_by_cheque(later["id"])
    stored = next(i for i in aws.items(f"INVOICE#{later['id']}") if i["sk"] == "INVOICE")
    longer = int(stored["ttl"]) + 86_400 * 365
    aws.dynamodb.update_item(
        TableName="payportal-test",
        Key={"pk": {"S": stored["pk"]}, "sk": {"S": "INVOICE"}},
        UpdateExpression="SET #t = :t",
        ExpressionAttributeNames={"#t": "ttl"},
        ExpressionAttributeValues={":t": {"N": str(longer)}},
    )

    # When the job runs after the marker's time but before that record's
    report = run_job_at(clock, after_retention())

    # Then the customer is kept and their marker moved to the later record's expiry
    assert report["erased"] == 0 and report["postponed"] == 1
    assert customer(aws, cid)["email"] == EMAIL
    moved = marker(aws, cid)
    assert moved is not None
    assert datetime.fromisoformat(moved["retain_until"]).timestamp() == longer


def test_one_bad_customer_never_stops_the_run(aws: Aws, clock: FixedClock) -> None:
    # Given a marker whose customer record is missing (written by hand, or half deleted) and a good customer
    good = create_customer(name=NAME, email=EMAIL)["id"]
    pay_by_cheque(create_invoice(good)["id"])
    ghost = dict(marker(aws, good) or {})
    ghost |= {"pk": "CUSTOMER#cus_ghost", "customer_id": "cus_ghost"}
    ghost["gsi2sk"] = ghost["gsi2sk"].replace(good, "cus_ghost")
    aws.dynamodb.put_item(TableName="payportal-test", Item=serialize(ghost))

    # When the job runs
    report = run_job_at(clock, after_retention())

    # Then the good customer is pseudonymised and the bad one is skipped, its marker left for the next run
    assert report["erased"] == 1 and report["skipped"] == 1
    assert customer(aws, good)["erased_at"]
    assert marker(aws, "cus_ghost") is not None


def test_the_job_stamps_what_earlier_changes_put_under_a_settled_invoice(aws: Aws, clock: FixedClock) -> None:
    # Given an invoice paid in two cheques: the first (and the audit entries before it) were written while it was
    # still owed, so they carry no TTL
    cid = create_customer()["id"]
    invoice = create_invoice(cid, amount_due=12_500, allow_partial=True)
    pay_by_cheque(invoice["id"], amount=5_000)
    pay_by_cheque(invoice["id"], amount=7_500)
    partition = aws.items(f"INVOICE#{invoice['id']}")
    ttl = next(i for i in partition if i["sk"] == "INVOICE")["ttl"]
    assert [i for i in partition if "ttl" not in i]

    # When the retention job runs (the next night)
    report = run_job_at(clock, wall_clock_now() + timedelta(days=1))

    # Then every financial item in the partition expires with the invoice, and the sweep is done
    assert report["swept"] == 1 and report["skipped"] == 0
    partition = aws.items(f"INVOICE#{invoice['id']}")
    assert partition and all(i["ttl"] == ttl for i in partition), [i["sk"] for i in partition if i.get("ttl") != ttl]
    again = run_job_at(clock, wall_clock_now() + timedelta(days=1))
    assert again["swept"] == 0


def test_an_invoice_reopened_loses_its_ttl_and_so_do_its_payments(aws: Aws, clock: FixedClock) -> None:
    # Given a settled invoice whose partition the job stamped
    cid = create_customer()["id"]
    invoice = create_invoice(cid, amount_due=12_500)
    pay_by_cheque(invoice["id"])
    run_job_at(clock, wall_clock_now() + timedelta(days=1))
    ledger = wiring.ledger()
    paid = ledger.get_invoice(invoice["id"])
    assert paid is not None and paid.retained_until is not None

    # When it is reopened (what a refund owed again or a lost dispute does)
    reopened = replace(paid, status=InvoiceStatus.PARTIALLY_PAID, amount_reopened=2_000, version=paid.version + 1)
    ledger.commit(Change(invoice_update=reopened))
    report = run_job_at(clock, wall_clock_now() + timedelta(days=1))

    # Then nothing under it expires any more (a payment is never deleted under an invoice being collected)
    assert report["swept"] == 1
    assert all("ttl" not in i for i in aws.items(f"INVOICE#{invoice['id']}") if not i["sk"].startswith("REMINDER"))
    # And its customer is kept when their marker comes due
    assert run_job_at(clock, after_retention())["erased"] == 0
    assert customer(aws, cid).get("erased_at") is None


def test_a_marker_that_does_not_read_is_reported_and_the_run_goes_on(aws: Aws, clock: FixedClock) -> None:
    # Given a customer due for pseudonymisation and, in the same index partition, a marker written by hand
    # with a retain-until that is no instant
    good = create_customer(name=NAME, email=EMAIL)["id"]
    pay_by_cheque(create_invoice(good)["id"])
    broken = dict(marker(aws, good) or {})
    broken |= {"pk": "CUSTOMER#cus_broken", "customer_id": "cus_broken", "retain_until": "soon"}
    broken["gsi2sk"] = broken["gsi2sk"].replace(good, "cus_broken")
    aws.dynamodb.put_item(TableName="payportal-test", Item=serialize(broken))

    # When the job runs
    report = run_job_at(clock, after_retention())

    # Then the good customer is pseudonymised and the broken marker is reported, by its key only
    assert report["erased"] == 1 and report["skipped"] == 1
    assert customer(aws, good)["erased_at"]


def test_a_fee_recorded_after_the_sweep_keeps_the_ttl_and_one_read_before_it_is_refused(
    aws: Aws, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a card payment of part of an invoice (no TTL: still owed), then a cheque settling it, and the next
    # night's sweep stamping the card payment with the invoice's TTL
    fake = FakeGateway()
    monkeypatch.setattr(wiring, "gateway", lambda: fake)
    cid = create_customer()["id"]
    invoice = create_invoice(cid, amount_due=12_500, allow_partial=True)
    intent = pay_by_card(invoice, 5_000)
    ledger = wiring.ledger()
    [before_sweep] = ledger.get_invoice_payments(invoice["id"])
    pay_by_cheque(invoice["id"], amount=7_500)
    run_job_at(clock, wall_clock_now() + timedelta(days=1))
    [swept] = [p for p in ledger.get_invoice_payments(invoice["id"]) if p.key == intent]
    assert before_sweep.retained_until is None and swept.retained_until is not None

    # Then a fee write from the copy read before the sweep is refused: it would have put the items back without it
    stale = replace(before_sweep, fee=A_FEE, refund_version=before_sweep.refund_version + 1)
    with pytest.raises(ChangeRejected):
        ledger.commit(Change(payment_fee=stale))
    # And the fee reconciliation records keeps the TTL on the payment and each of its list copies
    fake.fees[intent] = A_FEE
    assert reconcile_run()["fees_recorded"] == 1
    mine = [i for i in aws.items(f"INVOICE#{invoice['id']}") if "PAYMENT" in i["sk"] and intent in i["sk"]]
    assert len(mine) == 4 and all(i.get("fee") and int(i["ttl"]) == int(swept.retained_until.timestamp()) for i in mine)
