"""The fake Stripe of the offline stack: localstripe (unmodified, its own process) behind a front that adds
what payportal needs and localstripe lacks, in Stripe's shapes. It imports nothing else of payportal.

    python -m local.fake_stripe --help

Start at `app.py` (the routes) and `server.py` (how it runs); README's "The local stack" maps every module.
"""
