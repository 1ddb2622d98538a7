"""Lambda's SQS event source mapping for the functions fed by a queue of their own (shared.routes
IMPORT_FUNCTIONS: the bulk import worker), in one background thread.

Like the deployed mapping, each message is handed to the function on its own; a message whose invocation
fails stays on the queue and comes again (SQS would, until its DLQ). The drain itself is the continuation
queues' (local/continuations.py).
"""

from __future__ import annotations

import logging
import threading

from local.continuations import ContinuationQueues

logger = logging.getLogger("local.queues")


class QueuePoller:
    def __init__(self, queues: ContinuationQueues, names: tuple[str, ...], *, interval_s: float) -> None:
        self._queues = queues
        self._names = names
        self._interval_s = interval_s
        self._lock = threading.Lock()  # one drain at a time: the thread or drain()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="queue-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def drain(self) -> int:
        """Every message now on the queues, handed to its function; how many ran."""
        with self._lock:
            return sum(self._queues.drain(name) for name in self._names)

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self.drain()
            except Exception:  # the moto server stopping under us, typically: try again next tick
                logger.exception("queue poll failed")
