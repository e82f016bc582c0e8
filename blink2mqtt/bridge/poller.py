"""The homescreen poll loop: interval, backoff after failures, and polls on demand."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Awaitable, Callable

from ..blink import errors as blink_errors

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PollSchedule:
    interval: float
    backoff_max: float


class Poller:
    """Runs ``poll`` at the interval and on demand; one poll at a time.

    ``poll`` does the whole cycle and raises a BlinkError on failure. The
    returned delay of ``on_failure`` decides when to try again, so rate
    limits and firewall blocks are honoured in one place. While
    ``is_paused()`` returns True (the session waits for the user), no poll starts.
    """

    def __init__(self, schedule: PollSchedule, *,
                 poll: Callable[[], Awaitable[None]],
                 on_failure: Callable[[blink_errors.BlinkError, int], float],
                 is_paused: Callable[[], bool]) -> None:
        self._schedule = schedule
        self._poll = poll
        self._on_failure = on_failure
        self._is_paused = is_paused
        self._wake = asyncio.Event()
        self._finished = asyncio.Condition()
        self._started_count = 0
        self._finished_count = 0
        self._last_succeeded = False
        self.consecutive_failures = 0

    def wake(self) -> None:
        """Start a poll now instead of at the end of the interval."""
        self._wake.set()

    async def poll_now(self, *, timeout: float) -> bool:
        """Wake the loop and wait for a poll that starts after this call; True if it succeeded."""
        target = self._started_count + 1
        self.wake()
        try:
            async with self._finished:
                await asyncio.wait_for(
                    self._finished.wait_for(lambda: self._finished_count >= target), timeout)
        except TimeoutError:
            return False
        return self._last_succeeded

    async def run(self) -> None:
        while True:
            if self._is_paused():
                await self._sleep(None)
                continue

            self._started_count += 1
            # A wake-up requested before this poll started is served by it.
            self._wake.clear()
            delay = self._schedule.interval
            try:
                await self._poll()
            except blink_errors.BlinkError as err:
                self.consecutive_failures += 1
                self._last_succeeded = False
                delay = self._on_failure(err, self.consecutive_failures)
            else:
                self.consecutive_failures = 0
                self._last_succeeded = True
            finally:
                async with self._finished:
                    self._finished_count = self._started_count
                    self._finished.notify_all()

            await self._sleep(delay)

    def failure_delay(self, failures: int) -> float:
        """Interval doubled per consecutive failure, capped at the configured maximum."""
        return min(self._schedule.interval * (2 ** min(failures - 1, 16)),
                   max(self._schedule.backoff_max, self._schedule.interval))

    async def _sleep(self, delay: float | None) -> None:
        try:
            if delay is None:
                await self._wake.wait()
            else:
                await asyncio.wait_for(self._wake.wait(), delay)
        except TimeoutError:
            pass
        self._wake.clear()
