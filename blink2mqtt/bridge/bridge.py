"""The bridge: wires the Blink client, the MQTT connection and the publishers.

All bridge logic runs in one asyncio event loop. MQTT callbacks, poll results
and command completions arrive there in order, so no state needs a lock.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .. import __version__
from ..blink import errors as blink_errors
from ..blink.client import BlinkClient, BlinkClientConfig
from ..blink.models import Camera
from ..blink.profile import BlinkHosts, ClientProfile
from ..config import Config
from .announce import Announcer
from .auth import AuthState, AuthStatus, AuthTracker, status_for_error
from .command_runner import CommandRunner, RunnerSettings
from .commands import (
    CommandRequest,
    InvalidCommand,
    Reason,
    extract_transaction,
    parse_command,
    parse_device_id,
)
from .discovery import DiscoveryContext
from .inventory import Inventory
from .lifecycle import CommandLifecycle, rejection_payload
from .media_service import MediaService, MediaSettings
from .mqtt import IncomingMessage, MqttConnection, MqttSettings, ReplyTarget
from .poller import Poller, PollSchedule
from .publisher import RetainedPublisher
from .topics import OFFLINE, ONLINE, BRIDGE_REQUESTS, DeviceKind, Topics

_LOGGER = logging.getLogger(__name__)

# A user-triggered sign-in may send an SMS; refuse a second one sooner than this.
MIN_SECONDS_BETWEEN_LOGINS = 60.0
# Commands held back until the first poll. Beyond this many, they get an error at once.
MAX_EARLY_COMMANDS = 100


def client_config_from(config: Config) -> BlinkClientConfig:
    blink = config.blink
    hosts = blink["hosts"]
    return BlinkClientConfig(
        token_file=Path(blink["token_file"]).expanduser(),
        hosts=BlinkHosts(oauth_url=hosts["oauth_url"], rest_prod_url=hosts["rest_prod_url"],
                         tier_url_template=hosts["tier_url_template"]),
        profile=ClientProfile().with_overrides(blink["client_profile"]),
        read_timeout=blink["timeout"],
        connect_timeout=min(10.0, blink["timeout"]),
        verify_tls=blink["verify_tls"],
        refresh_margin_seconds=blink["refresh_margin"],
        # A failed refresh is retried on the poll's own backoff, not by every command.
        refresh_backoff_seconds=(config.bridge["poll_interval"],
                                 max(config.bridge["failure_backoff_max"],
                                     config.bridge["poll_interval"])),
        command_timeout_seconds=blink["command_timeout"],
        command_poll_seconds=blink["command_poll_interval"],
    )


class Bridge:
    def __init__(self, config: Config, *, client: BlinkClient | None = None) -> None:
        self.config = config
        self.topics = Topics(base=config.mqtt["base_topic"],
                             discovery_prefix=config.homeassistant["discovery_prefix"])
        if config.blink["verify_tls"] is False:
            _LOGGER.warning("Blink TLS certificate verification is OFF (blink.verify_tls: false)")
        self.client = client or BlinkClient(client_config_from(config))

        settings = MqttSettings.from_config(config.mqtt)
        if not settings.client_id:
            # A stable id per base topic lets the broker keep the session across restarts.
            settings = replace(settings, client_id=f"blink2mqtt-{self.topics.base}"[:64])
        self.mqtt = MqttConnection(
            settings,
            will_topic=self.topics.bridge_state, will_payload=OFFLINE,
            on_connect=self._on_mqtt_connect, on_message=self._on_mqtt_message,
        )
        self.publisher = RetainedPublisher(self.mqtt)
        self.inventory = Inventory(remove_after=config.bridge["remove_after_missing_polls"])
        self.announcer = Announcer(self.publisher, self.topics, self.inventory,
                                   self._discovery_context())
        self.auth = AuthTracker(self._on_auth_change)
        self.poller = Poller(
            PollSchedule(interval=config.bridge["poll_interval"],
                         backoff_max=config.bridge["failure_backoff_max"]),
            poll=self._poll_cycle, on_failure=self._on_poll_failure,
            is_paused=lambda: self.auth.waiting_for_user,
        )
        self.runner = CommandRunner(self.client, self, RunnerSettings(
            command_timeout=config.blink["command_timeout"],
            command_poll_interval=config.blink["command_poll_interval"],
            busy_retry_delays=tuple(config.blink["busy_retry_delays"]),
            read_back_timeout=config.blink["timeout"] * 2 + 5,
        ))
        self.media = MediaService(
            client=self.client, settings=MediaSettings.from_config(config.media),
            topics=self.topics, sink=self.mqtt, publisher=self.publisher,
            inventory=self.inventory, announcer=self.announcer, runner=self.runner,
            read_back=self.read_back)
        self.last_poll: datetime | None = None
        self._stopping = asyncio.Event()
        self._birth_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._last_login_started = 0.0
        self._warned_retained: set[str] = set()
        # Commands that arrive before the first successful poll (for example the
        # ones the broker queued while the bridge was down) wait for the inventory.
        self._early_commands: list[tuple[float, Any, IncomingMessage]] = []

    # Lifecycle --------------------------------------------------------------

    async def run(self) -> None:
        """Run until stop() is called; publishes ``offline`` on the way out."""
        loop = asyncio.get_running_loop()
        self._publish_auth(self.auth.status)
        self.mqtt.start(loop)
        await self._start_session()
        poll_task = asyncio.create_task(self.poller.run(), name="poller")
        try:
            await self._stopping.wait()
        finally:
            poll_task.cancel()
            self.media.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(poll_task, *self._tasks, return_exceptions=True)
            self.mqtt.stop(final_messages=[(self.topics.bridge_state, OFFLINE)])
            await self.client.aclose()
            _LOGGER.info("blink2mqtt stopped")

    def stop(self) -> None:
        self._stopping.set()

    def spawn(self, coroutine: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _start_session(self) -> None:
        session = self.client.session
        if session.is_logged_in:
            self.auth.set(AuthStatus(AuthState.OK, "Using the stored Blink session"))
            return
        email, password = self.config.blink.get("email"), self.config.blink.get("password")
        if not email or not password:
            self.auth.set(AuthStatus(
                AuthState.LOGIN_REQUIRED,
                "No Blink session is stored and blink.email/blink.password are not set; "
                "run 'blink2mqtt login' or set them and send <base>/bridge/request/login"))
            return
        await self._login(email, password)

    async def _login(self, email: str, password: str) -> None:
        self._last_login_started = time.monotonic()
        self.auth.set(AuthStatus(AuthState.CONNECTING, "Signing in to Blink"))
        try:
            await self.client.login(email, password)
        except blink_errors.BlinkError as err:
            _LOGGER.warning("Blink sign-in did not complete: %s", err)
            self.auth.set(status_for_error(err, retry_in=getattr(err, "retry_after", None)))
            return
        self.auth.set(AuthStatus(AuthState.OK, "Signed in to Blink"))

    # Polling ----------------------------------------------------------------

    async def _poll_cycle(self) -> None:
        homescreen = await self.client.get_homescreen()
        update = self.inventory.update(homescreen, complete=homescreen.skipped_entries == 0)
        self.last_poll = datetime.now(timezone.utc)

        if self.auth.status.state is not AuthState.OK:
            self.auth.set(AuthStatus(AuthState.OK, "Connected to Blink"))
        for key in update.removed:
            self.announcer.remove_device(key)
            if key[0] is DeviceKind.CAMERA:
                self.media.forget_camera(key[1])
        self.announcer.set_devices_online(True)
        if update.added or update.removed:
            self.announcer.publish_discovery()
        self.announcer.publish_all_states()
        self._release_early_commands()
        await self.media.after_poll(homescreen)
        self._publish_bridge_topics()

    def _on_poll_failure(self, err: blink_errors.BlinkError, failures: int) -> float:
        delay = self.poller.failure_delay(failures)
        if isinstance(err, blink_errors.RateLimitedError):
            delay = max(err.retry_after, self.config.bridge["poll_interval"])
        elif isinstance(err, (blink_errors.BlockedError, blink_errors.ClientOutdatedError)):
            delay = max(delay, min(self.config.bridge["failure_backoff_max"], 300.0))

        if isinstance(err, blink_errors.TransientError):
            _LOGGER.warning("Blink poll failed (%d in a row), next try in %.1f s: %s",
                            failures, delay, err)
            if self.auth.status.state is not AuthState.OK:
                self.auth.set(AuthStatus(AuthState.OK, "Blink session is valid; Blink is failing"))
        else:
            _LOGGER.warning("Blink poll failed: %s", err)
            self.auth.set(status_for_error(err, retry_in=delay))

        if failures >= self.config.bridge["offline_after_failed_polls"]:
            self.announcer.set_devices_online(False)
        return delay

    async def read_back(self) -> bool:
        """Poll now so the device state follows a completed command within seconds."""
        return await self.poller.poll_now(timeout=self.config.blink["timeout"] * 2 + 5)

    # CommandHooks -------------------------------------------------------------

    def network_of(self, request: CommandRequest) -> int:
        if request.kind is DeviceKind.NETWORK:
            return request.device_id
        camera = self.inventory.cameras.get(request.device_id)
        return camera.network_id if camera else -1

    def camera(self, camera_id: int) -> Camera | None:
        return self.inventory.cameras.get(camera_id)

    def set_transition(self, network_id: int, transition: str | None) -> None:
        if transition is None:
            if self.announcer.transitions.pop(network_id, None) is None:
                return
        else:
            self.announcer.transitions[network_id] = transition
        network = self.inventory.networks.get(network_id)
        if network is not None:
            self.announcer.publish_network(network)

    # MQTT events ------------------------------------------------------------

    def _on_mqtt_connect(self) -> None:
        filters = [*self.topics.command_filters(), self.topics.bridge_request_filter]
        if self.announcer.discovery is not None:
            filters.append(self.topics.homeassistant_status)
        self.mqtt.subscribe(filters)
        self.publisher.publish(self.topics.bridge_state, ONLINE, force=True)
        self._publish_auth(self.auth.status)
        self._publish_bridge_topics()
        self.announcer.publish_discovery()
        self.announcer.publish_all_states()
        # The broker may have lost its retained store (restart without persistence).
        self.publisher.republish_all(first=(self.topics.bridge_state,))

    def _on_mqtt_message(self, message: IncomingMessage) -> None:
        topics = self.topics
        if message.topic == topics.homeassistant_status:
            self._on_homeassistant_status(message.payload)
            return
        request_name = topics.parse_bridge_request(message.topic)
        if request_name is not None:
            if message.retain:
                self._ignore_retained(message)
                return
            self.spawn(self._handle_bridge_request(request_name, message), f"request-{request_name}")
            return
        device_topic = topics.parse_command_topic(message.topic)
        if device_topic is not None:
            self._handle_command_message(device_topic, message)

    def _handle_command_message(self, device_topic: Any, message: IncomingMessage) -> None:
        reply_to = (ReplyTarget(message.response_topic, message.correlation_data)
                    if message.response_topic else None)
        if message.retain:
            self._ignore_retained(message, device_topic=device_topic, reply_to=reply_to)
            return
        if self.inventory.homescreen is None and self.auth.waiting_for_user:
            self._publish_rejection(device_topic, Reason.LOGIN_REQUIRED,
                                    f"Blink cannot be reached: {self.auth.status.message}",
                                    extract_transaction(message.payload), reply_to)
            return
        if self.inventory.homescreen is None:
            if len(self._early_commands) < MAX_EARLY_COMMANDS:
                self._early_commands.append((time.monotonic(), device_topic, message))
                if len(self._early_commands) == 1:
                    self.spawn(self._expire_early_commands(), "early-commands")
                return
        try:
            request = parse_command(device_topic, message.payload, reply_to=reply_to)
            self._check_device(request)
        except InvalidCommand as err:
            _LOGGER.warning("Rejected command on %s: %s", message.topic, err.message)
            transaction = err.transaction if err.transaction is not None \
                else extract_transaction(message.payload)
            self._publish_rejection(device_topic, err.reason, err.message, transaction, reply_to)
            return

        lifecycle = CommandLifecycle(self.mqtt, self.topics, request)
        self.runner.submit(request, lifecycle)

    def _release_early_commands(self) -> None:
        waiting, self._early_commands = self._early_commands, []
        if waiting:
            _LOGGER.info("Running %d command(s) that arrived before the first poll", len(waiting))
        for _received, device_topic, message in waiting:
            self._handle_command_message(device_topic, message)

    async def _expire_early_commands(self) -> None:
        """Publish an error for early commands when Blink cannot be read in time."""
        timeout = self.config.blink["command_timeout"]
        while self._early_commands:
            oldest = self._early_commands[0][0]
            await asyncio.sleep(max(0.0, oldest + timeout - time.monotonic()))
            now = time.monotonic()
            expired = [entry for entry in self._early_commands if now - entry[0] >= timeout]
            self._early_commands = [entry for entry in self._early_commands
                                    if now - entry[0] < timeout]
            for _received, device_topic, message in expired:
                reply_to = (ReplyTarget(message.response_topic, message.correlation_data)
                            if message.response_topic else None)
                self._publish_rejection(
                    device_topic, Reason.UNAVAILABLE,
                    f"Blink could not be read within {timeout:g} s of the command; "
                    f"state: {self.auth.status.message}",
                    extract_transaction(message.payload), reply_to)

    def _check_device(self, request: CommandRequest) -> None:
        if (request.kind, request.device_id) in self.inventory:
            return
        known = self.inventory.networks if request.kind is DeviceKind.NETWORK \
            else self.inventory.cameras
        ids = ", ".join(str(i) for i in sorted(known)) or "none yet"
        raise InvalidCommand(Reason.UNKNOWN_DEVICE,
                             f"{request.kind.value} {request.device_id} is not in the Blink "
                             f"account; known {request.kind.value} ids: {ids}",
                             transaction=request.transaction)

    def _publish_rejection(self, device_topic: Any, reason: Reason, message: str,
                           transaction: Any, reply_to: ReplyTarget | None) -> None:
        device_id = device_topic.device_id
        payload = rejection_payload(device_topic.kind, device_id, reason, message, transaction,
                                    command=device_topic.action.value)
        # Only ids that are plain numbers get a response topic, so wildcards or
        # odd characters in a topic never reach a published topic.
        if parse_device_id(device_id) is not None:
            self.mqtt.publish(self.topics.response(device_topic.kind, device_id), payload)
        else:
            self.mqtt.publish(self.topics.bridge_response("command"), payload)
        if reply_to is not None:
            self.mqtt.publish(reply_to.topic, payload, reply_to=reply_to)

    def _ignore_retained(self, message: IncomingMessage, *, device_topic: Any = None,
                         reply_to: ReplyTarget | None = None) -> None:
        if message.topic not in self._warned_retained:
            self._warned_retained.add(message.topic)
            _LOGGER.warning("Ignored a retained command on %s: a stale command must not run at "
                            "start-up; clear it with an empty retained message", message.topic)
        if device_topic is not None and message.payload:
            self._publish_rejection(device_topic, Reason.RETAINED,
                                    "retained command messages are ignored; publish commands "
                                    "without the retain flag",
                                    extract_transaction(message.payload), reply_to)

    def _on_homeassistant_status(self, payload: bytes) -> None:
        if payload.strip().lower() != b"online":
            return
        if self._birth_task is not None:
            self._birth_task.cancel()
        self._birth_task = self.spawn(self._republish_after_birth(), "homeassistant-birth")

    async def _republish_after_birth(self) -> None:
        await asyncio.sleep(self.config.homeassistant["birth_delay"])
        _LOGGER.info("Home Assistant came online; publishing discovery and states again")
        self.announcer.publish_discovery(force=True)
        self.publisher.republish_all(first=(self.topics.bridge_state,))

    # Bridge requests --------------------------------------------------------

    async def _handle_bridge_request(self, name: str, message: IncomingMessage) -> None:
        transaction, fields = _request_fields(message.payload)
        reply_to = (ReplyTarget(message.response_topic, message.correlation_data)
                    if message.response_topic else None)
        try:
            data = await self._run_bridge_request(name, fields)
        except BridgeRequestError as err:
            self._respond(name, {"status": "error", "error": str(err), "data": {}},
                          transaction, reply_to)
        else:
            self._respond(name, {"status": "ok", "data": data}, transaction, reply_to)

    async def _run_bridge_request(self, name: str, fields: dict[str, Any]) -> dict[str, Any]:
        if name == "pin":
            return await self._request_pin(fields)
        if name == "refresh":
            if self.auth.waiting_for_user:
                raise BridgeRequestError(f"cannot poll Blink: {self.auth.status.message}")
            succeeded = await self.read_back()
            if not succeeded:
                raise BridgeRequestError("the poll failed; see bridge/auth and the log")
            return {"last_poll": self.last_poll.isoformat(timespec="seconds")
                    if self.last_poll else None}
        if name == "discovery":
            self.announcer.publish_discovery(force=True)
            self.announcer.publish_all_states()
            return {"devices": len(self.inventory.networks) + len(self.inventory.cameras)}
        if name == "login":
            return await self._request_login()
        if name == "health":
            return self.health()
        raise BridgeRequestError(
            f"unknown request '{name}'; known requests: {', '.join(BRIDGE_REQUESTS + ('login',))}")

    async def _request_pin(self, fields: dict[str, Any]) -> dict[str, Any]:
        pin = str(fields.get("pin", "")).strip()
        if not pin.isdigit() or not 4 <= len(pin) <= 8:
            raise BridgeRequestError("the PIN must be the 4 to 8 digits Blink sent, "
                                     'as plain text or {"pin": "123456"}')
        if not self.client.session.waiting_for_pin:
            raise BridgeRequestError("no Blink login is waiting for a PIN; "
                                     "send bridge/request/login first")
        try:
            await self.client.submit_pin(pin)
        except blink_errors.BlinkError as err:
            self.auth.set(status_for_error(err))
            raise BridgeRequestError(str(err)) from None
        self.auth.set(AuthStatus(AuthState.OK, "Signed in to Blink"))
        self.poller.wake()
        return {"state": AuthState.OK.value}

    async def _request_login(self) -> dict[str, Any]:
        email, password = self.config.blink.get("email"), self.config.blink.get("password")
        if not email or not password:
            raise BridgeRequestError("blink.email and blink.password are not configured")
        since = time.monotonic() - self._last_login_started
        if self._last_login_started and since < MIN_SECONDS_BETWEEN_LOGINS:
            raise BridgeRequestError(
                f"a sign-in started {since:.0f} s ago; wait {MIN_SECONDS_BETWEEN_LOGINS:.0f} s "
                "between sign-ins, each may send an SMS and too many lock the account")
        await self._login(email, password)
        self.poller.wake()
        return {"state": self.auth.status.state.value}

    def _respond(self, name: str, payload: dict[str, Any], transaction: Any,
                 reply_to: ReplyTarget | None) -> None:
        if transaction is not None:
            payload["transaction"] = transaction
        self.mqtt.publish(self.topics.bridge_response(name), payload)
        if reply_to is not None:
            self.mqtt.publish(reply_to.topic, payload, reply_to=reply_to)

    # Bridge topics ----------------------------------------------------------

    def _on_auth_change(self, status: AuthStatus) -> None:
        self._publish_auth(status)
        if status.state is AuthState.OK:
            self.poller.wake()

    def _publish_auth(self, status: AuthStatus) -> None:
        self.publisher.publish(self.topics.bridge_auth, status.as_payload())

    def _publish_bridge_topics(self) -> None:
        self.publisher.publish(self.topics.bridge_info, self.info())
        self.publisher.publish(self.topics.bridge_devices, self.announcer.devices_listing())

    def info(self) -> dict[str, Any]:
        state = self.client.session.state
        return {
            "version": __version__,
            "account_id": state.account_id,
            "tier": state.tier,
            "poll_interval": self.config.bridge["poll_interval"],
            "networks": len(self.inventory.networks),
            "cameras": len(self.inventory.cameras),
            "last_poll": self.last_poll.isoformat(timespec="seconds") if self.last_poll else None,
            "base_topic": self.topics.base,
            "discovery_prefix": self.topics.discovery_prefix,
            "mqtt_protocol": self.config.mqtt["protocol"],
        }

    def health(self) -> dict[str, Any]:
        return {
            "mqtt_connected": self.mqtt.connected,
            "auth": self.auth.status.state.value,
            "last_poll": self.last_poll.isoformat(timespec="seconds") if self.last_poll else None,
            "consecutive_failed_polls": self.poller.consecutive_failures,
            "commands_running": self.runner.running,
            "rate_limited_for": round(self.client.rate_limited_for, 1),
        }

    def _discovery_context(self) -> DiscoveryContext | None:
        if not self.config.homeassistant["discovery"]:
            return None
        return DiscoveryContext(topics=self.topics, version=__version__,
                                account_id=None,
                                snooze_minutes=self.config.bridge["snooze_minutes"],
                                motion_off_delay=self.config.media["motion_hold_time"])


class BridgeRequestError(Exception):
    """A bridge request that cannot be carried out; the message goes to the response."""


def _request_fields(payload: bytes) -> tuple[Any, dict[str, Any]]:
    """Return (transaction, fields) of a bridge request: a JSON object or a bare value."""
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None, {}
    value: Any = None
    if text.startswith("{"):
        try:
            value = json.loads(text, parse_constant=lambda name: None)
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except (ValueError, RecursionError, UnicodeEncodeError):
            return None, {}
    if isinstance(value, dict):
        transaction = value.get("transaction")
        if not isinstance(transaction, (str, int, float)) or isinstance(transaction, bool) \
                or (isinstance(transaction, float) and not math.isfinite(transaction)):
            transaction = None
        return transaction, value
    return None, {"pin": text, "value": text}
