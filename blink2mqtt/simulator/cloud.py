"""LocalBlinkCloud: a real HTTP server that speaks Blink's OAuth and REST API, with controls.

Tests, the demo and benchmarks point a Blink client at ``oauth_url``, ``rest_prod_url``
and ``tier_url_template`` and steer the account through the control methods below,
either in-process or over HTTP as ``POST /_sim/<method>``.
"""

from __future__ import annotations

import datetime as dt
import threading
from types import TracebackType
from typing import Any

from blink2mqtt.simulator.auth_store import AuthStore, TwoFactorStyle, validate_two_factor_style
from blink2mqtt.simulator.commands import CommandTiming
from blink2mqtt.simulator.context import CloudContext, CloudSettings
from blink2mqtt.simulator.control import handle_control_request
from blink2mqtt.simulator.demo_account import demo_identity, populate_demo_account
from blink2mqtt.simulator.dispatch import Dispatcher, RecordedRequest, RequestLog
from blink2mqtt.simulator.faults import FaultInjector
from blink2mqtt.simulator.http_types import SimRequest, SimResponse
from blink2mqtt.simulator.server import SimulatorServer
from blink2mqtt.simulator.state import AccountState
from blink2mqtt.simulator.timestamps import format_iso


def _build_account(settings: CloudSettings) -> AccountState:
    timing = CommandTiming(
        polls_to_complete=settings.command_polls_to_complete,
        max_seconds=settings.command_max_seconds,
        stuck_seconds=settings.stuck_command_seconds,
    )
    state = AccountState(demo_identity(), timing)
    if settings.demo:
        populate_demo_account(state)
    return state


def _build_auth(settings: CloudSettings) -> AuthStore:
    return AuthStore(settings.require_2fa, settings.two_factor_style, settings.token_lifetime_seconds)


