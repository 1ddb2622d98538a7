"""The customer's account over fakes: codes by email (minted when sent), their limits, sessions, step-up, and
the statement."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta

import pytest

from shared.domain.account import (
    IDLE_TIMEOUT,
    MAX_LIFETIME,
    RATE_LIMITS,
    AccountSession,
    RateLimit,
    StepUpAction,
    sign_in_key,
)
from shared.domain.errors import PaymentMethodStillNeeded
from shared.domain.invoices import InvoiceStatus
from shared.domain.messages import decode, encode
from shared.domain.records import AuditEntry, AuditSubject, Autopay
from shared.services import account_autopay, account_payment_methods, account_sign_in, account_statement, step_up
from shared.services.account_autopay import AutopayChange
from shared.services.account_codes import CodeRefused, Refusal, TooManyRequests
from shared.services.account_payment_methods import MethodChange, MethodChangeKind
from shared.services.account_sign_in import BadAddress
from shared.services.checkout import CheckoutConfig
from shared.services.outbox import Branding, Delivery, deliver
from shared.services.ports import Change
from shared.services.step_up import StepUpRequired
from tests.fakes import FixedClock, InMemoryLedger, RecordingMailer, RecordingPublisher
from tests.fakes.account import FakeAccountStore
from tests.fakes.gateway import FakeGateway
from tests.fakes.pages import a_ledger_with
from tests.fakes.records import NOW, a_customer, an_invoice

BRANDING = Branding("Acme", "billing@acme.example", "https://pay.example.test", 30)
IP = "198.51.100.7"
CODE = re.compile(r"\b(\d{6})\b")


class Account:
    """cus_1 (cus_1@example.com) with two open invoices, the account store, and the outbox that mails codes."""

    def __init__(self, ledger: InMemoryLedger | None = None) -> None:
        self.ledger = ledger or a_ledger_with(
            a_customer(), an_invoice("inv_1"), an_invoice("inv_2", amount_due=5_000, due_date=date(2026, 9, 1))
        )
        self.store = FakeAccountStore(self.ledger)
        self.clock = FixedClock(NOW)
        self.mailer = RecordingMailer()
        self.gateway = FakeGateway()

    def ask(self, email: str = "cus_1@example.com", ip: str = IP) -> account_sign_in.CodeAsked:
        return account_sign_in.ask_sign_in_code(self.store, self.ledger, self.clock, email=email, source_ip=ip)

    def send_outbox(self) -> list[str]:
        """Deliver what is queued; the codes the emails carried, in order."""
        codes = []
        for message in self.ledger.outbox_messages():
            delivered = deliver(
                message.id, store=self.ledger, ledger=self.ledger, mailer=self.mailer,
                publisher=RecordingPublisher(), clock=self.clock, branding=BRANDING, gateway=self.gateway,
                accounts=self.store,
            )  # fmt: skip
            if delivered.outcome is Delivery.SENT:
                match = CODE.search(self.mailer.sent[-1].email.text)
                assert match
                codes.append(match.group(1))
        return codes

    def code(self, email: str = "cus_1@example.com") -> str:
        self.ask(email)
        (code,) = self.send_outbox()
        return code

    def sign_in(self, code: str, email: str = "cus_1@example.com", ip: str = IP) -> account_sign_in.SignedIn:
        return account_sign_in.sign_in(self.store, self.clock, email=email, code=code, source_ip=ip)

    def later(self, delta: timedelta) -> None:
        self.clock.instant = self.clock.instant + delta


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_code_by_email_opens_a_session_for_that_customer() -> None:
    # Given a customer asks for a code
    account = Account()
    code = account.code()
    # Then the email went to their address, and the table holds only the code's salted hash
    assert account.mailer.sent[0].email.to == "cus_1@example.com"
    challenge = account.store.challenges[sign_in_key("cus_1@example.com")]
    assert code not in repr(challenge) and challenge.code_hash and challenge.salt
    # When they type it
    signed_in = account.sign_in(code)
    # Then a session opens their records, stored under the id's hash, and the code is used up
    assert signed_in.session.customer_ids == ("cus_1",)
    (audit,) = [e for e in account.ledger.audit if e.action == "account.signed_in"]
    assert (audit.subject_id, audit.actor) == ("cus_1", signed_in.session.actor)
    assert (
        signed_in.session_id not in account.store.sessions and signed_in.session.session_hash in account.store.sessions
    )
    with pytest.raises(CodeRefused) as again:
        account.sign_in(code)
    assert again.value.reason is Refusal.EXPIRED


def test_an_unknown_address_gets_the_same_answer_and_no_email() -> None:
    account = Account()
    # When someone asks for a code for an address nobody has, and for a known one
    unknown = account.ask("nobody@example.com")
    known = account.ask("cus_1@example.com")
    # Then both get the same answer, both wrote a challenge and an email message (the same path)...
    assert unknown == known
    assert sign_in_key("nobody@example.com") in account.store.challenges
    assert len(account.ledger.outbox_messages()) == 2
    # ...but only the known address is mailed; the unknown one's code can never be right
    assert len(account.send_outbox()) == 1
    with pytest.raises(CodeRefused) as refused:
        account.sign_in("123456", email="nobody@example.com")
    assert refused.value.reason is Refusal.WRONG


def test_the_address_is_matched_as_customer_search_folds_it() -> None:
    account = Account()
    code = account.code("  CUS_1@Example.COM ")
    assert account.sign_in(code, email="cus_1@example.com").session.customer_ids == ("cus_1",)


def test_one_address_with_several_customers_opens_all_of_them() -> None:
    ledger = a_ledger_with(a_customer(), a_customer("cus_2", email="cus_1@example.com", name="Ada Ltd"))
    account = Account(ledger)
    assert set(account.sign_in(account.code()).session.customer_ids) == {"cus_1", "cus_2"}


def test_what_is_not_an_address_is_said_so() -> None:
    with pytest.raises(BadAddress):
        Account().ask("not an address")


def test_a_code_expires_after_ten_minutes() -> None:
    account = Account()
    code = account.code()
    account.later(timedelta(minutes=10))
    with pytest.raises(CodeRefused) as refused:
        account.sign_in(code)
    assert refused.value.reason is Refusal.EXPIRED


def test_five_wrong_codes_lock_that_code() -> None:
    account = Account()
    code = account.code()
    for left in (4, 3, 2, 1):
        with pytest.raises(CodeRefused) as refused:
            account.sign_in(wrong(code))
        assert (refused.value.reason, refused.value.tries_left) == (Refusal.WRONG, left)
    with pytest.raises(CodeRefused) as fifth:
        account.sign_in(wrong(code))
    assert fifth.value.reason is Refusal.LOCKED
    # Then even the right code opens nothing
    with pytest.raises(CodeRefused) as right:
        account.sign_in(code)
    assert right.value.reason is Refusal.LOCKED


def test_what_is_not_six_digits_is_not_counted_as_a_try() -> None:
    account = Account()
    code = account.code()
    for typed in ("12345", "abcdef", "١٢٣٤٥٦", "1234567", ""):
        with pytest.raises(CodeRefused) as refused:
            account.sign_in(typed)
        assert refused.value.reason is Refusal.MALFORMED
    assert account.sign_in(f"{code[:3]} {code[3:]}").session.customer_ids == ("cus_1",)


def test_a_new_code_at_most_once_a_minute() -> None:
    account = Account()
    first = account.code()
    # When a new one is asked for within the minute
    assert account.ask().recent
    assert account.send_outbox() == []
    # Then the first still works; after a minute a new one replaces it
    account.later(timedelta(seconds=61))
    assert not account.ask().recent
    (second,) = account.send_outbox()
    with pytest.raises(CodeRefused):
        account.sign_in(first) if first != second else account.sign_in(wrong(second))
    assert account.sign_in(second)


def test_codes_are_limited_per_address_per_hour() -> None:
    account = Account()
    for _ in range(RATE_LIMITS[RateLimit.CODES_PER_ADDRESS]):
        account.ask()
        account.later(timedelta(seconds=61))
    with pytest.raises(TooManyRequests):
        account.ask(ip="192.0.2.1")  # another client: still the same address
    account.later(timedelta(hours=1))
    assert not account.ask().recent


def test_codes_are_limited_per_client_whatever_the_address() -> None:
    account = Account()
    for n in range(RATE_LIMITS[RateLimit.CODES_PER_CLIENT]):
        account.ask(f"someone{n}@example.com")
    with pytest.raises(TooManyRequests):
        account.ask("cus_1@example.com")
    assert account.ask("cus_1@example.com", ip="192.0.2.1")  # another client is not held back


def test_code_checks_are_limited_per_client() -> None:
    account = Account()
    for n in range(RATE_LIMITS[RateLimit.CHECKS_PER_CLIENT]):
        with pytest.raises(CodeRefused):
            account.sign_in("000000", email=f"someone{n}@example.com")
    with pytest.raises(TooManyRequests):
        account.sign_in("000000")


def test_a_session_lapses_when_idle_and_at_its_lifetime_and_at_sign_out() -> None:
    account = Account()
    signed_in = account.sign_in(account.code())
    current = account_sign_in.current(account.store, account.clock, signed_in.session_id)
    assert current is not None
    account.later(IDLE_TIMEOUT)
    assert account_sign_in.current(account.store, account.clock, signed_in.session_id) is None
    assert not account.store.sessions  # ended on the spot
    # Active all along, it still ends at its lifetime
    account.later(timedelta(seconds=61))
    again = account.sign_in(account.code())
    for _ in range(int(MAX_LIFETIME / timedelta(minutes=10))):
        account.later(timedelta(minutes=10))
        account_sign_in.current(account.store, account.clock, again.session_id)
    assert account_sign_in.current(account.store, account.clock, again.session_id) is None
    # And sign-out ends one server-side
    account.later(timedelta(seconds=61))
    third = account.sign_in(account.code())
    account_sign_in.sign_out(account.store, third.session)
    assert account_sign_in.current(account.store, account.clock, third.session_id) is None


def test_the_statement_shows_every_invoice_with_buckets_and_totals() -> None:
    account = Account()
    account.ledger.commit(Change(new_invoice=an_invoice("inv_3", status=InvoiceStatus.PAID, amount_paid=12_500)))
    session = account.sign_in(account.code()).session
    view = account_statement.statement(
        account.ledger, account.clock, session, notices=account_statement.Notices(), promise_max_days=14
    )
    (customer,) = view.customers
    assert [i.id for i in customer.open_invoices] == ["inv_2", "inv_1"]  # oldest due first
    assert [i.id for i in customer.settled_invoices] == ["inv_3"]
    overdue = customer.open_invoices[0]
    assert overdue.bucket == "days_61_90" and overdue.overdue  # due 2026-09-01, today 2026-11-02
    (usd,) = view.totals
    assert (usd.currency, usd.owed, usd.overdue) == ("USD", 17_500, 5_000)


def _pay(account: Account, session: AccountSession, invoice_id: str, amount: str = "") -> str:
    return account_statement.pay_invoice(
        account.ledger, account.gateway, account.clock, CHECKOUT, session, invoice_id, amount_text=amount
    )


def test_paying_from_the_statement_opens_checkout_for_ones_own_invoice_only() -> None:
    ledger = a_ledger_with(a_customer(), an_invoice(), a_customer("cus_9"), an_invoice("inv_9", customer_id="cus_9"))
    account = Account(ledger)
    session = account.sign_in(account.code()).session
    url = _pay(account, session, "inv_1", amount="1")  # an amount where none may be partial: ignored
    assert url.startswith("http")
    (request,) = account.gateway.checkout_requests
    assert (request.amount, request.currency, request.metadata["invoice_id"]) == (12_500, "USD", "inv_1")
    # Stripe's URLs name the invoice and the attempt; no pay link is minted, and none is in them
    assert request.success_url.startswith("https://pay.example.test/pay/return/inv_1/")
    assert not account.ledger.pay_links
    with pytest.raises(account_statement.NotFound):
        _pay(account, session, "inv_9")


def test_a_partial_payment_from_the_statement_reads_the_amount_as_the_customer_writes_it() -> None:
    invoice = an_invoice(allow_partial=True, min_partial_amount=1_000)
    account = Account(a_ledger_with(a_customer(locale="de-DE"), invoice))
    session = account.sign_in(account.code()).session
    assert _pay(account, session, "inv_1", amount="50,00").startswith("http")
    assert account.gateway.checkout_requests[-1].amount == 5_000
    for refused in ("5,00", "1e2", "200,00", "abc"):
        assert _pay(account, session, "inv_1", amount=refused) == "/account?pay_refused=inv_1#inv-inv_1"


CHECKOUT = CheckoutConfig(base_url="https://pay.example.test", payment_method_types=("card",))


def _apply(account: Account, session: object, change: AutopayChange, code: str) -> str:
    return account_autopay.apply(
        account.store, account.ledger, account.gateway, account.clock, account.clock, CHECKOUT, session,  # type: ignore[arg-type]
        change, code=code, source_ip=IP,
    )  # fmt: skip


def test_turning_autopay_on_needs_a_fresh_code_even_inside_a_session() -> None:
    account = Account()
    session = account.sign_in(account.code()).session
    change = AutopayChange("cus_1", on=True)
    # Without a code: refused, nothing opened at Stripe
    with pytest.raises(StepUpRequired):
        _apply(account, session, change, "")
    assert not account.gateway.setup_requests
    # The sign-in code does not do; a step-up code for this action does, once
    account_autopay.ask_code(account.store, account.ledger, account.clock, session, change, source_ip=IP)
    (code,) = account.send_outbox()
    assert "confirm" in account.mailer.sent[-1].email.subject.lower()
    url = _apply(account, session, change, code)
    assert url.startswith("http") and len(account.gateway.setup_requests) == 1
    request = account.gateway.setup_requests[0]
    assert request.success_url == "https://pay.example.test/account?autopay=on"
    assert request.metadata == {"customer_id": "cus_1", "purpose": "autopay"}
    with pytest.raises(CodeRefused):
        _apply(account, session, change, code)


def test_a_step_up_code_is_good_for_its_own_action_and_session_only() -> None:
    account = Account()
    session = account.sign_in(account.code()).session
    on = AutopayChange("cus_1", on=True)
    account_autopay.ask_code(account.store, account.ledger, account.clock, session, on, source_ip=IP)
    (code,) = account.send_outbox()
    with pytest.raises(CodeRefused):
        step_up.confirm(account.store, account.clock, session, StepUpAction.PAYMENT_METHOD, code=code, source_ip=IP)
    other = replace(session, session_hash="0" * 64)
    with pytest.raises(CodeRefused):
        step_up.confirm(account.store, account.clock, other, StepUpAction.AUTOPAY_ON, code=code, source_ip=IP)
    account.later(timedelta(minutes=5))
    with pytest.raises(CodeRefused) as late:
        _apply(account, session, on, code)
    assert late.value.reason is Refusal.EXPIRED


def test_turning_autopay_off_from_the_account_is_audited_as_the_customer() -> None:
    ledger = a_ledger_with(a_customer(autopay=Autopay(enabled_at=NOW)), an_invoice())
    account = Account(ledger)
    session = account.sign_in(account.code()).session
    change = AutopayChange("cus_1", on=False)
    account_autopay.ask_code(account.store, account.ledger, account.clock, session, change, source_ip=IP)
    (code,) = account.send_outbox()
    assert _apply(account, session, change, code) == "/account?autopay=off"
    customer = account.ledger.get_customer("cus_1")
    assert customer is not None and customer.autopay is None
    audit = [e for e in account.ledger.audit if e.action == "autopay.disabled"]
    assert audit and audit[-1].actor.startswith("customer:account:")


def test_another_customers_autopay_is_not_reachable() -> None:
    ledger = a_ledger_with(a_customer(), a_customer("cus_9"))
    account = Account(ledger)
    session = account.sign_in(account.code()).session
    with pytest.raises(account_statement.NotFound):
        account_autopay.ask_code(
            account.store, account.ledger, account.clock, session, AutopayChange("cus_9", on=True), source_ip=IP
        )


def test_a_promise_to_pay_from_the_statement_pauses_reminders_as_on_the_pay_page() -> None:
    account = Account()
    session = account.sign_in(account.code()).session
    view = account_statement.statement(
        account.ledger, account.clock, session, notices=account_statement.Notices(), promise_max_days=14
    )
    inv_1 = next(i for i in view.customers[0].invoices if i.id == "inv_1")
    assert inv_1.promise_until == date(2026, 11, 16)  # today in London plus 14 days
    # A date past the window is refused, nothing recorded
    refused = account_statement.promise(
        account.ledger, account.clock, session, "inv_1", date_text="2026-12-31", max_days=14
    )
    assert refused.startswith("/account?promise_refused=inv_1")
    assert account.ledger.get_invoice("inv_1").promised_at is None  # type: ignore[union-attr]
    for hostile in ("", "yesterday", "2026-02-30", "9" * 500):
        assert "promise_refused" in account_statement.promise(
            account.ledger, account.clock, session, "inv_1", date_text=hostile, max_days=14
        )
    done = account_statement.promise(
        account.ledger, account.clock, session, "inv_1", date_text="2026-11-10", max_days=14
    )
    assert done.startswith("/account?promised=inv_1")
    invoice = account.ledger.get_invoice("inv_1")
    assert invoice is not None and invoice.promised_at == NOW
    (entry,) = [e for e in account.ledger.audit if e.action == "invoice.promise_to_pay"]
    assert entry.actor == session.actor
    again = account_statement.statement(
        account.ledger, account.clock, session, notices=account_statement.Notices(), promise_max_days=14
    )
    assert next(i for i in again.customers[0].invoices if i.id == "inv_1").promised_on == date(2026, 11, 10)


def test_an_email_for_a_replaced_code_is_not_sent() -> None:
    account = Account()
    account.ask()
    account.later(timedelta(seconds=61))
    account.ask()
    # Both emails are delivered late, in order: only the newest code goes out, and it works
    (code,) = account.send_outbox()
    assert account.sign_in(code).session.customer_ids == ("cus_1",)


def test_the_code_email_keeps_no_code_in_the_outbox() -> None:
    account = Account()
    account.ask()
    (message,) = account.ledger.outbox_messages()
    kind, name, data = encode(message.body)
    assert (kind, name, set(data)) == ("email", "account_code", {"challenge_key", "challenge_id"})
    assert decode(kind, name, data) == message.body


def test_no_code_goes_out_once_the_customers_address_changed() -> None:
    # Given a code asked for cus_1's address, then the operator corrects the address before the email goes out
    account = Account()
    account.ask()
    customer = account.ledger.get_customer("cus_1")
    assert customer is not None
    moved = replace(customer, email="ada@new.example", version=customer.version + 1)
    account.ledger.commit(Change(customer_update=moved, audit=[_audit("cus_1")]))
    # Then nothing is sent, to either address
    assert account.send_outbox() == [] and account.mailer.sent == []


def _audit(customer_id: str) -> AuditEntry:
    return AuditEntry(
        subject=AuditSubject.CUSTOMER, subject_id=customer_id, action="customer.updated", actor="t", at=NOW
    )


def _methods_account(autopay: bool = False) -> tuple[Account, AccountSession]:
    customer = a_customer(stripe_customer_id="cus_stripe_1", autopay=Autopay(enabled_at=NOW) if autopay else None)
    account = Account(a_ledger_with(customer, an_invoice()))
    account.gateway.save_card("cus_stripe_1", last4="1111")
    account.gateway.save_card("cus_stripe_1", last4="4242")
    return account, account.sign_in(account.code()).session


def _change(account: Account, session: AccountSession, change: MethodChange, code: str) -> str:
    return account_payment_methods.apply(
        account.store, account.ledger, account.gateway, account.clock, account.clock, CHECKOUT, session, change,
        code=code, source_ip=IP,
    )  # fmt: skip


def test_removing_a_saved_card_needs_a_fresh_code() -> None:
    account, session = _methods_account()
    page = account_payment_methods.methods_page(account.ledger, account.gateway, session)
    newest, older = page.customers[0].methods.methods
    assert (newest.last4, older.last4) == ("4242", "1111") and page.customers[0].methods.charged_id == newest.id
    remove = MethodChange("cus_1", older.id, MethodChangeKind.REMOVE)
    with pytest.raises(StepUpRequired):
        _change(account, session, remove, "")
    assert account.gateway.detached == []
    account_payment_methods.ask_code(account.store, account.clock, session, remove, source_ip=IP)
    (code,) = account.send_outbox()
    assert _change(account, session, remove, code) == "/account/payment-methods?done=removed"
    assert account.gateway.detached == [older.id]
    (entry,) = [e for e in account.ledger.audit if e.action == "payment_method.removed"]
    assert entry.actor == session.actor and entry.details["last4"] == "1111"


def test_choosing_the_card_autopay_charges_needs_a_fresh_code_too() -> None:
    account, session = _methods_account()
    older = account.gateway.saved["cus_stripe_1"][1]
    choose = MethodChange("cus_1", older.id, MethodChangeKind.CHOOSE)
    account_payment_methods.ask_code(account.store, account.clock, session, choose, source_ip=IP)
    (code,) = account.send_outbox()
    assert _change(account, session, choose, code) == "/account/payment-methods?done=chosen"
    page = account_payment_methods.methods_page(account.ledger, account.gateway, session)
    assert page.customers[0].methods.charged_id == older.id


def test_another_customers_payment_method_is_not_reachable() -> None:
    account, session = _methods_account()
    with pytest.raises(account_statement.NotFound):
        account_payment_methods.ask_code(
            account.store,
            account.clock,
            session,
            MethodChange("cus_9", "pm_fake_1", MethodChangeKind.REMOVE),
            source_ip=IP,
        )
    account_payment_methods.ask_code(
        account.store, account.clock, session, MethodChange("cus_1", "pm_1", MethodChangeKind.REMOVE), source_ip=IP
    )
    (code,) = account.send_outbox()
    with pytest.raises(account_statement.NotFound):  # an id not among the customer's own
        _change(account, session, MethodChange("cus_1", "pm_someone_elses", MethodChangeKind.REMOVE), code)


def test_the_only_card_autopay_charges_stays() -> None:
    customer = a_customer(stripe_customer_id="cus_stripe_1", autopay=Autopay(enabled_at=NOW))
    account = Account(a_ledger_with(customer, an_invoice()))
    only = account.gateway.save_card("cus_stripe_1")
    session = account.sign_in(account.code()).session
    remove = MethodChange("cus_1", only.id, MethodChangeKind.REMOVE)
    account_payment_methods.ask_code(account.store, account.clock, session, remove, source_ip=IP)
    (code,) = account.send_outbox()
    with pytest.raises(PaymentMethodStillNeeded):
        _change(account, session, remove, code)
    assert account.gateway.detached == []


def test_adding_a_payment_method_needs_a_fresh_code_then_opens_checkout_in_setup_mode() -> None:
    customer = a_customer(stripe_customer_id="cus_stripe_1")
    account = Account(a_ledger_with(customer, an_invoice()))
    session = account.sign_in(account.code()).session
    add = MethodChange("cus_1", "", MethodChangeKind.ADD)
    with pytest.raises(StepUpRequired):
        _change(account, session, add, "")
    assert account.gateway.setup_requests == []
    account_payment_methods.ask_code(account.store, account.clock, session, add, source_ip=IP)
    (code,) = account.send_outbox()
    url = _change(account, session, add, code)
    [request] = account.gateway.setup_requests
    assert url.startswith("https://") and request.stripe_customer_id == "cus_stripe_1"
    assert request.metadata == {"customer_id": "cus_1", "purpose": "add_method"}
    assert request.success_url == "https://pay.example.test/account/payment-methods?done=added"
    assert request.cancel_url == "https://pay.example.test/account/payment-methods"
    # The code is used up; another customer's record is none of the session's
    with pytest.raises(CodeRefused):
        _change(account, session, add, code)
    with pytest.raises(account_statement.NotFound):
        account_payment_methods.ask_code(
            account.store, account.clock, session, MethodChange("cus_9", "", MethodChangeKind.ADD), source_ip=IP
        )
