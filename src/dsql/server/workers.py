"""A minimal thread pool for connection jobs: SimpleQueue in, no Futures.

`concurrent.futures.ThreadPoolExecutor.submit` costs ~10 µs of the event-loop thread's time
(a Future, a work item, locks); a connection submits a job per message batch, so the loop
uses this pool instead (submit is a queue put, ~0.1 µs) and keeps the executor for the rare
awaited calls (role lookup, open_session, backend close).

Thread-safety: submit() may be called from any thread. Jobs must catch their own exceptions
(an escaping one is logged and the worker continues).

Invariants:
  1. len(self._threads) <= threads_max.
  2. A thread is started only when no worker is idle, so with threads_max >= the number of
     connections every connection's job starts at once (at most one job per connection).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger("dsql.server")

_STOP = object()


class WorkerPool:
    def __init__(self, threads_max: int, name: str = "dsql-worker") -> None:
        assert threads_max >= 1
        self.threads_max = threads_max
        self._name = name
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._stopped = False

    def submit(self, fn: Callable[..., None], *args: Any) -> None:
        with self._lock:
            if self._stopped:
                raise RuntimeError("worker pool is shut down")
            if self._idle == 0 and len(self._threads) < self.threads_max:
                t = threading.Thread(target=self._work, name=f"{self._name}-{len(self._threads)}",
                                     daemon=True)
                self._threads.append(t)
                t.start()
            else:
                self._idle -= 1  # this item will wake an idle worker (or wait for one)
        self._queue.put((fn, args))

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            fn, args = item
            try:
                fn(*args)
            except Exception:
                log.exception("a worker job failed")
            with self._lock:
                self._idle += 1

    def shutdown(self) -> None:
        """Stops the threads once queued jobs are done (does not wait)."""
        with self._lock:
            self._stopped = True
            n = len(self._threads)
        for _ in range(n):
            self._queue.put(_STOP)
