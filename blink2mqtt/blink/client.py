"""Async client for Blink's cloud REST API, with no dependency on MQTT."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import httpx

from .errors import (
    CommandFailedError,
    CommandTimeoutError,
    LoginRequiredError,
    RateLimitedError,
    TransientError,
)
from .models import (
    CameraConfig,
    CameraSignals,
    Command,
    CommandStatus,
    DeviceFamily,
    DeviceRef,
    Homescreen,
    MediaEvent,
)
from .parsing import (
    parse_camera_config,
    parse_camera_signals,
    parse_command,
    parse_command_status,
    parse_homescreen,
    parse_media_page,
    parse_media_page_limit,
    parse_timestamp,
)
from .profile import BlinkHosts, ClientProfile
from .responses import (
    check_download_response,
    decode_rest_response,
    parse_retry_after,
)
from .session import BlinkSession
from .tokens import TokenStore

_LOGGER = logging.getLogger(__name__)

COMMAND_SUCCESS_CODE = 908
DEFAULT_COMMAND_TIMEOUT_SECONDS = 60.0
DEFAULT_COMMAND_POLL_SECONDS = 1.0
DEFAULT_MEDIA_MAX_PAGES = 10


@dataclass(frozen=True, slots=True)
class BlinkClientConfig:
    token_file: Path
    hosts: BlinkHosts = field(default_factory=BlinkHosts)
    profile: ClientProfile = field(default_factory=ClientProfile)
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    verify_tls: bool | str = True
    refresh_margin_seconds: float = 300.0
    # First and maximum wait after a token refresh fails transiently.
    refresh_backoff_seconds: tuple[float, float] = (60.0, 900.0)
    command_timeout_seconds: float = DEFAULT_COMMAND_TIMEOUT_SECONDS
    command_poll_seconds: float = DEFAULT_COMMAND_POLL_SECONDS

    @property
    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.read_timeout, connect=self.connect_timeout)


# REST paths of camera actions per family; {A} account, {N} network, {C} camera.
_OWL = "/api/v1/accounts/{A}/networks/{N}/owls/{C}"
_DOORBELL = "/api/v1/accounts/{A}/networks/{N}/doorbells/{C}"
_CLASSIC = "/network/{N}/camera/{C}"
CAMERA_PATHS: dict[DeviceFamily, dict[str, str]] = {
    DeviceFamily.CAMERA: {
        "enable": f"{_CLASSIC}/enable",
        "disable": f"{_CLASSIC}/disable",
        "thumbnail": f"{_CLASSIC}/thumbnail",
        "clip": f"{_CLASSIC}/clip",
        "config": f"{_CLASSIC}/config",
        "update_config": f"{_CLASSIC}/update",
        "signals": f"{_CLASSIC}/signals",
        "info": _CLASSIC,
        "snooze": "/api/v1/accounts/{A}/networks/{N}/cameras/{C}/snooze",
        "liveview": "/api/v6/accounts/{A}/networks/{N}/cameras/{C}/liveview",
    },
    DeviceFamily.MINI: {
        # Minis switch motion detection through their config endpoint.
        "enable": f"{_OWL}/config",
        "disable": f"{_OWL}/config",
        "thumbnail": f"{_OWL}/thumbnail",
        "clip": f"{_OWL}/clip",
        "config": f"{_OWL}/config",
        "update_config": f"{_OWL}/config",
        "snooze": f"{_OWL}/snooze",
        "liveview": "/api/v2/accounts/{A}/networks/{N}/owls/{C}/liveview",
    },
    DeviceFamily.DOORBELL: {
        "enable": f"{_DOORBELL}/enable",
        "disable": f"{_DOORBELL}/disable",
        "thumbnail": f"{_DOORBELL}/thumbnail",
        "clip": f"{_DOORBELL}/clip",
        "config": f"{_DOORBELL}/config",
        "snooze": f"{_DOORBELL}/snooze",
        "liveview": "/api/v2/accounts/{A}/networks/{N}/doorbells/{C}/liveview",
    },
}


class UnsupportedActionError(ValueError):
    """The device family has no REST path for this action."""


class BlinkClient:
    """Typed methods for Blink's endpoints on top of an authenticated session.

    Every request passes through one gate: while a 429's Retry-After runs, no
    request leaves and the caller gets RateLimitedError at once.
    """

    def __init__(self, config: BlinkClientConfig, *,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._monotonic = monotonic
        # The hook checks the Retry-After gate again as httpx sends, because a
        # request that passed the first check may wait for a connection meanwhile.
        self._http = httpx.AsyncClient(timeout=config.timeout, verify=config.verify_tls,
                                       follow_redirects=False,
                                       event_hooks={"request": [self._gate_request]})
        self.session = BlinkSession(
            TokenStore(config.token_file), hosts=config.hosts, profile=config.profile,
            http=self._http, timeout=config.timeout, verify=config.verify_tls,
            refresh_margin_seconds=config.refresh_margin_seconds,
            refresh_backoff=config.refresh_backoff_seconds, monotonic=monotonic,
        )
        self._rate_limited_until = 0.0

    async def aclose(self) -> None:
        await self.session.cancel_pending_login()
        await self._http.aclose()

    async def __aenter__(self) -> BlinkClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def rate_limited_for(self) -> float:
        """Seconds until requests may be sent again after a 429; 0 when not limited."""
        return max(0.0, self._rate_limited_until - self._monotonic())

    # Login ------------------------------------------------------------------

    async def login(self, email: str, password: str) -> None:
        self._check_rate_limit("the sign-in")
        try:
            await self.session.login(email, password)
        except RateLimitedError as err:
            self._note_rate_limit(err)
            raise

    async def submit_pin(self, pin: str) -> None:
        await self.session.submit_pin(pin)

    # Account ----------------------------------------------------------------

    async def get_homescreen(self) -> Homescreen:
        response = await self._send("GET", "/api/v3/accounts/{A}/homescreen", what="the homescreen")
        body = decode_rest_response(response, what="the homescreen")
        client_id = _header_int(response, "Client-Id")
        user_id = _header_int(response, "User-Id")
        if client_id is not None or user_id is not None:
            self.session.remember_client_ids(client_id, user_id)
        return parse_homescreen(body, account_id=self.session.account_id,
                                client_id=client_id, user_id=user_id)

    async def get_notification_flags(self) -> dict[str, bool]:
        body = await self._json("GET", "/api/v1/accounts/{A}/notifications/configuration",
                                what="the notification flags")
        flags = body.get("notifications") if isinstance(body, dict) else None
        if not isinstance(flags, dict):
            raise TransientError("Blink's notification flags lack the 'notifications' object")
        return {str(key): bool(value) for key, value in flags.items()}

    async def set_notification_flags(self, flags: dict[str, bool]) -> None:
        await self._json("POST", "/api/v1/accounts/{A}/notifications/configuration",
                         body={"notifications": flags}, what="the notification flags update")

    async def get_client_options(self) -> Any:
        return await self._json("GET", "/api/v1/accounts/{A}/clients/{CLIENT}/options",
                                what="the client options")

    async def set_client_options(self, options: dict[str, Any]) -> Any:
        return await self._json("POST", "/api/v1/accounts/{A}/clients/{CLIENT}/update",
                                body=options, what="the client options update")

    async def get_account_options(self) -> Any:
        return await self._json("GET", "/api/v1/account/options", what="the account options")

    async def get_user(self) -> Any:
        return await self._json("GET", "/user", what="the user profile")

    async def get_app_version(self) -> Any:
        return await self._json("GET", "/api/v1/version", what="the app version check",
                                authenticated=False)

    async def get_regions(self, locale: str = "US") -> Any:
        return await self._json("GET", "/regions", params={"locale": locale},
                                what="the region list", authenticated=False)

    async def get_health(self) -> Any:
        return await self._json("GET", "/health", what="the health check")

    async def upload_app_logs(self, record: dict[str, Any]) -> Any:
        return await self._json("POST", "/app/logs/upload", body=record, what="the log upload")

    async def logout(self) -> None:
        """Log this client out at Blink and forget the local tokens."""
        try:
            await self._json("POST", "/api/v4/account/{A}/client/{CLIENT}/logout",
                             what="the logout")
        finally:
            await self.session.logout_locally()

    async def legacy_login(self, email: str, password: str) -> Any:
        """Call the retired password login; Blink responds that an app update is required."""
        return await self._json("POST", "/api/v5/account/login",
                                body={"email": email, "password": password},
                                what="the legacy login", authenticated=False)

    async def legacy_verify_pin(self, pin: str) -> Any:
        """Call the retired client PIN check; two-factor now runs inside the OAuth login."""
        return await self._json("POST", "/api/v4/account/{A}/client/{CLIENT}/pin/verify",
                                body={"pin": pin}, what="the legacy PIN check")

    # Networks ---------------------------------------------------------------

    async def arm(self, network_id: int) -> Command | None:
        return await self._command("POST", "/api/v1/accounts/{A}/networks/{N}/state/arm",
                                   network_id=network_id, what=f"arming network {network_id}")

    async def disarm(self, network_id: int) -> Command | None:
        return await self._command("POST", "/api/v1/accounts/{A}/networks/{N}/state/disarm",
                                   network_id=network_id, what=f"disarming network {network_id}")

    async def snooze_network(self, network_id: int, minutes: int) -> Command | None:
        return await self._command("POST", "/api/v1/accounts/{A}/networks/{N}/snooze",
                                   network_id=network_id, body={"snooze_time": minutes},
                                   what=f"snoozing network {network_id}")

    async def get_network_snooze(self, network_id: int) -> datetime | None:
        body = await self._json("GET", "/api/v1/accounts/{A}/networks/{N}/snooze",
                                network_id=network_id, what=f"the snooze of network {network_id}")
        return parse_timestamp(body.get("snooze_till")) if isinstance(body, dict) else None

    async def list_networks(self) -> Any:
        return await self._json("GET", "/networks", what="the network list")

    async def get_network(self, network_id: int) -> Any:
        return await self._json("GET", "/network/{N}", network_id=network_id,
                                what=f"network {network_id}")

    async def update_network(self, network_id: int, changes: dict[str, Any] | None = None) -> Any:
        return await self._json("POST", "/network/{N}/update", network_id=network_id,
                                body=changes, what=f"the update of network {network_id}")

    async def get_sync_module(self, network_id: int) -> Any:
        return await self._json("GET", "/network/{N}/syncmodules", network_id=network_id,
                                what=f"the sync module of network {network_id}")

    async def get_camera_usage(self) -> Any:
        return await self._json("GET", "/api/v1/camera/usage", what="the camera usage")

    # Schedules --------------------------------------------------------------

    async def list_schedules(self, network_id: int) -> list[dict[str, Any]]:
        body = await self._json("GET", "/api/v1/networks/{N}/programs", network_id=network_id,
                                what=f"the schedules of network {network_id}")
        if not isinstance(body, list):
            raise TransientError(f"Blink's schedules of network {network_id} are not a list")
        return [entry for entry in body if isinstance(entry, dict)]

    async def enable_schedule(self, network_id: int, schedule_id: int) -> Any:
        return await self._json("POST", f"/api/v1/networks/{{N}}/programs/{schedule_id}/enable",
                                network_id=network_id, what=f"enabling schedule {schedule_id}")

    async def disable_schedule(self, network_id: int, schedule_id: int) -> Any:
        return await self._json("POST", f"/api/v1/networks/{{N}}/programs/{schedule_id}/disable",
                                network_id=network_id, what=f"disabling schedule {schedule_id}")

    async def update_schedule(self, network_id: int, schedule_id: int,
                              schedule: dict[str, Any]) -> Any:
        return await self._json("POST", f"/api/v1/networks/{{N}}/programs/{schedule_id}/update",
                                network_id=network_id, body=schedule,
                                what=f"updating schedule {schedule_id}")

    # Cameras ----------------------------------------------------------------

    async def set_motion_detection(self, device: DeviceRef, enabled: bool) -> Command | None:
        action = "enable" if enabled else "disable"
        body = {"enabled": enabled} if device.family is DeviceFamily.MINI else None
        return await self._camera_command(device, action, body=body,
                                          what=f"{action} motion detection on camera {device.camera_id}")

    async def request_thumbnail(self, device: DeviceRef) -> Command | None:
        return await self._camera_command(device, "thumbnail",
                                          what=f"a new thumbnail of camera {device.camera_id}")

    async def record_clip(self, device: DeviceRef) -> Command | None:
        return await self._camera_command(device, "clip",
                                          what=f"a clip from camera {device.camera_id}")

    async def snooze_camera(self, device: DeviceRef, minutes: int) -> Command | None:
        return await self._camera_command(device, "snooze", body={"snooze_time": minutes},
                                          what=f"snoozing camera {device.camera_id}")

    async def start_liveview(self, device: DeviceRef) -> Any:
        path = self._camera_path(device, "liveview")
        return await self._json("POST", path, network_id=device.network_id,
                                body={"intent": "liveview", "motion_event_start_time": None},
                                what=f"live view of camera {device.camera_id}")

    async def get_camera_config(self, device: DeviceRef, *, model: str | None = None) -> CameraConfig:
        body = await self._json("GET", self._camera_path(device, "config"),
                                network_id=device.network_id,
                                what=f"the config of camera {device.camera_id}")
        return parse_camera_config(body, account_id=self.session.account_id,
                                   network_id=device.network_id, camera_id=device.camera_id,
                                   model=model)

    async def update_camera_config(self, device: DeviceRef, changes: dict[str, Any]) -> Command | None:
        return await self._camera_command(device, "update_config", body=changes,
                                          what=f"the config update of camera {device.camera_id}")

    async def get_camera_signals(self, device: DeviceRef) -> CameraSignals:
        body = await self._json("GET", self._camera_path(device, "signals"),
                                network_id=device.network_id,
                                what=f"the signals of camera {device.camera_id}")
        return parse_camera_signals(body)

    async def get_camera_info(self, device: DeviceRef) -> Any:
        return await self._json("GET", self._camera_path(device, "info"),
                                network_id=device.network_id,
                                what=f"camera {device.camera_id}")

    # Commands ---------------------------------------------------------------

    async def get_command_status(self, command: Command) -> CommandStatus:
        body = await self._json("GET", f"/network/{{N}}/command/{command.id}",
                                network_id=command.network_id,
                                what=f"the status of command {command.id}")
        return parse_command_status(body)

    async def mark_command_done(self, command: Command) -> Any:
        return await self._json("POST", f"/network/{{N}}/command/{command.id}/done/",
                                network_id=command.network_id,
                                what=f"ending command {command.id}")

    async def wait_for_command(self, command: Command, *, timeout: float | None = None,
                               poll_interval: float | None = None) -> CommandStatus:
        """Poll until the command completes; raise CommandFailedError or CommandTimeoutError.

        Transient errors while polling are retried until the timeout, because
        the command keeps running at Blink whether or not one poll fails.
        """
        timeout = self.config.command_timeout_seconds if timeout is None else timeout
        interval = self.config.command_poll_seconds if poll_interval is None else poll_interval
        started = self._monotonic()
        deadline = started + timeout
        while True:
            try:
                status = await self.get_command_status(command)
            except TransientError as err:
                _LOGGER.debug("Status poll of command %s failed, retrying: %s", command.id, err)
                status = None

            if status is not None and status.status_code not in (None, COMMAND_SUCCESS_CODE):
                raise CommandFailedError(
                    status.message or f"command {command.id} failed",
                    code=status.status_code,
                )
            if status is not None and status.complete:
                return status

            remaining = deadline - self._monotonic()
            if remaining <= 0:
                waited = self._monotonic() - started
                raise CommandTimeoutError(
                    f"command {command.id} on network {command.network_id} did not complete "
                    f"within {timeout:g} s",
                    command_id=command.id, waited_seconds=waited,
                )
            await asyncio.sleep(min(interval, remaining))

    # Media ------------------------------------------------------------------

    async def get_media_page(self, since: datetime,
                             page: int = 1) -> tuple[list[MediaEvent], int | None]:
        """Return one page of the media list and the page size Blink reports, if any."""
        body = await self._json("GET", "/api/v1/accounts/{A}/media/changed",
                                params={"since": format_since(since), "page": str(page)},
                                what=f"page {page} of the media list")
        return parse_media_page(body), parse_media_page_limit(body)

    async def get_media_changed(self, since: datetime, *,
                                max_pages: int = DEFAULT_MEDIA_MAX_PAGES) -> list[MediaEvent]:
        """Return media changed since ``since``.

        Pages are read until one is empty or shorter than the ``limit`` Blink
        reports, so a quiet account costs one request.
        """
        events: list[MediaEvent] = []
        for page in range(1, max_pages + 1):
            batch, limit = await self.get_media_page(since, page)
            events.extend(batch)
            if not batch or (limit is not None and len(batch) < limit):
                break
        else:
            _LOGGER.warning("Media list still had entries after %d pages; the rest waits "
                            "for the next poll", max_pages)
        return events

    async def delete_media(self, media_ids: list[int]) -> Any:
        return await self._json("POST", "/api/v1/accounts/{A}/media/delete",
                                body={"media_list": media_ids}, what="the media deletion")

    async def set_video_options(self, options: dict[str, Any]) -> Any:
        return await self._json("POST", "/api/v1/account/video_options", body=options,
                                what="the video options")

    async def download(self, path: str) -> bytes:
        """Download a thumbnail or clip by its path on the tier host."""
        response = await self._send("GET", path, what=f"media {path}", substitute=False)
        return check_download_response(response, what=path)

    # Plumbing ---------------------------------------------------------------

    def _camera_path(self, device: DeviceRef, action: str) -> str:
        try:
            template = CAMERA_PATHS[device.family][action]
        except KeyError:
            raise UnsupportedActionError(
                f"a {device.family.value} has no '{action}' endpoint at Blink"
            ) from None
        return template.replace("{C}", str(device.camera_id))

    async def _camera_command(self, device: DeviceRef, action: str, *, what: str,
                              body: dict[str, Any] | None = None) -> Command | None:
        return await self._command("POST", self._camera_path(device, action),
                                   network_id=device.network_id, body=body, what=what)

    async def _command(self, method: str, path: str, *, network_id: int, what: str,
                       body: dict[str, Any] | None = None) -> Command | None:
        result = await self._json(method, path, network_id=network_id, body=body, what=what)
        return parse_command(result, default_network_id=network_id)

    async def _json(self, method: str, path: str, *, what: str, network_id: int | None = None,
                    body: Any = None, params: dict[str, str] | None = None,
                    authenticated: bool = True) -> Any:
        response = await self._send(method, path, what=what, network_id=network_id, body=body,
                                    params=params, authenticated=authenticated)
        return decode_rest_response(response, what=what)

    async def _send(self, method: str, path: str, *, what: str, network_id: int | None = None,
                    body: Any = None, params: dict[str, str] | None = None,
                    authenticated: bool = True, substitute: bool = True) -> httpx.Response:
        """Send one REST request; on HTTP 401 refresh the token once and retry once."""
        for attempt in (1, 2):
            self._check_rate_limit(what)
            headers = {"Content-Type": "application/json"}
            token = None
            if authenticated:
                token = await self._access_token()
                headers["Authorization"] = f"Bearer {token}"
            url = self._url(path, network_id=network_id) if substitute \
                else f"{self.session.tier_url}{path}"

            try:
                response = await self._http.request(method, url, headers=headers,
                                                     json=body, params=params)
            except httpx.TimeoutException as err:
                raise TransientError(f"Blink did not respond to {what} in time") from err
            except httpx.HTTPError as err:
                raise TransientError(f"{what} failed: {type(err).__name__}: {err}") from err
            _LOGGER.debug("%s %s -> HTTP %s", method, path, response.status_code)

            if response.status_code == 429:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                self._note_rate_limit(RateLimitedError("HTTP 429", retry_after=retry_after))
            if response.status_code != 401 and not _is_unauthorized_body(response):
                return response
            if not authenticated or attempt == 2:
                break
            _LOGGER.info("Blink answered 401 for %s; refreshing the token once", what)
            await self._refresh(failed_access_token=token)

        raise LoginRequiredError(
            f"Blink rejected the session for {what} even after a token refresh; "
            "run 'blink2mqtt login' again"
        )

    async def _access_token(self) -> str:
        try:
            return await self.session.access_token()
        except RateLimitedError as err:
            self._note_rate_limit(err)
            raise

    async def _refresh(self, *, failed_access_token: str | None) -> None:
        try:
            await self.session.refresh(failed_access_token=failed_access_token)
        except RateLimitedError as err:
            self._note_rate_limit(err)
            raise

    def _url(self, path: str, *, network_id: int | None) -> str:
        path = path.replace("{A}", str(self.session.account_id))
        if "{CLIENT}" in path:
            if self.session.state.client_id is None:
                raise LoginRequiredError(
                    "the Blink client id is unknown until the first homescreen read"
                )
            path = path.replace("{CLIENT}", str(self.session.state.client_id))
        if network_id is not None:
            path = path.replace("{N}", str(network_id))
        return f"{self.session.tier_url}{path}"

    async def _gate_request(self, request: httpx.Request) -> None:
        self._check_rate_limit(f"{request.method} {request.url.path}")

    def _check_rate_limit(self, what: str) -> None:
        remaining = self.rate_limited_for
        if remaining > 0:
            raise RateLimitedError(
                f"not sending {what}: Blink asked to wait {remaining:.0f} s more (HTTP 429)",
                retry_after=remaining,
            )

    def _note_rate_limit(self, err: RateLimitedError) -> None:
        until = self._monotonic() + err.retry_after
        if until > self._rate_limited_until:
            self._rate_limited_until = until
            _LOGGER.warning("Blink rate-limited the account; no request for %.0f s", err.retry_after)


def format_since(moment: datetime) -> str:
    """Format a ``since`` value as Blink expects: UTC with an explicit +0000 offset."""
    if moment.tzinfo is None:
        raise ValueError("media 'since' must be timezone-aware to be unambiguous")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _header_int(response: httpx.Response, name: str) -> int | None:
    value = response.headers.get(name)
    return int(value) if value is not None and value.strip().isdigit() else None


def _is_unauthorized_body(response: httpx.Response) -> bool:
    """True for Blink's "Unauthorized Access" code 101 sent with a status other than 401."""
    if len(response.content) > 200 or b"101" not in response.content:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("code") == 101
