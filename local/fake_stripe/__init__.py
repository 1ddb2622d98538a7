"""The fake Stripe of the offline stack: localstripe (unmodified, its own process) behind a front that adds
what payportal needs and localstripe lacks. `python -m local.fake_stripe --help` runs it on its own."""
