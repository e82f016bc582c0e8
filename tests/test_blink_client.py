"""The Blink client against the local Blink cloud over real HTTP."""

from __future__ import annotations

import asyncio
import os
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Awaitable, TypeVar

import pytest

from blink2mqtt.blink import (
    BlinkClient,
    BlinkClientConfig,
    BlinkHosts,
    BlockedError,
    BusyError,
    ClientOutdatedError,
    CommandFailedError,
    CommandTimeoutError,
    CredentialsRejectedError,
    DeviceFamily,
    DeviceRef,
    InvalidResponseError,
    LoginRequiredError,
    NotFoundError,
    PinRejectedError,
    PinRequiredError,
    RateLimitedError,
    TokenStore,
    TransientError,
)
from blink2mqtt.blink.errors import BlinkApiError
from blink2mqtt.simulator import DEMO_EMAIL, DEMO_PASSWORD, DEMO_PIN, LocalBlinkCloud

T = TypeVar("T")

FRONT_YARD = DeviceRef(DeviceFamily.CAMERA, 2101, 4101)
DRIVEWAY = DeviceRef(DeviceFamily.CAMERA, 2101, 4102)
BACK_GARDEN = DeviceRef(DeviceFamily.CAMERA, 2101, 4103)
KITCHEN_MINI = DeviceRef(DeviceFamily.MINI, 2101, 5101)
CABIN_MINI = DeviceRef(DeviceFamily.MINI, 2102, 5102)
CABIN_DOORBELL = DeviceRef(DeviceFamily.DOORBELL, 2102, 6101)


def run(coroutine: Awaitable[T]) -> T:
    return asyncio.run(coroutine)  # type: ignore[arg-type]


def make_client(cloud: LocalBlinkCloud, tmp_path: Path, **overrides: Any) -> BlinkClient:
    settings: dict[str, Any] = {
        "token_file": tmp_path / "tokens.json",
        "hosts": BlinkHosts(oauth_url=cloud.oauth_url, rest_prod_url=cloud.rest_prod_url,
                            tier_url_template=cloud.tier_url_template),
        "read_timeout": 1.0, "connect_timeout": 1.0,
        "command_timeout_seconds": 5.0, "command_poll_seconds": 0.05,
    }
    settings.update(overrides)
    return BlinkClient(BlinkClientConfig(**settings))


async def logged_in(cloud: LocalBlinkCloud, tmp_path: Path, **overrides: Any) -> BlinkClient:
    client = make_client(cloud, tmp_path, **overrides)
    await client.login(DEMO_EMAIL, DEMO_PASSWORD)
    return client


# Login ----------------------------------------------------------------------

