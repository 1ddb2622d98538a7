"""The front: what it adds to localstripe, as one aiohttp app (the stripe SDK only sees its base address change).

- `/v1/*` checks the API key and honours `Idempotency-Key` on every POST, as Stripe does (api_gate.py);
  localstripe ignores both.
- Checkout Sessions (`/v1/checkout/sessions...`), with a hosted test page at `/checkout/{id}` that
  really pays (or saves the card) through localstripe, and `checkout.session.*` /
  `payment_intent.payment_failed` events POSTed to the webhook URL, signed as Stripe signs them and
  retried with backoff.
- Saved cards (saved_cards.py): a customer's cards listed newest first
  (`/v1/payment_methods?customer=`, `/v1/customers/{id}/payment_methods`), and off-session charges
  (`POST /v1/payment_intents` with `off_session` and `confirm=true`) that succeed or fail as Stripe's test
  cards do, with Stripe's 402 card errors and `payment_intent.succeeded` / `payment_failed` events.
- Webhook endpoints (`/v1/webhook_endpoints`, webhook_endpoints.py), as records.
- Refunds (`POST /v1/refunds`, `GET /v1/refunds/{id}`, refunds.py): checked against what is left on the
  charge, with `refund.created` and `charge.refunded` events; `/_front/refunds/{id}/fail` fails one as a
  closed card does later (`refund.updated`, `refund.failed`).
- Everything else under `/v1/` goes to localstripe as it came; PaymentIntents coming back are shown as
  Stripe shows them (payment_intents.py).
- Balance transactions (`GET /v1/balance_transactions/{id}`): localstripe's, with a card fee laid over
  (fees.py; localstripe keeps none).
- Events (`GET /v1/events`, event_list.py): every event made, listed as Stripe lists them (30 days).
- `/_front/...` for tests: events sent and their delivery, redelivery, delivery on or off
  (`/_front/delivery`), disputes opened and closed on a payment, delayed payment methods, health.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

from local.fake_stripe.api_gate import ApiGate
from local.fake_stripe.checkout import CheckoutSession, new_session
from local.fake_stripe.config import FrontConfig
from local.fake_stripe.errors import LocalstripeFailure, StripeApiError, front_errors
from local.fake_stripe.event_list import events_page
from local.fake_stripe.events import EventRecord, WebhookSender
from local.fake_stripe.fees import dispute_fee, dispute_transaction, with_fee
from local.fake_stripe.ids import random_id
from local.fake_stripe.localstripe_client import LocalstripeClient, nested, path_id
from local.fake_stripe.pages import CardProblem, checkout_page, closed_page, read_card
from local.fake_stripe.pagination import list_limit, page_of
from local.fake_stripe.params import unflatten
from local.fake_stripe.payment_intents import PaymentIntentViews, expanded_fields
from local.fake_stripe.payments import (
    Card,
    charge_off_session,
    find_payment_method,
    open_delayed_payment,
    pay_by_card,
    save_card,
    settle_delayed_payment,
)
from local.fake_stripe.refunds import RefundBook, refund_ask
from local.fake_stripe.saved_cards import (
    NoSuchCustomer,
    check_usable,
    is_off_session_charge,
    off_session_charge,
    saved_cards,
)
from local.fake_stripe.webhook_endpoints import add_webhook_endpoint_routes

logger = logging.getLogger("local.fake_stripe")

# Request headers localstripe may care about; Authorization is replaced by the front's own key.
_FORWARDED_HEADERS = ("Content-Type", "Accept", "Stripe-Version", "Stripe-Account", "Idempotency-Key")
_SWEEP_INTERVAL_S = 1.0


class StripeFront:
    def __init__(self, config: FrontConfig, *, base_url: str, localstripe_url: str) -> None:
        self.config = config
        self.base_url = base_url
        self.localstripe_url = localstripe_url
        self.sessions: dict[str, CheckoutSession] = {}
        self.intents = PaymentIntentViews()
        self.refunds = RefundBook()
        self.disputes: dict[str, dict[str, Any]] = {}
        self.webhooks = WebhookSender(
            config.webhook_url,
            config.webhook_secret,
            max_attempts=config.webhook_max_attempts,
            first_backoff_s=config.webhook_first_backoff_s,
        )
        self._session_locks: dict[str, asyncio.Lock] = {}
        self._http: aiohttp.ClientSession | None = None
        self._sweeper: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------

    async def start(self, _app: web.Application) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        await self.webhooks.start()
        self._sweeper = asyncio.get_running_loop().create_task(self._expire_overdue_sessions())

    async def stop(self, _app: web.Application) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        await self.webhooks.close()
        if self._http is not None:
            await self._http.close()

    @property
    def localstripe(self) -> LocalstripeClient:
        assert self._http is not None, "the front is not started"
        return LocalstripeClient(self.localstripe_url, self._http)

    def _session_lock(self, session_id: str) -> asyncio.Lock:
        # One state change at a time per session: a double-clicked Pay must not charge twice.
        return self._session_locks.setdefault(session_id, asyncio.Lock())

    # -- /v1/checkout/sessions ---------------------------------------------------------------------------

    async def create_session(self, request: web.Request) -> web.Response:
        params = unflatten(parse_qsl(await request.text(), keep_blank_values=True))
        session = new_session(params, now=int(time.time()))
        if session.customer:
            await self._require_customer(session.customer)
        self.sessions[session.id] = session
        logger.info(
            "checkout session %s created (%s, %s %s)", session.id, session.mode, session.amount_total, session.currency
        )
        return await self._session_reply(session, params.get("expand"))

    async def list_sessions(self, request: web.Request) -> web.Response:
        query = unflatten(request.query.items())
        found = [s for s in reversed(self.sessions.values()) if _matches(s, query)]
        if starting_after := query.get("starting_after"):
            ids = [s.id for s in found]
            found = found[ids.index(starting_after) + 1 :] if starting_after in ids else []
        limit = list_limit(query.get("limit"))
        return web.json_response(
            {
                "object": "list",
                "data": [s.to_stripe(self.base_url) for s in found[:limit]],
                "has_more": len(found) > limit,
                "url": "/v1/checkout/sessions",
            }
        )

    async def retrieve_session(self, request: web.Request) -> web.Response:
        session = self._session_or_404(request)
        return await self._session_reply(session, unflatten(request.query.items()).get("expand"))

    async def session_line_items(self, request: web.Request) -> web.Response:
        session = self._session_or_404(request)
        url = f"/v1/checkout/sessions/{session.id}/line_items"
        return web.json_response(_line_items_list(session, url))

    async def expire_session(self, request: web.Request) -> web.Response:
        session = self._session_or_404(request)
        if not await self._expire(session):
            raise StripeApiError(
                400, f"Only Checkout Sessions with a status of `open` can be expired. This one is `{session.status}`."
            )
        return web.json_response(session.to_stripe(self.base_url))

    async def _session_reply(self, session: CheckoutSession, expand: Any) -> web.Response:
        body = session.to_stripe(self.base_url)
        fields = expand if isinstance(expand, list) else [expand] if isinstance(expand, str) else []
        for name in fields:
            if name == "line_items":
                body["line_items"] = _line_items_list(session, f"/v1/checkout/sessions/{session.id}/line_items")
            elif name in {"payment_intent", "setup_intent", "customer"} and body.get(name):
                expanded = await self.localstripe.ok("GET", f"/v1/{name}s/{body[name]}")
                body[name] = self.intents.present(expanded) if name == "payment_intent" else expanded
        return web.json_response(body)

    def _session_or_404(self, request: web.Request) -> CheckoutSession:
        session_id = request.match_info["id"]
        session = self.sessions.get(session_id)
        if session is None:
            raise StripeApiError(
                404, f"No such checkout.session: '{session_id}'", code="resource_missing", param="session"
            )
        return session

    async def _require_customer(self, customer: str) -> None:
        status, _ = await self.localstripe.call("GET", f"/v1/customers/{path_id(customer)}")
        if status == 404:
            raise StripeApiError(400, f"No such customer: '{customer}'", code="resource_missing", param="customer")

    # -- saved cards and off-session charges -------------------------------------------------------------

    async def create_payment_intent(self, request: web.Request) -> web.Response:
        params = unflatten(parse_qsl(await request.text(), keep_blank_values=True))
        if not is_off_session_charge(params):
            return await self.proxy(request)
        charge = off_session_charge(params)
        if charge.customer:
            await self._require_customer(charge.customer)
        method = await find_payment_method(self.localstripe, charge.payment_method)
        if method is None:
            raise StripeApiError(
                400,
                f"No such PaymentMethod: '{charge.payment_method}'",
                code="resource_missing",
                param="payment_method",
            )
        check_usable(method, charge.customer)
        outcome = await charge_off_session(self.localstripe, charge.intent_params(), method)
        intent_id = str(outcome.payment_intent["id"])
        if charge.description:
            self.intents.remember(intent_id, description=charge.description)
        if outcome.last_payment_error is None:
            logger.info("off-session charge %s succeeded", intent_id)
            self.webhooks.publish("payment_intent.succeeded", self.intents.present(outcome.payment_intent))
            return web.json_response(self.intents.present(outcome.payment_intent, expanded=expanded_fields(params)))
        self.intents.record_failure(intent_id, outcome.last_payment_error)
        intent = self.intents.present(outcome.payment_intent)
        logger.info("off-session charge %s failed (%s)", intent_id, outcome.last_payment_error["decline_code"])
        self.webhooks.publish("payment_intent.payment_failed", intent)
        # Stripe's card error: the PaymentIntent's last_payment_error, plus the PaymentIntent itself.
        return web.json_response({"error": {**outcome.last_payment_error, "payment_intent": intent}}, status=402)

    async def list_payment_methods(self, request: web.Request) -> web.Response:
        query = unflatten(request.query.items())
        in_path = "customer" in request.match_info
        customer = request.match_info["customer"] if in_path else query.get("customer")
        if query.get("type") not in (None, "", "card"):
            raise StripeApiError(400, "The local Stripe front lists card PaymentMethods only.", param="type")
        limit = list_limit(query.get("limit"))
        cards: list[dict[str, Any]] = []
        # Stripe lists no cards when no customer is named.
        if isinstance(customer, str) and customer:
            try:
                cards = await saved_cards(self.localstripe, customer)
            except NoSuchCustomer:
                raise StripeApiError(
                    404 if in_path else 400,
                    f"No such customer: '{customer}'",
                    code="resource_missing",
                    param="customer",
                ) from None
        data, has_more = page_of(
            cards, limit=limit, starting_after=query.get("starting_after"), ending_before=query.get("ending_before")
        )
        url = f"/v1/customers/{customer}/payment_methods" if in_path else "/v1/payment_methods"
        return web.json_response({"object": "list", "data": data, "has_more": has_more, "url": url})

    # -- refunds -----------------------------------------------------------------------------------------

    async def create_refund(self, request: web.Request) -> web.Response:
        ask = refund_ask(unflatten(parse_qsl(await request.text(), keep_blank_values=True)))
        intent_id, charge = await self._refunded_charge(ask.payment_intent, ask.charge)
        amount = self.refunds.check_amount(charge, ask.amount)
        params = [("charge", str(charge["id"])), ("amount", str(amount)), *nested("metadata", ask.metadata)]
        made = await self.localstripe.ok("POST", "/v1/refunds", params)
        refund = self.refunds.record(made, payment_intent=intent_id, reason=ask.reason)
        logger.info("refund %s of %s created (%s %s)", refund["id"], charge["id"], amount, refund["currency"])
        self.webhooks.publish("refund.created", refund)
        self.webhooks.publish("charge.refunded", self.refunds.charge_view(charge))
        return web.json_response(refund)

    async def retrieve_refund(self, request: web.Request) -> web.Response:
        refund = self.refunds.get(request.match_info["id"])
        if refund is None:
            raise StripeApiError(404, f"No such refund: '{request.match_info['id']}'", code="resource_missing")
        return web.json_response(refund)

    async def retrieve_event(self, request: web.Request) -> web.Response:
        """An event as Stripe serves it (`GET /v1/events/{id}`): what was sent, without our delivery state."""
        record = self.webhooks.get(request.match_info["id"])
        if record is None:
            raise StripeApiError(
                404, f"No such event: '{request.match_info['id']}'", code="resource_missing", param="id"
            )
        return web.json_response(record.event)

    async def retrieve_charge(self, request: web.Request) -> web.Response:
        """localstripe's charge, with the refunds and amount_refunded Stripe would show."""
        charge_id = request.match_info["id"]
        status, charge = await self.localstripe.call("GET", f"/v1/charges/{path_id(charge_id)}")
        if status != 200:
            raise StripeApiError(404, f"No such charge: '{charge_id}'", code="resource_missing", param="id")
        return web.json_response(self.refunds.charge_view(charge))

    async def retrieve_balance_transaction(self, request: web.Request) -> web.Response:
        """localstripe's balance transaction (it serves them under /v1/balance/history), with a fee (fees.py)."""
        transaction_id = request.match_info["id"]
        status, transaction = await self.localstripe.call("GET", f"/v1/balance/history/{path_id(transaction_id)}")
        if status != 200:
            raise StripeApiError(
                404, f"No such balance transaction: '{transaction_id}'", code="resource_missing", param="id"
            )
        return web.json_response(with_fee(transaction))

    async def fail_refund(self, request: web.Request) -> web.Response:
        """A test control: the refund fails later, as one to a closed card does."""
        refund = self.refunds.fail(request.match_info["id"])
        logger.info("refund %s failed", refund["id"])
        self.webhooks.publish("refund.updated", refund)
        self.webhooks.publish("refund.failed", refund)
        return web.json_response(refund)

    async def _refunded_charge(self, intent_id: str | None, charge_id: str | None) -> tuple[str | None, dict[str, Any]]:
        if intent_id is not None:
            status, intent = await self.localstripe.call("GET", f"/v1/payment_intents/{path_id(intent_id)}")
            if status == 404:
                raise StripeApiError(
                    400, f"No such payment_intent: '{intent_id}'", code="resource_missing", param="payment_intent"
                )
            latest = intent.get("latest_charge")
            charge_id = str(latest.get("id") if isinstance(latest, dict) else latest or "")
            if intent.get("status") != "succeeded" or not charge_id:
                raise StripeApiError(
                    400, f"PaymentIntent {intent_id} has no successful charge to refund.", param="payment_intent"
                )
        status, charge = await self.localstripe.call("GET", f"/v1/charges/{path_id(str(charge_id))}")
        if status == 404:
            raise StripeApiError(400, f"No such charge: '{charge_id}'", code="resource_missing", param="charge")
        charge_intent = charge.get("payment_intent")
        return intent_id or (str(charge_intent) if charge_intent else None), charge

    # -- everything else under /v1 -----------------------------------------------------------------------

    async def proxy(self, request: web.Request) -> web.Response:
        headers = {name: request.headers[name] for name in _FORWARDED_HEADERS if name in request.headers}
        status, body, content_type = await self.localstripe.forward(
            request.method, request.raw_path, await request.read(), headers
        )
        if not content_type.startswith("application/json"):
            # aiohttp's own plain-text 404/405: localstripe has no such route.
            raise StripeApiError(
                404,
                f"Unrecognized request URL ({request.method}: {request.path}). "
                "Neither the local Stripe front nor localstripe implements it.",
            )
        if request.path.startswith("/v1/payment_intents"):
            params = await _request_params(request)
            shown = self.intents.present_body(json.loads(body), expanded=expanded_fields(params))
            body = json.dumps(shown).encode()
        return web.Response(status=status, body=body, headers={"Content-Type": content_type})

    # -- the hosted page ---------------------------------------------------------------------------------

    async def checkout_page(self, request: web.Request) -> web.Response:
        session = self.sessions.get(request.match_info["id"])
        if session is None:
            return closed_page(None, status=404)
        return checkout_page(session) if session.is_open else closed_page(session, status=200)

    async def pay(self, request: web.Request) -> web.StreamResponse:
        session = self.sessions.get(request.match_info["id"])
        if session is None:
            return closed_page(None, status=404)
        form = {name: value for name, value in (await request.post()).items() if isinstance(value, str)}
        async with self._session_lock(session.id):
            if not session.is_open:
                return closed_page(session, status=409 if session.status == "complete" else 410)
            try:
                card = read_card(form)
                if session.mode == "setup":
                    return await self._save_card(session, card)
                return await self._pay(session, card)
            except CardProblem as problem:
                return checkout_page(session, error=problem, status=400)
            except (LocalstripeFailure, aiohttp.ClientError) as error:
                logger.error("checkout session %s: payment failed inside localstripe: %s", session.id, error)
                failure = CardProblem("The local Stripe stand-in failed; see the Stripe front's log.", "")
                return checkout_page(session, error=failure, status=502)

    async def _pay(self, session: CheckoutSession, card: Card) -> web.StreamResponse:
        outcome = await pay_by_card(self.localstripe, session, card)
        intent_id = str(outcome.payment_intent["id"])
        if session.setup_future_usage:
            self.intents.remember(intent_id, setup_future_usage=session.setup_future_usage)
        if outcome.last_payment_error is not None:
            session.failed_payment_intents.append(intent_id)
            self.intents.record_failure(intent_id, outcome.last_payment_error)
            logger.info("checkout session %s: card declined (%s)", session.id, intent_id)
            self.webhooks.publish("payment_intent.payment_failed", self.intents.present(outcome.payment_intent))
            return checkout_page(session, error=_card_problem(outcome.last_payment_error), status=402)
        await self._complete(session, payment_status="paid", payment_intent=intent_id)
        return _see_other(session.success_redirect())

    async def _save_card(self, session: CheckoutSession, card: Card) -> web.StreamResponse:
        outcome = await save_card(self.localstripe, session, card)
        if outcome.decline is not None:
            problem = _card_problem({"message": outcome.decline.message, "param": outcome.decline.param})
            return checkout_page(session, error=problem, status=402)
        session.setup_intent = str(outcome.setup_intent["id"])
        await self._complete(session, payment_status="no_payment_required", payment_intent=None)
        return _see_other(session.success_redirect())

    # -- state changes, each followed by its event -------------------------------------------------------

    async def _complete(self, session: CheckoutSession, *, payment_status: str, payment_intent: str | None) -> None:
        details = await self._customer_details(session)
        session.status = "complete"
        session.payment_status = payment_status
        session.payment_intent = payment_intent
        session.customer_details = details
        logger.info("checkout session %s complete (%s)", session.id, payment_status)
        self.webhooks.publish("checkout.session.completed", session.to_stripe(self.base_url))

    async def _customer_details(self, session: CheckoutSession) -> dict[str, Any]:
        email, name = session.customer_email, None
        if session.customer:
            status, customer = await self.localstripe.call("GET", f"/v1/customers/{session.customer}")
            if status == 200:
                email, name = customer.get("email") or email, customer.get("name")
        return {"email": email, "name": name, "address": None, "phone": None, "tax_exempt": "none", "tax_ids": []}

    async def _expire(self, session: CheckoutSession) -> bool:
        async with self._session_lock(session.id):
            if not session.is_open:
                return False
            session.status = "expired"
            logger.info("checkout session %s expired", session.id)
            self.webhooks.publish("checkout.session.expired", session.to_stripe(self.base_url))
            return True

    async def _expire_overdue_sessions(self) -> None:
        while True:
            await asyncio.sleep(_SWEEP_INTERVAL_S)
            now = time.time()
            for session in [s for s in self.sessions.values() if s.is_open and s.expires_at <= now]:
                await self._expire(session)

    # -- /v1/events --------------------------------------------------------------------------------------

    async def list_stripe_events(self, request: web.Request) -> web.Response:
        query = unflatten(request.query.items())
        page = events_page((r.event for r in self.webhooks.records()), query, now=int(time.time()))
        return web.json_response(page)

    # -- /_front: test controls --------------------------------------------------------------------------

    async def health(self, _request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def list_events(self, request: web.Request) -> web.Response:
        wanted = request.query.get("type")
        records = [r for r in self.webhooks.records() if wanted is None or r.event["type"] == wanted]
        return web.json_response({"object": "list", "url": self.webhooks.url, "data": [r.to_json() for r in records]})

    async def resend_event(self, request: web.Request) -> web.Response:
        record: EventRecord | None = self.webhooks.resend(request.match_info["id"])
        if record is None:
            raise StripeApiError(404, f"No such event: '{request.match_info['id']}'", code="resource_missing")
        return web.json_response(record.to_json(), status=202)

    async def delivery(self, request: web.Request) -> web.Response:
        """`GET`: whether webhooks are delivered; `POST {"enabled": false}` stops delivering them (events are
        still made and listed), `{"enabled": true}` resumes with the next event (the kept ones stay unsent)."""
        if request.method == "POST":
            try:
                body = await request.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                body = None
            if not isinstance(body, dict) or not isinstance(body.get("enabled"), bool):
                raise StripeApiError(400, 'Send JSON {"enabled": true} or {"enabled": false}.', param="enabled")
            self.webhooks.delivery_enabled = bool(body["enabled"])
            logger.info("webhook delivery %s", "on" if self.webhooks.delivery_enabled else "off")
        undelivered = sum(1 for r in self.webhooks.records() if not r.delivered and not r.delivering)
        return web.json_response({"enabled": self.webhooks.delivery_enabled, "undelivered": undelivered})

    async def open_dispute(self, request: web.Request) -> web.Response:
        """A test control: the cardholder disputes the PaymentIntent's charge (`charge.dispute.created`)."""
        intent_id = request.match_info["id"]
        status, intent = await self.localstripe.call("GET", f"/v1/payment_intents/{path_id(intent_id)}")
        latest = intent.get("latest_charge") if status == 200 else None
        if status != 200 or intent.get("status") != "succeeded" or not latest:
            raise StripeApiError(400, f"PaymentIntent {intent_id} has no successful charge to dispute.")
        dispute = {
            "id": random_id("dp_"),
            "object": "dispute",
            "amount": intent["amount"],
            "currency": intent["currency"],
            "charge": latest.get("id") if isinstance(latest, dict) else latest,
            "payment_intent": intent_id,
            "reason": "fraudulent",
            "status": "needs_response",
            "created": int(time.time()),
            "livemode": False,
        }
        withdrawn = dispute_transaction(
            random_id("txn_"), -int(intent["amount"]), str(intent["currency"]),
            fee=dispute_fee(str(intent["currency"])), created=int(time.time()),
        )  # fmt: skip
        dispute["balance_transactions"] = [withdrawn]
        self.disputes[dispute["id"]] = dispute
        self.webhooks.publish("charge.dispute.created", dict(dispute))
        return web.json_response(dispute)

    async def close_dispute(self, request: web.Request) -> web.Response:
        """A test control: the dispute is decided (`{"status": "won"}` or `"lost"`; `charge.dispute.closed`)."""
        dispute = self.disputes.get(request.match_info["id"])
        if dispute is None:
            raise StripeApiError(404, f"No such dispute: '{request.match_info['id']}'", code="resource_missing")
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict) or body.get("status") not in ("won", "lost"):
            raise StripeApiError(400, 'Send JSON {"status": "won"} or {"status": "lost"}.', param="status")
        if dispute["status"] in ("won", "lost"):
            raise StripeApiError(400, f"Dispute {dispute['id']} is closed already.")
        dispute["status"] = body["status"]
        if body["status"] == "won":  # the disputed amount comes back; the fee stays with Stripe
            reinstated = dispute_transaction(
                random_id("txn_"), int(dispute["amount"]), str(dispute["currency"]), fee=0, created=int(time.time())
            )
            dispute["balance_transactions"] = [*dispute["balance_transactions"], reinstated]
        self.webhooks.publish("charge.dispute.closed", dict(dispute))
        return web.json_response(dispute)

    async def complete_delayed(self, request: web.Request) -> web.Response:
        """The payer picked a delayed method (bank debit): complete now, money later."""
        session = self._session_or_404(request)
        async with self._session_lock(session.id):
            if not session.is_open or session.mode != "payment":
                raise StripeApiError(400, f"Session is {session.status} ({session.mode} mode), not an open payment.")
            intent = await open_delayed_payment(self.localstripe, session)
            self.intents.debiting(str(intent["id"]))
            session.awaiting_async_result = True
            await self._complete(session, payment_status="unpaid", payment_intent=str(intent["id"]))
        return web.json_response(session.to_stripe(self.base_url))

    async def async_result(self, request: web.Request) -> web.Response:
        session = self._session_or_404(request)
        succeeded = await _succeeded_flag(request)
        async with self._session_lock(session.id):
            if not session.awaiting_async_result or session.payment_intent is None:
                raise StripeApiError(400, "This session is not waiting for a delayed payment (use complete-delayed).")
            intent = await settle_delayed_payment(self.localstripe, session.payment_intent, succeeded=succeeded)
            self.intents.debiting(session.payment_intent, until_settled=False)
            if succeeded and intent.get("status") != "succeeded":
                raise LocalstripeFailure(f"localstripe left {session.payment_intent} {intent.get('status')}")
            session.awaiting_async_result = False
            session.payment_status = "paid" if succeeded else "unpaid"
            outcome = "succeeded" if succeeded else "failed"
            logger.info("checkout session %s: delayed payment %s", session.id, outcome)
            self.webhooks.publish(f"checkout.session.async_payment_{outcome}", session.to_stripe(self.base_url))
        return web.json_response(session.to_stripe(self.base_url))


