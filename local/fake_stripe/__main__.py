"""`python -m local.fake_stripe`: see `local.fake_stripe.cli`."""

import sys

from local.fake_stripe.cli import main

sys.exit(main())
