"""Stripe events, applied to the ledger exactly once.

`shared/adapters/stripe_events.py` parses Stripe's JSON into the typed facts of `facts.py`; `router.py`
sends each fact to its use case (one module per kind: `checkout_payments`, `installment_charges`,
`disputes`, `autopay_setup`); every use case decides its change and hands it to `engine.apply_once`,
which commits it once, re-reading and deciding again when it loses a race. The webhook and, later,
reconciliation both enter through the router.
"""
