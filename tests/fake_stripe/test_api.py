"""The fake Stripe's `/v1` as Stripe's: the API key, and every call it does not model passed to localstripe."""

from __future__ import annotations

import uuid

import pytest
import requests
import stripe

from tests.fake_stripe.helpers import (
    API_KEY,
    Front,
)

# -- API keys ----------------------------------------------------------------------------------------------


def test_a_wrong_or_missing_api_key_is_refused_like_stripe_refuses_it(front: Front) -> None:
    # Given a client holding the wrong key
    intruder = stripe.StripeClient("sk_test_wrong", base_addresses={"api": front.url}, max_network_retries=0)
    # When it calls the API, Then the SDK sees Stripe's authentication error
    with pytest.raises(stripe.AuthenticationError):
        intruder.v1.customers.list()
    # And a request without any key gets a 401 with a Stripe-shaped error
    reply = requests.post(f"{front.url}/v1/checkout/sessions", data={"mode": "payment"}, timeout=5)
    assert reply.status_code == 401
    assert reply.json()["error"]["type"] == "invalid_request_error"


def test_the_key_is_also_accepted_as_the_basic_auth_user(front: Front) -> None:
    # Given the key sent the way older SDKs and curl -u send it
    # When listing customers, Then localstripe's answer comes back
    reply = requests.get(f"{front.url}/v1/customers", auth=(API_KEY, ""), timeout=5)
    assert reply.status_code == 200
    assert reply.json()["object"] == "list"


# -- everything else goes to localstripe -------------------------------------------------------------------


def test_other_api_calls_reach_localstripe_and_keep_stripes_idempotency(client: stripe.StripeClient) -> None:
    # When payportal creates a customer twice under one idempotency key (as its adapter does)
    key = f"payportal-customer-{uuid.uuid4()}"
    params = {"email": "alan@example.com", "name": "Alan", "metadata": {"payportal_customer_id": "c_1"}}
    created = client.v1.customers.create(params=params, options={"idempotency_key": key})
    again = client.v1.customers.create(params=params, options={"idempotency_key": key})
    # Then localstripe made one customer, and reading it goes through too
    assert created.id.startswith("cus_") and again.id == created.id
    assert client.v1.customers.retrieve(created.id).metadata["payportal_customer_id"] == "c_1"


def test_an_api_path_nobody_implements_is_a_stripe_shaped_404(front: Front) -> None:
    reply = requests.get(f"{front.url}/v1/no_such_things", auth=(API_KEY, ""), timeout=5)
    assert reply.status_code == 404
    assert reply.json()["error"]["type"] == "invalid_request_error"