async def _request_params(request: web.Request) -> dict[str, Any]:
    if request.method == "GET":
        return unflatten(request.query.items())
    try:
        return unflatten(parse_qsl(await request.text(), keep_blank_values=True))
    except (UnicodeDecodeError, StripeApiError):
        return {}  # not the SDK's form encoding: localstripe already answered it


def _card_problem(error: Mapping[str, Any]) -> CardProblem:
    """A decline on the hosted page: Stripe's message, on the field it is about."""
    field = {"exp_month": "expiry", "cvc": "cvc"}.get(str(error.get("param")), "card_number")
    return CardProblem(str(error["message"]), field)


def _see_other(url: str) -> web.Response:
    # Returned, not raised: the browser goes on to the merchant's page with a GET.
    return web.Response(status=303, headers={"Location": url})


def _matches(session: CheckoutSession, query: Mapping[str, Any]) -> bool:
    return all(query.get(name) in (None, getattr(session, name)) for name in ("customer", "payment_intent", "status"))


def _line_items_list(session: CheckoutSession, url: str) -> dict[str, Any]:
    return {"object": "list", "data": [i.to_stripe() for i in session.line_items], "has_more": False, "url": url}


async def _succeeded_flag(request: web.Request) -> bool:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("succeeded"), bool):
        raise StripeApiError(400, 'Send JSON {"succeeded": true} or {"succeeded": false}.', param="succeeded")
    return bool(body["succeeded"])


