"""The Lambda functions, one package each (functions/<name>/handler.py).

Every handler's import starts here, so the collector is paused here, before their imports, in a Lambda
instance only; the first request's end turns it back on (shared/cold_start.py).
"""

from shared import cold_start

cold_start.pause_collector()