class LocalBlinkCloud:
    """Simulated Blink cloud on one loopback port. The package docstring describes the URL layout."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        require_2fa: bool = False,
        two_factor_style: TwoFactorStyle = "412",
        command_polls_to_complete: int = 2,
        command_max_seconds: float = 3.0,
        stuck_command_seconds: float = 10.0,
        token_lifetime_seconds: float = 14400,
        media_page_size: int = 25,
        demo: bool = True,
    ) -> None:
        validate_two_factor_style(two_factor_style)
        if command_polls_to_complete < 0:
            raise ValueError(f"invalid command_polls_to_complete {command_polls_to_complete}: must be 0 or more")
        if media_page_size < 1:
            raise ValueError(f"invalid media_page_size {media_page_size}: must be at least 1")
        if token_lifetime_seconds <= 0:
            raise ValueError(f"invalid token_lifetime_seconds {token_lifetime_seconds}: must be positive")
        self._settings = CloudSettings(
            require_2fa=require_2fa,
            two_factor_style=two_factor_style,
            command_polls_to_complete=command_polls_to_complete,
            command_max_seconds=command_max_seconds,
            stuck_command_seconds=stuck_command_seconds,
            token_lifetime_seconds=token_lifetime_seconds,
            media_page_size=media_page_size,
            demo=demo,
        )
        self._context = CloudContext(self._settings, _build_account(self._settings), _build_auth(self._settings))
        self._faults = FaultInjector()
        self._log = RequestLog()
        self._stop_event = threading.Event()
        dispatcher = Dispatcher(self._context, self._faults, self._log, self._handle_control, self._stop_event)
        self._server = SimulatorServer(host, port, dispatcher, self._stop_event)

    # Lifecycle -------------------------------------------------------------------------

    def start(self) -> LocalBlinkCloud:
        self._server.start()
        self._context.base_url = self.base_url
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> LocalBlinkCloud:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    # Addresses and identity --------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def base_url(self) -> str:
        return f"http://{self._server.host}:{self.port}"

    @property
    def oauth_url(self) -> str:
        return f"{self.base_url}/hosts/oauth"

    @property
    def rest_prod_url(self) -> str:
        return f"{self.base_url}/hosts/rest-prod"

    @property
    def tier_url_template(self) -> str:
        return f"{self.base_url}/hosts/rest-{{tier}}"

    @property
    def rest_url(self) -> str:
        """Base URL of this account's tier host, i.e. tier_url_template formatted."""
        return self.tier_url_template.format(tier=self.tier)

    @property
    def control_url(self) -> str:
        return f"{self.base_url}/_sim"

    @property
    def account_id(self) -> int:
        return self._context.state.identity.account_id

    @property
    def tier(self) -> str:
        return self._context.state.identity.tier

    @property
    def user_id(self) -> int:
        return self._context.state.identity.user_id

    # Request log and counters ----------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Copy of the Blink-host requests served so far (control API calls excluded)."""
        return self._log.snapshot()

    def clear_requests(self) -> None:
        self._log.clear()

    def count_requests(self, method: str | None = None, path_regex: str | None = None, host: str | None = None) -> int:
        """Count logged requests. ``path_regex`` is searched in the path below the host prefix."""
        return self._log.count(method, path_regex, host)

    @property
    def sms_sent(self) -> int:
        """Sign-ins that required 2FA, each of which makes Blink send a PIN."""
        return self._context.auth.sms_sent

    @property
    def signins(self) -> int:
        """POST /oauth/v2/signin requests, including rejected and rate-limited ones."""
        return self._context.auth.signins

    @property
    def refreshes(self) -> int:
        """refresh_token grant requests, successful or not."""
        return self._context.auth.refreshes

    # Control methods ----------------------------------------------------------------------------

    def trigger_motion(self, camera_id: int, created_at: dt.datetime | str | None = None) -> int:
        """Add a motion clip (media entry) for a device and return its media id.

        ``created_at`` in the past simulates a clip that shows up late: it is listed by
        media/changed from now on (updated_at is now) but carries the older created_at.
        """
        return self._context.state.trigger_motion(camera_id, created_at)

    def delete_media(self, media_ids: list[int]) -> int:
        """Mark media entries deleted, as a user deleting clips in the app; returns how many."""
        with self._context.state.lock:
            return self._context.state.delete_media(list(media_ids))

    def update_camera(self, camera_id: int, **fields: Any) -> None:
        """Change name, battery ("ok"/"low"), battery_level, temperature_f, wifi_bars, online or motion_enabled."""
        self._context.state.update_camera(camera_id, **fields)

    def update_network(self, network_id: int, **fields: Any) -> None:
        """Change name, armed or sync_module_online."""
        self._context.state.update_network(network_id, **fields)

    def add_camera(self, network_id: int, family: str, name: str, **fields: Any) -> int:
        """Add a "camera" (classic, needs a sync module), "mini" or "doorbell" and return its id.

        Accepts the update_camera fields plus ``type`` and ``thumbnail_style``.
        """
        return self._context.state.add_camera(network_id, family, name, **fields)

    def add_network(self, name: str, with_sync_module: bool = True) -> int:
        return self._context.state.add_network(name, with_sync_module)

    def remove_device(self, device_id: int) -> None:
        """Remove a camera, Mini, doorbell or (camera-less) sync module."""
        self._context.state.remove_device(device_id)

    def remove_network(self, network_id: int) -> None:
        """Remove a network with its devices, schedules and commands. Its media stays listed."""
        self._context.state.remove_network(network_id)

    def set_two_factor(self, required: bool, style: TwoFactorStyle = "412") -> None:
        self._context.auth.set_two_factor(required, style)

    def expire_tokens(self) -> None:
        """Invalidate every issued access token. Refresh tokens stay valid."""
        self._context.auth.expire_tokens()

    def revoke_refresh_tokens(self) -> None:
        self._context.auth.revoke_refresh_tokens()

    def fail_next_command(
        self, mode: str = "fail", count: int = 1, status_code: int = 999, message: str = "Command failed"
    ) -> None:
        """Make the next ``count`` commands fail (complete with ``status_code``) or never complete."""
        state = self._context.state
        with state.lock:
            state.commands.plan_failures(mode, count, status_code, message)  # type: ignore[arg-type]

    def inject_fault(
        self,
        path_regex: str,
        kind: str,
        count: int = 1,
        status: int = 500,
        body: Any = None,
        delay: float | None = None,
        retry_after: float | None = None,
        content_type: str | None = None,
    ) -> None:
        """Make the next ``count`` requests whose path (below /hosts/<host>) matches fail.

        Kinds: status, delay, non_json, truncated_json, rate_limit, blocked, app_update, app_update_426.
        """
        self._faults.inject(path_regex, kind, count, status, body, delay, retry_after, content_type)

    def clear_faults(self) -> None:
        self._faults.clear()

    def set_snooze_allowed(self, minutes: list[int] | None) -> None:
        """Restrict snooze lengths to ``minutes``. None accepts any length from 1 to 1440."""
        self._context.state.set_snooze_allowed(minutes)

    def set_thumbnail_frozen(self, camera_id: int, frozen: bool) -> None:
        """While frozen, completed thumbnail commands leave the picture and its ts unchanged."""
        self._context.state.set_thumbnail_frozen(camera_id, frozen)

    def set_thumbnail_payload(self, camera_id: int, kind: str) -> None:
        """Serve "jpeg", "empty", "not_image" or "oversize" (> 2 MiB) for the device's still
        image until changed again."""
        self._context.state.set_thumbnail_payload(camera_id, kind)

    def set_login_rate_limit(self, max_signins: int, window_seconds: float) -> None:
        """Reject sign-in POSTs beyond ``max_signins`` per ``window_seconds`` with 429 and Retry-After."""
        self._context.auth.set_login_rate_limit(max_signins, window_seconds)

    def reset(self) -> None:
        """Return to the starting state: account, tokens, sessions, counters, faults and request log."""
        self._context.state = _build_account(self._settings)
        self._context.auth = _build_auth(self._settings)
        self._faults.clear()
        self._log.clear()

    # Introspection --------------------------------------------------------------------------------

    def state_snapshot(self) -> dict[str, Any]:
        """Return a JSON-ready dump of the account, counters, settings and pending faults."""
        state = self._context.state
        with state.lock:
            state.commands.settle()
            networks = [
                {
                    "id": network.id,
                    "name": network.name,
                    "armed": network.armed,
                    "snooze_until": format_iso(network.snooze_until) if network.snooze_until else None,
                    "sync_module": None
                    if network.sync_module is None
                    else {
                        "id": network.sync_module.id,
                        "name": network.sync_module.name,
                        "online": network.sync_module.online,
                    },
                }
                for network in state.networks.values()
            ]
            devices = [
                {
                    "id": device.id,
                    "family": device.family,
                    "network_id": device.network_id,
                    "name": device.name,
                    "type": device.type,
                    "motion_enabled": device.motion_enabled,
                    "online": device.online,
                    "battery": "ok" if device.battery_ok else "low",
                    "battery_level": device.battery_level,
                    "temperature_f": device.temperature_f,
                    "wifi_bars": device.wifi_bars,
                    "thumbnail_ts": device.thumbnail_ts,
                    "thumbnail_style": device.thumbnail_style,
                    "thumbnail_frozen": device.thumbnail_frozen,
                    "thumbnail_payload": device.thumbnail_payload,
                    "snooze_until": format_iso(device.snooze_until) if device.snooze_until else None,
                }
                for device in state.devices.values()
            ]
            media = [
                {
                    "id": entry.id,
                    "device_id": entry.device_id,
                    "created_at": format_iso(entry.created_at),
                    "updated_at": format_iso(entry.updated_at),
                    "deleted": entry.deleted,
                    "source": entry.source,
                }
                for entry in state.media.values()
            ]
            account = {
                "account_id": state.identity.account_id,
                "tier": state.identity.tier,
                "user_id": state.identity.user_id,
                "email": state.identity.email,
            }
            snooze_allowed = list(state.snooze_allowed_minutes) if state.snooze_allowed_minutes is not None else None
        auth = self._context.auth
        return {
            "account": account,
            "networks": networks,
            "devices": devices,
            "media": media,
            "counters": auth.counters(),
            "two_factor": {"required": auth.require_2fa, "style": auth.two_factor_style},
            "snooze_allowed_minutes": snooze_allowed,
            "faults": self._faults.pending(),
        }

    def _handle_control(self, request: SimRequest) -> SimResponse:
        return handle_control_request(self, request)