def create_app(config: FrontConfig, *, base_url: str, localstripe_url: str) -> web.Application:
    """The front as an aiohttp app; `base_url` is where it is reachable, `localstripe_url` where localstripe is."""
    front = StripeFront(config, base_url=base_url, localstripe_url=localstripe_url)
    app = web.Application(middlewares=[ApiGate(config.api_key).middleware, front_errors])
    app.on_startup.append(front.start)
    app.on_cleanup.append(front.stop)
    app.router.add_post("/v1/checkout/sessions", front.create_session)
    app.router.add_get("/v1/checkout/sessions", front.list_sessions)
    app.router.add_get("/v1/checkout/sessions/{id}", front.retrieve_session)
    app.router.add_get("/v1/checkout/sessions/{id}/line_items", front.session_line_items)
    app.router.add_post("/v1/checkout/sessions/{id}/expire", front.expire_session)
    app.router.add_post("/v1/payment_intents", front.create_payment_intent)
    app.router.add_get("/v1/payment_methods", front.list_payment_methods)
    app.router.add_get("/v1/customers/{customer}/payment_methods", front.list_payment_methods)
    add_webhook_endpoint_routes(app)
    app.router.add_post("/v1/refunds", front.create_refund)
    app.router.add_get("/v1/refunds/{id}", front.retrieve_refund)
    app.router.add_get("/v1/charges/{id}", front.retrieve_charge)
    app.router.add_get("/v1/balance_transactions/{id}", front.retrieve_balance_transaction)
    app.router.add_get("/v1/events", front.list_stripe_events)
    app.router.add_get("/v1/events/{id}", front.retrieve_event)
    app.router.add_route("*", "/v1/{tail:.*}", front.proxy)
    app.router.add_get("/checkout/{id}", front.checkout_page)
    app.router.add_post("/checkout/{id}/pay", front.pay)
    app.router.add_get("/_front/health", front.health)
    app.router.add_get("/_front/events", front.list_events)
    app.router.add_post("/_front/events/{id}/resend", front.resend_event)
    app.router.add_get("/_front/delivery", front.delivery)
    app.router.add_post("/_front/delivery", front.delivery)
    app.router.add_post("/_front/payment_intents/{id}/dispute", front.open_dispute)
    app.router.add_post("/_front/disputes/{id}/close", front.close_dispute)
    app.router.add_post("/_front/sessions/{id}/complete-delayed", front.complete_delayed)
    app.router.add_post("/_front/sessions/{id}/async-result", front.async_result)
    app.router.add_post("/_front/refunds/{id}/fail", front.fail_refund)
    return app
