"""Run validated commands against Blink, one at a time per network.

A Blink sync module handles one command at a time and rejects a second one
as busy (code 307), so commands for the same network wait in line here while other
networks proceed. Each command is followed to Blink's completion, the device
is read back, and only then is ``ok`` published.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Awaitable, Callable, Protocol

from ..blink import errors as blink_errors
from ..blink.client import BlinkClient, UnsupportedActionError
from ..blink.models import Camera, Command, CommandStatus
from .commands import CommandName, CommandRequest, Reason
from .lifecycle import CommandLifecycle
from .topics import DeviceKind

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunnerSettings:
    command_timeout: float
    command_poll_interval: float
    busy_retry_delays: tuple[float, ...]
    read_back_timeout: float


class CommandHooks(Protocol):
    """Bridge operations the runner calls, kept narrow on purpose."""

    def network_of(self, request: CommandRequest) -> int: ...
    def camera(self, camera_id: int) -> Camera | None: ...
    def set_transition(self, network_id: int, transition: str | None) -> None: ...
    async def read_back(self) -> bool: ...


# Extra per-command behaviour (snapshot verification, snooze bookkeeping) is
# plugged in by name so that the runner stays a generic queue.
CommandHandler = Callable[[CommandRequest, CommandLifecycle], Awaitable[dict[str, object] | None]]


class CommandRunner:
    def __init__(self, client: BlinkClient, hooks: CommandHooks, settings: RunnerSettings) -> None:
        self._client = client
        self._hooks = hooks
        self._settings = settings
        self._locks: dict[int, asyncio.Lock] = {}
        self._pending: dict[int, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.handlers: dict[CommandName, CommandHandler] = {}
        # A gate receives a request before it is queued and returns True when it
        # responded to the request itself (coalesced or rate-limited snapshots).
        self.gates: dict[CommandName, Callable[[CommandRequest, CommandLifecycle], bool]] = {}

    @property
    def running(self) -> int:
        return len(self._tasks)

    def submit(self, request: CommandRequest, lifecycle: CommandLifecycle) -> None:
        """Queue the command on its network and publish ``accepted`` at once."""
        gate = self.gates.get(request.name)
        if gate is not None and gate(request, lifecycle):
            return
        network_id = self._hooks.network_of(request)
        lock = self._locks.setdefault(network_id, asyncio.Lock())
        queued = self._pending.get(network_id, 0) > 0
        self._pending[network_id] = self._pending.get(network_id, 0) + 1
        lifecycle.accepted(queued=queued)
        task = asyncio.create_task(self._run(request, lifecycle, network_id, lock),
                                   name=f"command-{request.name}-{request.device_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait_idle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _run(self, request: CommandRequest, lifecycle: CommandLifecycle,
                   network_id: int, lock: asyncio.Lock) -> None:
        try:
            await self._run_locked(request, lifecycle, network_id, lock)
        finally:
            self._pending[network_id] -= 1

    async def _run_locked(self, request: CommandRequest, lifecycle: CommandLifecycle,
                          network_id: int, lock: asyncio.Lock) -> None:
        async with lock:
            _LOGGER.info("Running %s on %s %s", request.name, request.kind, request.device_id)
            failure: tuple[Reason, str, dict[str, object]] | None = None
            details: dict[str, object] | None = None
            try:
                details = await self._execute(request, lifecycle, network_id)
            except blink_errors.BlinkError as err:
                failure = describe_failure(err)
            except UnsupportedActionError as err:
                failure = (Reason.UNSUPPORTED, str(err), {})
            except CommandRefused as err:
                failure = (err.reason, err.message, dict(err.details))
            except Exception:
                _LOGGER.exception("Unexpected error while running %s on %s %s",
                                  request.name, request.kind, request.device_id)
                failure = (Reason.INTERNAL, "internal error in blink2mqtt; see its log", {})

            # The network leaves "arming"/"disarming" before the final response,
            # so a client that reads the state after "ok" or "error" sees the truth.
            self._hooks.set_transition(network_id, None)
            if failure is None:
                _LOGGER.info("%s on %s %s completed", request.name, request.kind,
                             request.device_id)
                lifecycle.ok(**(details or {}))
            else:
                reason, message, extra = failure
                _LOGGER.warning("%s on %s %s failed (%s): %s", request.name, request.kind,
                                request.device_id, reason.value, message)
                lifecycle.error(reason, message, **extra)

    async def _execute(self, request: CommandRequest, lifecycle: CommandLifecycle,
                       network_id: int) -> dict[str, object] | None:
        handler = self.handlers.get(request.name)
        if handler is not None:
            return await handler(request, lifecycle)

        if request.name is CommandName.GET:
            if not await self._hooks.read_back():
                raise blink_errors.TransientError("Blink could not be read; try again later")
            return None

        if request.name in (CommandName.ARM, CommandName.DISARM):
            self._hooks.set_transition(
                network_id, "arming" if request.name is CommandName.ARM else "disarming")

        command = await self.start_blink_command(request, network_id)
        await self.follow(command, lifecycle)
        self._hooks.set_transition(network_id, None)
        await self._hooks.read_back()
        return None

    async def start_blink_command(self, request: CommandRequest, network_id: int) -> Command | None:
        """Send the Blink request, and retry while the sync module reports busy."""
        delays = list(self._settings.busy_retry_delays)
        while True:
            try:
                return await self._send(request, network_id)
            except blink_errors.BusyError:
                if not delays:
                    raise
                delay = delays.pop(0)
                _LOGGER.info("Network %s is busy; retrying %s in %.1f s",
                             network_id, request.name, delay)
                await asyncio.sleep(delay)

    async def follow(self, command: Command | None,
                     lifecycle: CommandLifecycle) -> CommandStatus | None:
        """Publish ``pending`` and wait until Blink reports the command complete."""
        lifecycle.pending(command.id if command else None)
        if command is None:
            return None
        return await self._client.wait_for_command(
            command, timeout=self._settings.command_timeout,
            poll_interval=self._settings.command_poll_interval)

    async def _send(self, request: CommandRequest, network_id: int) -> Command | None:
        client = self._client
        if request.kind is DeviceKind.NETWORK:
            if request.name is CommandName.ARM:
                return await client.arm(network_id)
            if request.name is CommandName.DISARM:
                return await client.disarm(network_id)
            if request.name is CommandName.SNOOZE:
                assert request.minutes is not None
                return await client.snooze_network(network_id, request.minutes)
            raise UnsupportedActionError(f"a network does not support {request.name}")

        camera = self._hooks.camera(request.device_id)
        if camera is None:
            raise CommandRefused(Reason.UNKNOWN_DEVICE,
                                 f"camera {request.device_id} is not in the Blink account")
        device = camera.ref
        if request.name is CommandName.ENABLE_MOTION:
            return await client.set_motion_detection(device, True)
        if request.name is CommandName.DISABLE_MOTION:
            return await client.set_motion_detection(device, False)
        if request.name is CommandName.SNAPSHOT:
            return await client.request_thumbnail(device)
        if request.name is CommandName.RECORD:
            return await client.record_clip(device)
        if request.name is CommandName.SNOOZE:
            assert request.minutes is not None
            return await client.snooze_camera(device, request.minutes)
        raise UnsupportedActionError(f"a camera does not support {request.name}")


class CommandRefused(Exception):
    """The bridge itself refuses to run a command, with a reason for the sender."""

    def __init__(self, reason: Reason, message: str, **details: object) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.details = details


def describe_failure(err: blink_errors.BlinkError) -> tuple[Reason, str, dict[str, object]]:
    """Map a Blink error to the response's reason, message and extra fields."""
    if isinstance(err, blink_errors.CommandTimeoutError):
        return Reason.TIMEOUT, str(err), {"blink_command_id": err.command_id}
    if isinstance(err, blink_errors.BusyError):
        return Reason.BUSY, "the sync module stayed busy with another command; try again later", \
            {"code": err.code}
    if isinstance(err, blink_errors.RateLimitedError):
        return Reason.RATE_LIMITED, str(err), {"retry_after": round(err.retry_after, 1)}
    if isinstance(err, blink_errors.AuthenticationError):
        return Reason.LOGIN_REQUIRED, str(err), {}
    if isinstance(err, blink_errors.BlockedError):
        return Reason.BLOCKED, str(err), {}
    if isinstance(err, blink_errors.ClientOutdatedError):
        return Reason.CLIENT_OUTDATED, str(err), {}
    if isinstance(err, blink_errors.NotFoundError):
        return Reason.NOT_FOUND, str(err), {"code": err.code}
    if isinstance(err, blink_errors.BlinkApiError):
        return Reason.BLINK_ERROR, err.message, {"code": err.code}
    if isinstance(err, blink_errors.TransientError):
        return Reason.UNAVAILABLE, f"Blink is unreachable or failing: {err}", {}
    return Reason.BLINK_ERROR, str(err), {}
