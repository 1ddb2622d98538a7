"""`python -m local.fake_stripe`: see `local.fake_stripe.app`."""

import sys

from local.fake_stripe.app import main

sys.exit(main())