def test_login_without_two_factor(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = await logged_in(cloud, tmp_path)
        state = client.session.state
        assert state.tier == "u011"
        assert state.account_id == 74521
        assert state.access_token and state.refresh_token
        homescreen = await client.get_homescreen()
        assert {n.id for n in homescreen.networks} == {2101, 2102}
        await client.aclose()
    run(scenario())
    assert cloud.sms_sent == 0
    assert cloud.signins == 1


@pytest.mark.parametrize("style", ["412", "202"])
def test_login_with_two_factor_resumes(cloud: LocalBlinkCloud, tmp_path: Path, style: str) -> None:
    cloud.set_two_factor(True, style)

    async def scenario() -> None:
        client = make_client(cloud, tmp_path)
        with pytest.raises(PinRequiredError):
            await client.login(DEMO_EMAIL, DEMO_PASSWORD)
        assert client.session.waiting_for_pin
        await client.submit_pin(DEMO_PIN)
        assert client.session.is_logged_in
        await client.get_homescreen()
        await client.aclose()
    run(scenario())
    # The PIN finished the same login: one credentials POST, one SMS.
    assert cloud.signins == 1
    assert cloud.sms_sent == 1


def test_pin_rejected_then_accepted(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    cloud.set_two_factor(True, "412")

    async def scenario() -> None:
        client = make_client(cloud, tmp_path)
        with pytest.raises(PinRequiredError):
            await client.login(DEMO_EMAIL, DEMO_PASSWORD)
        with pytest.raises(PinRejectedError):
            await client.submit_pin("000000")
        await client.submit_pin(DEMO_PIN)
        assert client.session.is_logged_in
        await client.aclose()
    run(scenario())
    assert cloud.signins == 1


def test_wrong_password_rejected(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = make_client(cloud, tmp_path)
        with pytest.raises(CredentialsRejectedError):
            await client.login(DEMO_EMAIL, "wrong-password")
        assert not client.session.is_logged_in
        await client.aclose()
    run(scenario())


def test_pin_without_pending_login(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = make_client(cloud, tmp_path)
        with pytest.raises(LoginRequiredError):
            await client.submit_pin(DEMO_PIN)
        await client.aclose()
    run(scenario())


def test_hardware_id_persisted_once(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    first = TokenStore(tmp_path / "tokens.json").load()
    second = TokenStore(tmp_path / "tokens.json").load()
    assert first.hardware_id == second.hardware_id
    assert len(first.hardware_id) == 36


def test_blocked_hardware_id_is_blocked_error(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    from dataclasses import replace
    store.save(replace(store.load(), hardware_id="Blinkpy"))

    async def scenario() -> None:
        client = make_client(cloud, tmp_path)
        with pytest.raises(BlockedError):
            await client.login(DEMO_EMAIL, DEMO_PASSWORD)
        await client.aclose()
    run(scenario())


def test_login_rate_limited_honours_retry_after(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    cloud.set_login_rate_limit(1, 600)

    async def scenario() -> None:
        client = make_client(cloud, tmp_path)
        await client.login(DEMO_EMAIL, DEMO_PASSWORD)
        with pytest.raises(RateLimitedError) as limited:
            await client.login(DEMO_EMAIL, DEMO_PASSWORD)
        assert limited.value.retry_after > 0
        sent_before = cloud.count_requests(host="oauth")
        with pytest.raises(RateLimitedError):
            await client.login(DEMO_EMAIL, DEMO_PASSWORD)
        # No request left the client while Retry-After ran.
        assert cloud.count_requests(host="oauth") == sent_before
        await client.aclose()
    run(scenario())


# Tokens ---------------------------------------------------------------------

def test_token_store_mode_and_contents(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = await logged_in(cloud, tmp_path)
        await client.aclose()
    run(scenario())
    path = tmp_path / "tokens.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    stored = TokenStore(path).load()
    assert stored.tier == "u011"
    assert stored.account_id == 74521
    assert stored.expires_at is not None
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".tokens.json")]
    assert leftovers == []


def test_refresh_rotates_and_persists(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = await logged_in(cloud, tmp_path)
        old_refresh = client.session.state.refresh_token
        # Pretend the token expires within the refresh margin.
        from dataclasses import replace
        client.session.state = replace(client.session.state, expires_at=0.0)
        await client.get_homescreen()
        new_state = TokenStore(tmp_path / "tokens.json").load()
        assert new_state.refresh_token != old_refresh
        assert new_state.refresh_token == client.session.state.refresh_token
        assert stat.S_IMODE(os.stat(tmp_path / "tokens.json").st_mode) == 0o600
        await client.aclose()
    run(scenario())
    assert cloud.refreshes == 1


def test_concurrent_callers_refresh_once(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = await logged_in(cloud, tmp_path)
        from dataclasses import replace
        client.session.state = replace(client.session.state, expires_at=0.0)
        await asyncio.gather(*(client.get_homescreen() for _ in range(5)))
        await client.aclose()
    run(scenario())
    assert cloud.refreshes == 1


def test_401_refreshes_once_and_retries(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = await logged_in(cloud, tmp_path)
        cloud.expire_tokens()
        homescreen = await client.get_homescreen()
        assert homescreen.networks
        await client.aclose()
    run(scenario())
    assert cloud.refreshes == 1


def test_second_401_needs_login_without_signin(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = await logged_in(cloud, tmp_path)
        signins_before = cloud.signins
        cloud.inject_fault(r"/homescreen", "status", count=2, status=401,
                           body={"message": "Unauthorized Access", "code": 101})
        with pytest.raises(LoginRequiredError):
            await client.get_homescreen()
        assert cloud.signins == signins_before
        assert cloud.count_requests(path_regex=r"/oauth/v2/signin") == signins_before * 2
        await client.aclose()
    run(scenario())
    assert cloud.refreshes == 1


def test_revoked_refresh_token_needs_login(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = await logged_in(cloud, tmp_path)
        cloud.expire_tokens()
        cloud.revoke_refresh_tokens()
        with pytest.raises(LoginRequiredError):
            await client.get_homescreen()
        assert not TokenStore(tmp_path / "tokens.json").load().has_tokens
        await client.aclose()
    run(scenario())
    assert cloud.signins == 1


def test_failed_refresh_backs_off(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = await logged_in(cloud, tmp_path, refresh_backoff_seconds=(30.0, 60.0))
        cloud.expire_tokens()
        cloud.inject_fault(r"/oauth/token$", "status", count=1, status=503, body={"error": "x"})
        with pytest.raises(TransientError):
            await client.get_homescreen()
        token_requests = cloud.count_requests(path_regex=r"/oauth/token$")
        # Every caller inside the backoff gets the error without a new refresh request.
        for _ in range(3):
            with pytest.raises(TransientError, match="next try"):
                await client.arm(2101)
        assert cloud.count_requests(path_regex=r"/oauth/token$") == token_requests
        await client.aclose()
    run(scenario())
    assert cloud.signins == 1


def test_stored_session_survives_restart(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    async def scenario() -> None:
        first = await logged_in(cloud, tmp_path)
        await first.aclose()
        second = make_client(cloud, tmp_path)
        assert second.session.is_logged_in
        await second.get_homescreen()
        await second.aclose()
    run(scenario())
    assert cloud.signins == 1


# Errors ---------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "options", "expected"), [
    ("status", {"status": 503, "body": {"message": "down"}}, TransientError),
    ("non_json", {}, TransientError),
    ("truncated_json", {}, TransientError),
    ("delay", {"delay": 2.5}, TransientError),
    ("rate_limit", {"retry_after": 30}, RateLimitedError),
    ("blocked", {}, BlockedError),
    ("app_update", {}, ClientOutdatedError),
    ("app_update_426", {}, ClientOutdatedError),
    ("status", {"status": 404, "body": {"message": "Not found"}}, NotFoundError),
])
def test_homescreen_fault_kinds(cloud: LocalBlinkCloud, tmp_path: Path, kind: str,
                                options: dict[str, Any], expected: type[Exception]) -> None:
    async def scenario() -> None:
        client = await logged_in(cloud, tmp_path)
        cloud.inject_fault(r"/homescreen$", kind, count=1, **options)
        with pytest.raises(expected):
            await client.get_homescreen()
        await client.aclose()
    run(scenario())


def test_retry_after_blocks_every_request(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = await logged_in(cloud, tmp_path)
        cloud.inject_fault(r"/homescreen$", "rate_limit", count=1, retry_after=120)
        with pytest.raises(RateLimitedError):
            await client.get_homescreen()
        assert 100 < client.rate_limited_for <= 120
        before = len(cloud.requests)
        with pytest.raises(RateLimitedError):
            await client.arm(2101)
        with pytest.raises(RateLimitedError):
            await client.get_media_changed(datetime.now(timezone.utc))
        assert len(cloud.requests) == before
        await client.aclose()
    run(scenario())


def test_homescreen_without_networks_is_error(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = await logged_in(cloud, tmp_path)
        cloud.inject_fault(r"/homescreen$", "status", count=1, status=200,
                           body={"cameras": [], "owls": []})
        with pytest.raises(InvalidResponseError):
            await client.get_homescreen()
        cloud.inject_fault(r"/homescreen$", "status", count=1, status=200, body={"networks": []})
        with pytest.raises(InvalidResponseError):
            await client.get_homescreen()
        await client.aclose()
    run(scenario())


def test_legacy_login_needs_app_update(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = make_client(cloud, tmp_path)
        client.session.state = client.session.state.__class__(
            hardware_id=client.session.state.hardware_id, tier="u011", account_id=74521)
        with pytest.raises(ClientOutdatedError):
            await client.legacy_login(DEMO_EMAIL, DEMO_PASSWORD)
        await client.aclose()
    run(scenario())


def test_legacy_pin_verify_needs_app_update(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = await logged_in(cloud, tmp_path)
        await client.get_homescreen()  # learns the client id
        with pytest.raises(ClientOutdatedError):
            await client.legacy_verify_pin("123456")
        await client.aclose()
    run(scenario())


# Commands -------------------------------------------------------------------

def test_arm_changes_state_only_at_completion(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = await logged_in(cloud, tmp_path)
        command = await client.arm(2101)
        assert command is not None
        before = await client.get_homescreen()
        assert before.network(2101).armed is False
        status = await client.wait_for_command(command)
        assert status.complete and status.status_code == 908
        after = await client.get_homescreen()
        assert after.network(2101).armed is True
        disarm = await client.disarm(2101)
        await client.wait_for_command(disarm)
        assert (await client.get_homescreen()).network(2101).armed is False
        await client.aclose()
    run(scenario())


def test_overlapping_command_is_busy(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = await logged_in(cloud, tmp_path)
        first = await client.arm(2101)
        with pytest.raises(BusyError) as busy:
            await client.request_thumbnail(FRONT_YARD)
        assert busy.value.code == 307
        # Another network is not blocked.
        other = await client.arm(2102)
        await client.wait_for_command(first)
        await client.wait_for_command(other)
        await client.aclose()
    run(scenario())


def test_arm_without_enabled_camera_is_304(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    for camera_id in (4101, 4102, 4103, 5101):
        cloud.update_camera(camera_id, motion_enabled=False)

    async def scenario() -> None:
        client = await logged_in(cloud, tmp_path)
        with pytest.raises(BlinkApiError) as rejected:
            await client.arm(2101)
        assert rejected.value.code == 304
        await client.aclose()
    run(scenario())


def test_command_failure_and_timeout(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = await logged_in(cloud, tmp_path)
        cloud.fail_next_command("fail", status_code=999, message="Camera did not respond")
        command = await client.request_thumbnail(FRONT_YARD)
        with pytest.raises(CommandFailedError) as failed:
            await client.wait_for_command(command)
        assert failed.value.code == 999
        cloud.fail_next_command("never_complete")
        stuck = await client.arm(2102)
        with pytest.raises(CommandTimeoutError) as timed_out:
            await client.wait_for_command(stuck, timeout=0.5)
        assert timed_out.value.command_id == stuck.id
        await client.aclose()
    run(scenario())


@pytest.mark.parametrize("device", [FRONT_YARD, KITCHEN_MINI, CABIN_MINI, CABIN_DOORBELL],
                         ids=["camera", "mini-on-sync-module", "mini-alone", "doorbell"])
def test_camera_commands_per_family(cloud: LocalBlinkCloud, tmp_path: Path,
                                    device: DeviceRef) -> None:
    async def scenario() -> None:
        client = await logged_in(cloud, tmp_path)
        before = (await client.get_homescreen()).camera(device.camera_id)
        assert before is not None

        command = await client.set_motion_detection(device, not before.motion_enabled)
        await client.wait_for_command(command)
        toggled = (await client.get_homescreen()).camera(device.camera_id)
        assert toggled.motion_enabled is (not before.motion_enabled)

        command = await client.request_thumbnail(device)
        await client.wait_for_command(command)
        after = (await client.get_homescreen()).camera(device.camera_id)
        assert after.thumbnail is not None
        assert after.thumbnail.version != before.thumbnail.version

        if not toggled.motion_enabled:
            command = await client.set_motion_detection(device, True)
            await client.wait_for_command(command)
        command = await client.record_clip(device)
        await client.wait_for_command(command)
        command = await client.snooze_camera(device, 240)
        await client.wait_for_command(command)
        snoozed = (await client.get_homescreen()).camera(device.camera_id)
        # Doorbell homescreen entries carry no snooze fields at all.
        expected = None if device.family is DeviceFamily.DOORBELL else True
        assert snoozed.snoozed is expected
        await client.aclose()
    run(scenario())


def test_mini_id_on_camera_path_not_found(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = await logged_in(cloud, tmp_path)
        wrong = DeviceRef(DeviceFamily.CAMERA, 2101, 5101)
        with pytest.raises(NotFoundError):
            await client.request_thumbnail(wrong)
        await client.aclose()
    run(scenario())


def test_snooze_refused_with_motion_off(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = await logged_in(cloud, tmp_path)
        with pytest.raises(BlinkApiError) as refused:
            await client.snooze_camera(BACK_GARDEN, 240)
        assert refused.value.code == 2805
        await client.aclose()
    run(scenario())


def test_network_snooze(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = await logged_in(cloud, tmp_path)
        assert await client.get_network_snooze(2101) is None
        command = await client.snooze_network(2101, 60)
        if command is not None:
            await client.wait_for_command(command)
        until = await client.get_network_snooze(2101)
        assert until is not None
        assert until > datetime.now(timezone.utc) + timedelta(minutes=55)
        await client.aclose()
    run(scenario())


# Reads and other endpoints --------------------------------------------------

def test_camera_config_and_signals(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = await logged_in(cloud, tmp_path)
        config = await client.get_camera_config(FRONT_YARD, model="xt2")
        assert config.camera_id == 4101
        assert config.thumbnail is not None and config.thumbnail.timestamp is not None
        assert "ts=" in config.thumbnail.path
        signals = await client.get_camera_signals(FRONT_YARD)
        assert signals.wifi_bars is not None
        mini_config = await client.get_camera_config(KITCHEN_MINI)
        assert mini_config.camera_id == 5101
        info = await client.get_camera_info(FRONT_YARD)
        assert isinstance(info, dict)
        await client.aclose()
    run(scenario())


def test_thumbnail_and_clip_downloads(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = await logged_in(cloud, tmp_path)
        homescreen = await client.get_homescreen()
        for camera in homescreen.cameras:
            assert camera.thumbnail is not None, camera.name
            image = await client.download(camera.thumbnail.path)
            assert image[:2] == b"\xff\xd8", camera.name
            assert image[-2:] == b"\xff\xd9", camera.name
        media_id = cloud.trigger_motion(4101)
        events = await client.get_media_changed(datetime.now(timezone.utc) - timedelta(minutes=5))
        event = next(e for e in events if e.id == media_id)
        clip = await client.download(event.clip_path)
        assert clip[4:8] == b"ftyp"
        thumb = await client.download(event.thumbnail_path if event.thumbnail_path.endswith(".jpg")
                                      else event.thumbnail_path + ".jpg")
        assert thumb[:2] == b"\xff\xd8"
        await client.aclose()
    run(scenario())


def test_media_changed_paginates(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = await logged_in(cloud, tmp_path)
        since = datetime.now(timezone.utc) - timedelta(minutes=1)
        created = {cloud.trigger_motion(4101) for _ in range(30)}
        events = await client.get_media_changed(since)
        assert created <= {event.id for event in events}
        pages = cloud.count_requests(path_regex=r"/media/changed")
        assert pages == 2  # 25, then 5: a page shorter than the limit of 25 ends the list
        await client.aclose()
    run(scenario())


def test_media_late_clip_and_deleted(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = await logged_in(cloud, tmp_path)
        since = datetime.now(timezone.utc) - timedelta(seconds=30)
        late = cloud.trigger_motion(4102, created_at=datetime.now(timezone.utc) - timedelta(hours=1))
        events = await client.get_media_changed(since)
        assert late in {event.id for event in events}
        await client.delete_media([late])
        events = await client.get_media_changed(since)
        assert next(e for e in events if e.id == late).deleted
        await client.aclose()
    run(scenario())


def test_notification_flags_roundtrip(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = await logged_in(cloud, tmp_path)
        flags = await client.get_notification_flags()
        assert "motion" in flags
        await client.set_notification_flags({"motion": not flags["motion"]})
        assert (await client.get_notification_flags())["motion"] is (not flags["motion"])
        await client.aclose()
    run(scenario())


def test_schedules_roundtrip(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = await logged_in(cloud, tmp_path)
        schedules = await client.list_schedules(2101)
        assert schedules, "the demo account has a schedule"
        schedule_id = int(schedules[0]["id"])
        await client.enable_schedule(2101, schedule_id)
        assert (await client.list_schedules(2101))[0]["status"] == "enabled"
        await client.disable_schedule(2101, schedule_id)
        assert (await client.list_schedules(2101))[0]["status"] == "disabled"
        updated = dict(schedules[0], name="Weekdays")
        await client.update_schedule(2101, schedule_id, updated)
        assert (await client.list_schedules(2101))[0]["name"] == "Weekdays"
        await client.aclose()
    run(scenario())


def test_account_endpoints(cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    async def scenario() -> None:
        client = await logged_in(cloud, tmp_path)
        await client.get_homescreen()  # learns the client id from the response headers
        assert client.session.state.client_id is not None
        assert await client.get_client_options() is not None
        assert await client.set_client_options({"notification_key": "abc"}) is not None
        assert isinstance(await client.get_account_options(), dict)
        assert isinstance(await client.get_user(), dict)
        version = await client.get_app_version()
        assert version["code"] == 103
        assert "regions" in await client.get_regions("US")
        assert isinstance(await client.list_networks(), dict)
        assert isinstance(await client.get_network(2101), dict)
        assert isinstance(await client.update_network(2101), dict)
        assert isinstance(await client.get_sync_module(2101), dict)
        assert isinstance(await client.get_camera_usage(), dict)
        assert await client.set_video_options({"auto_delete_days": 7}) is not None
        assert await client.upload_app_logs({"message": "test"}) is not None
        assert await client.get_health() is not None
        liveview = await client.start_liveview(FRONT_YARD)
        assert "server" in liveview
        command = await client.update_camera_config(FRONT_YARD, {"illuminator_enable": 2})
        if command is not None:
            await client.wait_for_command(command)
        done = await client.arm(2102)
        await client.wait_for_command(done)
        assert await client.mark_command_done(done) is not None
        await client.logout()
        assert not client.session.state.has_tokens
        await client.aclose()
    run(scenario())
