"""Lifecycle of Blink's asynchronous commands (arm, motion toggle, thumbnail, clip, snooze).

A command is created by a POST, reported incomplete by its status endpoint for a while,
then completes. Its effect on the account is applied only at successful completion.
All methods must be called with the account lock held.
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Literal
from collections.abc import Callable

from blink2mqtt.simulator.timestamps import format_iso, utc_now

SUCCESS_STATUS_CODE = 908
DEFAULT_FAILURE_STATUS_CODE = 999

CommandOutcome = Literal["succeed", "fail", "never_complete"]
FailureMode = Literal["fail", "never_complete"]
FAILURE_MODES: tuple[FailureMode, ...] = ("fail", "never_complete")

# Applied once at successful completion. A clip command returns the new media id.
CommandEffect = Callable[[], "int | None"]


@dataclass(frozen=True)
class CommandTiming:
    # Number of status polls that report complete:false before the next poll completes.
    polls_to_complete: int = 2
    # Seconds after which a command completes even without status polls.
    max_seconds: float = 3.0
    # A never-completing command stops blocking its network after this long.
    stuck_seconds: float = 10.0


@dataclass
class Command:
    id: int
    account_id: int
    network_id: int
    name: str
    effect: CommandEffect
    outcome: CommandOutcome
    target_device_id: int | None = None
    # Liveview sessions do not keep the network busy for other commands.
    blocks_network: bool = True
    failure_status_code: int = DEFAULT_FAILURE_STATUS_CODE
    failure_message: str = "Command failed"
    created_at: dt.datetime = field(default_factory=utc_now)
    created_monotonic: float = field(default_factory=time.monotonic)
    polls: int = 0
    complete: bool = False
    done_posted: bool = False
    media_id: int | None = None

    @property
    def status_code(self) -> int:
        if self.complete and self.outcome == "fail":
            return self.failure_status_code
        return SUCCESS_STATUS_CODE


@dataclass
class _FailurePlan:
    mode: FailureMode
    remaining: int
    status_code: int
    message: str


class CommandBook:
    """All commands of the account, with failure plans and the per-network busy rule."""

    def __init__(self, account_id: int, timing: CommandTiming) -> None:
        self.account_id = account_id
        self.timing = timing
        self._commands: dict[int, Command] = {}
        self._failure_plans: deque[_FailurePlan] = deque()
        self._ids = itertools.count(880_000_001)

    def plan_failures(self, mode: FailureMode, count: int, status_code: int, message: str) -> None:
        if mode not in FAILURE_MODES:
            raise ValueError(f"invalid failure mode {mode!r}: expected one of {', '.join(FAILURE_MODES)}")
        if count < 1:
            raise ValueError(f"invalid count {count}: must be at least 1")
        if mode == "fail" and status_code == SUCCESS_STATUS_CODE:
            raise ValueError(f"status_code {status_code} is the success code: pick another for a failing command")
        self._failure_plans.append(_FailurePlan(mode, count, status_code, message))

    def _next_outcome(self) -> tuple[CommandOutcome, int, str]:
        if not self._failure_plans:
            return "succeed", DEFAULT_FAILURE_STATUS_CODE, ""
        plan = self._failure_plans[0]
        plan.remaining -= 1
        if plan.remaining == 0:
            self._failure_plans.popleft()
        return plan.mode, plan.status_code, plan.message

    def busy_command(self, network_id: int) -> Command | None:
        """Return an unfinished command that keeps the network busy, if any."""
        self.settle()
        now = time.monotonic()
        for command in self._commands.values():
            if command.network_id != network_id or command.complete or not command.blocks_network:
                continue
            if command.outcome == "never_complete" and now - command.created_monotonic >= self.timing.stuck_seconds:
                continue
            return command
        return None

    def create(
        self,
        network_id: int,
        name: str,
        effect: CommandEffect,
        target_device_id: int | None = None,
        blocks_network: bool = True,
    ) -> Command:
        """Create a command. The caller checks busy_command first."""
        if blocks_network:
            outcome, failure_status_code, failure_message = self._next_outcome()
        else:
            outcome, failure_status_code, failure_message = "never_complete", DEFAULT_FAILURE_STATUS_CODE, ""
        command = Command(
            id=next(self._ids),
            account_id=self.account_id,
            network_id=network_id,
            name=name,
            effect=effect,
            outcome=outcome,
            target_device_id=target_device_id,
            blocks_network=blocks_network,
            failure_status_code=failure_status_code,
            failure_message=failure_message or "Command failed",
        )
        self._commands[command.id] = command
        return command

    def find(self, network_id: int, command_id: int) -> Command | None:
        command = self._commands.get(command_id)
        if command is None or command.network_id != network_id:
            return None
        return command

    def poll(self, command: Command) -> None:
        """Count one status poll and complete the command once enough polls happened."""
        command.polls += 1
        if not command.complete and command.polls > self.timing.polls_to_complete:
            self._complete(command)

    def settle(self) -> None:
        """Complete every command whose maximum duration has passed, polled or not."""
        now = time.monotonic()
        for command in self._commands.values():
            if not command.complete and now - command.created_monotonic >= self.timing.max_seconds:
                self._complete(command)

    def _complete(self, command: Command) -> None:
        if command.outcome == "never_complete":
            return
        command.complete = True
        if command.outcome == "succeed":
            command.media_id = command.effect()

    def mark_done(self, command: Command) -> None:
        command.done_posted = True
        if command.outcome == "never_complete" and not command.blocks_network:
            command.complete = True

    def forget_network(self, network_id: int) -> None:
        for command_id in [c.id for c in self._commands.values() if c.network_id == network_id]:
            del self._commands[command_id]


def command_json(command: Command) -> dict[str, object]:
    """Render the command object that a command-creating POST returns."""
    created = format_iso(command.created_at)
    return {
        "id": command.id,
        "created_at": created,
        "updated_at": created,
        "execute_time": created,
        "command": command.name,
        "state": "new",
        "state_stage": "rest",
        "stage_rest": created,
        "stage_cs_db": None,
        "stage_cs_sent": None,
        "stage_sm": None,
        "stage_dev": None,
        "stage_is": None,
        "stage_lv": None,
        "stage_vs": None,
        "state_condition": "new",
        "sm_ack": None,
        "lfr_ack": None,
        "sequence": None,
        "attempts": 0,
        "transaction": f"sim-{command.id}",
        "player_transaction": f"sim-player-{command.id}",
        "server": None,
        "duration": None,
        "by_whom": "blink2mqtt simulator",
        "diagnostic": False,
        "debug": "",
        "opts_1": 0,
        "target": "camera" if command.target_device_id is not None else None,
        "target_id": command.target_device_id,
        "parent_command_id": None,
        "camera_id": command.target_device_id,
        "siren_id": None,
        "firmware_id": None,
        "network_id": command.network_id,
        "account_id": command.account_id,
        "sync_module_id": None,
        "commands": [
            {
                "id": command.id + 1_000_000,
                "network_id": command.network_id,
                "command": command.name,
                "state": "running",
            }
        ],
    }


def command_status_json(command: Command) -> dict[str, object]:
    """Render GET /network/{N}/command/{C}."""
    if not command.complete:
        condition, message = "running", "Command in progress"
    elif command.outcome == "fail":
        condition, message = "failed", command.failure_message
    else:
        condition, message = "done", "Command succeeded"
    return {
        "complete": command.complete,
        "status": 1 if command.complete and command.outcome == "fail" else 0,
        "status_msg": message,
        "status_code": command.status_code,
        "commands": [
            {
                "id": command.id,
                "command": command.name,
                "state_stage": "vs" if command.complete else "dev",
                "state_condition": condition,
                "network_id": command.network_id,
                "account_id": command.account_id,
            }
        ],
        "media_id": command.media_id,
    }
