"""Reading ahead and writing behind: a chunked copy's reads and writes overlapped with its work.

The generic extract reads a chunk from the source, hashes its rows in Python, and writes them to
staging with their checkpoint. Done one after another, this process waits while the source's
server produces the next chunk and while the staging server stores the last one; the drivers
release the interpreter while they wait, so a thread can do that waiting instead.

- :func:`read_ahead` iterates a chunk iterator in a thread of its own, a fixed number of chunks
  ahead of the consumer (memory holds that many more chunks, whatever the size of the table).
  The iterator is made, iterated and closed in that thread, so a generator holding a connection
  is closed where it ran; an error it raises is raised to the consumer, as the same object, at
  the chunk where it happened.
- :func:`write_behind` gives a :class:`WriteBehind`, which runs each write in one thread, in the
  order given, while the caller prepares the next; at most one write is under way, and the next
  waits for it. An error from a write is raised by the next call (or by
  :meth:`WriteBehind.wait`), and nothing is written after it. Leaving the ``with`` block waits
  for the write under way, whatever happened, so that a caller who retries from the last
  checkpoint reads one that no thread is still writing.

Measured at 10,000 offenders (the ledger's 1.37 million rows, PostgreSQL legacy into PostgreSQL
staging, one process, the same loop both ways, in turn three times): 10.5, 15.9 and 16.1 s one
after another against 7.9, 9.3 and 10.8 s overlapped.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

__all__ = ["WriteBehind", "read_ahead", "write_behind"]

_T = TypeVar("_T")

#: How long a blocked hand-over waits before it checks whether the other side has stopped.
_POLL_SECONDS = 0.1


class _End:
    """The producer's last word: the iterator ended, or raised ``error``."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


@contextmanager
def read_ahead(
    make: Callable[[], Iterable[_T]], *, ahead: int = 1, name: str = "read-ahead"
) -> Iterator[Iterator[_T]]:
    """Iterate ``make()`` in a thread, up to ``ahead`` items before the consumer.

    Use as ``with read_ahead(lambda: source.read(...)) as chunks: for chunk in chunks: ...``.
    Leaving the block early (a ``break``, an error) stops the thread after its current item
    and closes the iterator there.
    """
    if ahead < 1:
        raise ValueError("ahead must be 1 or more")
    handed: queue.Queue[object] = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                handed.put(item, timeout=_POLL_SECONDS)
            except queue.Full:
                continue
            return True
        return False

    def produce() -> None:
        error: BaseException | None = None
        try:
            iterable = make()
            try:
                for item in iterable:
                    if not put(item):
                        return
            finally:
                close = getattr(iterable, "close", None)
                if close is not None:
                    close()
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            error = exc
        put(_End(error))

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()

    def consume() -> Iterator[_T]:
        while True:
            item = handed.get()
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            yield item  # type: ignore[misc]

    try:
        yield consume()
    finally:
        stop.set()
        thread.join()


class WriteBehind:
    """Writes run in one thread, one at a time, in order, while the caller goes on.

    ``with write_behind() as behind: behind.submit(write, args..., then=done)``: ``then()`` is
    called in the caller's thread once the write has succeeded, at the next submit or wait.
    """

    def __init__(self, name: str = "write-behind") -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix=name)
        self._pending: tuple[Future[object], Callable[[], None] | None] | None = None

    def submit(
        self,
        write: Callable[..., object],
        *args: object,
        then: Callable[[], None] | None = None,
        **kwargs: object,
    ) -> None:
        """Wait for the write under way (raising its error), then start this one."""
        self.wait()
        self._pending = (self._pool.submit(write, *args, **kwargs), then)

    def wait(self) -> None:
        """Wait for the write under way; raise its error, or call its ``then``."""
        pending, self._pending = self._pending, None
        if pending is None:
            return
        future, then = pending
        future.result()
        if then is not None:
            then()

    def _finish(self, failing: bool) -> None:
        try:
            if not failing:
                self.wait()
            elif self._pending is not None:
                # Already failing: let the write finish, keep the first error.
                self._pending[0].exception()
                self._pending = None
        finally:
            self._pool.shutdown(wait=True)


@contextmanager
def write_behind(name: str = "write-behind") -> Iterator[WriteBehind]:
    """A :class:`WriteBehind` whose last write is waited for on leaving the block (its error
    raised), or, when the block fails, waited for with the block's error kept."""
    behind = WriteBehind(name)
    try:
        yield behind
    except BaseException:
        behind._finish(failing=True)
        raise
    behind._finish(failing=False)
