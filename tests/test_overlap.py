"""Reading ahead and writing behind (cutover.overlap): order, bounds, errors, and clean stops."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

import pytest

from cutover.overlap import read_ahead, write_behind

WAIT = 10.0


class _Tracked:
    """A generator of ``n`` items that records where it ran and when it was closed."""

    def __init__(self, n: int, fail_at: int | None = None) -> None:
        self.n = n
        self.fail_at = fail_at
        self.made_in: str | None = None
        self.closed_in: str | None = None
        self.produced = 0
        self.advanced = threading.Condition()
        self.error = RuntimeError("the source went away")

    def make(self) -> Iterator[int]:
        self.made_in = threading.current_thread().name
        return self._items()

    def _items(self) -> Iterator[int]:
        try:
            for i in range(self.n):
                if i == self.fail_at:
                    raise self.error
                with self.advanced:
                    self.produced = i + 1
                    self.advanced.notify_all()
                yield i
        finally:
            self.closed_in = threading.current_thread().name

    def wait_produced(self, count: int) -> bool:
        with self.advanced:
            return self.advanced.wait_for(lambda: self.produced >= count, timeout=WAIT)


def _threads(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(name)]


def test_read_ahead_yields_every_item_in_order_from_a_thread_of_its_own() -> None:
    source = _Tracked(50)
    with read_ahead(source.make, name="ahead-order") as items:
        got = list(items)
    assert got == list(range(50))
    assert source.made_in == source.closed_in == "ahead-order"
    assert not _threads("ahead-order")


@pytest.mark.parametrize("ahead", [1, 3])
def test_read_ahead_reads_the_next_items_while_the_consumer_holds_one_but_no_further(
    ahead: int,
) -> None:
    source = _Tracked(20)
    with read_ahead(source.make, ahead=ahead) as items:
        first = next(items)
        # Without reading ahead this would wait for ever: nothing asks for item 1 yet.
        assert source.wait_produced(2 + ahead)
        time.sleep(0.2)  # room to run past its bound, if it had none
        # ``ahead`` waiting to be taken, and one more in the producer's hand.
        assert source.produced == 2 + ahead
        assert first == 0
        assert list(items) == list(range(1, 20))


def test_an_error_of_the_iterator_is_raised_to_the_consumer_after_the_items_before_it() -> None:
    source = _Tracked(10, fail_at=4)
    got: list[int] = []
    with pytest.raises(RuntimeError) as raised, read_ahead(source.make) as items:
        got.extend(items)
    assert raised.value is source.error
    assert got == [0, 1, 2, 3]
    assert source.closed_in is not None


def test_an_error_making_the_iterator_is_raised_to_the_consumer() -> None:
    def broken() -> Iterator[int]:
        raise ConnectionError("no such server")

    with pytest.raises(ConnectionError, match="no such server"), read_ahead(broken) as items:
        list(items)


@pytest.mark.parametrize("how", ["break", "error"])
def test_leaving_early_closes_the_iterator_in_its_thread_and_ends_the_thread(how: str) -> None:
    source = _Tracked(10_000)
    with pytest.raises(KeyError) if how == "error" else contextlib.nullcontext():  # noqa: SIM117
        with read_ahead(source.make, name=f"ahead-early-{how}") as items:
            for item in items:
                if item == 5:
                    if how == "error":
                        raise KeyError("the consumer failed")
                    break
    assert source.closed_in == f"ahead-early-{how}"
    assert source.produced < 10  # stopped, not read to the end
    assert not _threads(f"ahead-early-{how}")


def test_read_ahead_needs_at_least_one_item_ahead() -> None:
    with pytest.raises(ValueError, match="ahead"), read_ahead(lambda: iter(()), ahead=0):
        pass


def test_writes_run_in_order_in_another_thread_one_at_a_time() -> None:
    done: list[int] = []
    running = 0
    most = 0
    threads: set[str] = set()
    lock = threading.Lock()
    confirmed: list[int] = []

    def write(n: int) -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        threads.add(threading.current_thread().name)
        time.sleep(0.01)
        done.append(n)
        with lock:
            running -= 1

    with write_behind("behind-order") as behind:
        for n in range(10):
            behind.submit(write, n, then=lambda n=n: confirmed.append(n))
            # The caller goes on while the write runs: it has not been confirmed yet.
            assert n not in confirmed
    assert done == list(range(10))
    assert confirmed == list(range(10))  # each confirmed after it finished, in order
    assert most == 1
    assert threads == {"behind-order_0"}
    assert threading.current_thread().name not in threads


def test_a_failed_write_is_raised_at_the_next_submit_and_nothing_after_it_is_written() -> None:
    done: list[int] = []
    confirmed: list[int] = []

    def write(n: int) -> None:
        if n == 3:
            raise OSError("disk full")
        done.append(n)

    def submit_all() -> None:
        with write_behind() as behind:
            for n in range(10):
                behind.submit(write, n, then=lambda n=n: confirmed.append(n))

    with pytest.raises(OSError, match="disk full"):
        submit_all()
    assert done == [0, 1, 2]
    assert confirmed == [0, 1, 2]


def test_the_last_write_is_waited_for_and_its_error_raised_on_leaving() -> None:
    finished = threading.Event()

    def slow() -> None:
        time.sleep(0.2)
        finished.set()

    with write_behind() as behind:
        behind.submit(slow)
    assert finished.is_set()

    def failing() -> None:
        raise OSError("lost on the last chunk")

    with pytest.raises(OSError, match="last chunk"), write_behind() as behind:
        behind.submit(failing)


def test_leaving_on_an_error_waits_for_the_write_under_way_and_keeps_the_first_error() -> None:
    finished = threading.Event()

    def slow_then_fail() -> None:
        time.sleep(0.2)
        finished.set()
        raise OSError("second")

    def fail_while_writing() -> None:
        with write_behind() as behind:
            behind.submit(slow_then_fail)
            raise KeyError("first")

    with pytest.raises(KeyError, match="first"):
        fail_while_writing()
    assert finished.is_set()  # no thread still writing once the caller sees its error
