"""Homescreen, thumbnail, media and command parsing on the shapes the real API sends."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import pytest

from blink2mqtt.blink.errors import InvalidResponseError
from blink2mqtt.blink.models import DeviceFamily
from blink2mqtt.blink.parsing import (
    parse_camera_config,
    parse_command,
    parse_command_status,
    parse_homescreen,
    parse_media_page,
    parse_thumbnail,
    parse_timestamp,
)

ACCOUNT = 1234


def homescreen(**sections: object) -> dict[str, object]:
    body: dict[str, object] = {"networks": [], "cameras": [], "sync_modules": []}
    body.update(sections)
    return body


def test_requires_networks_and_cameras() -> None:
    with pytest.raises(InvalidResponseError, match="networks"):
        parse_homescreen({"cameras": []}, account_id=ACCOUNT)
    with pytest.raises(InvalidResponseError, match="cameras"):
        parse_homescreen({"networks": []}, account_id=ACCOUNT)
    with pytest.raises(InvalidResponseError):
        parse_homescreen(["not", "an", "object"], account_id=ACCOUNT)


def test_empty_account_is_valid() -> None:
    parsed = parse_homescreen(homescreen(), account_id=ACCOUNT)
    assert parsed.networks == ()
    assert parsed.cameras == ()


def test_ids_as_int_or_string() -> None:
    parsed = parse_homescreen(homescreen(
        networks=[{"id": "5678", "name": "Home", "armed": True}],
        cameras=[{"id": "11", "network_id": 5678, "name": "A"},
                 {"id": 12, "network_id": "5678", "name": "B"}],
    ), account_id=ACCOUNT)
    assert parsed.networks[0].id == 5678
    assert [camera.id for camera in parsed.cameras] == [11, 12]
    assert all(camera.network_id == 5678 for camera in parsed.cameras)


def test_missing_keys_and_nulls_become_none() -> None:
    parsed = parse_homescreen(homescreen(
        networks=[{"id": 1}],
        cameras=[{"id": 2, "network_id": 1, "enabled": None, "signals": None,
                  "battery": None, "thumbnail": None}],
    ), account_id=ACCOUNT)
    network = parsed.networks[0]
    camera = parsed.cameras[0]
    assert network.name is None
    assert network.armed is None
    assert network.sync_module is None
    assert camera.motion_enabled is None
    assert camera.temperature_f is None
    assert camera.temperature_c is None
    assert camera.battery_state is None
    assert camera.battery_level is None
    assert camera.thumbnail is None
    assert camera.online is None


@pytest.mark.parametrize(("fahrenheit", "celsius"), [(32, 0.0), (0, -17.8), (-4, -20.0),
                                                     (68, 20.0)])
def test_zero_and_negative_temperatures_are_real(fahrenheit: int, celsius: float) -> None:
    parsed = parse_homescreen(homescreen(
        cameras=[{"id": 2, "network_id": 1, "signals": {"temp": fahrenheit}}],
    ), account_id=ACCOUNT)
    assert parsed.cameras[0].temperature_f == fahrenheit
    assert parsed.cameras[0].temperature_c == celsius


def test_entry_without_id_skipped_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        parsed = parse_homescreen(homescreen(
            networks=[{"name": "no id"}, {"id": 1}],
            cameras=[{"name": "no id either", "network_id": 1}, {"id": 2, "network_id": 1}],
            owls=[{"id": None}],
        ), account_id=ACCOUNT)
    assert [n.id for n in parsed.networks] == [1]
    assert [c.id for c in parsed.cameras] == [2]
    assert parsed.skipped_entries == 3
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "3" in warnings[0].getMessage()


def test_families_with_and_without_sync_module() -> None:
    parsed = parse_homescreen(homescreen(
        networks=[{"id": 1, "name": "Home"}, {"id": 2, "name": "Cabin"}],
        sync_modules=[{"id": 9, "network_id": 1, "status": "online", "serial": "S1"}],
        cameras=[{"id": 10, "network_id": 1, "type": "xt2"}],
        owls=[{"id": 20, "network_id": 1, "type": "owl"}, {"id": 21, "network_id": 2}],
        doorbells=[{"id": 30, "network_id": 2, "serial": None}],
    ), account_id=ACCOUNT)
    families = {camera.id: camera.family for camera in parsed.cameras}
    assert families == {10: DeviceFamily.CAMERA, 20: DeviceFamily.MINI, 21: DeviceFamily.MINI,
                        30: DeviceFamily.DOORBELL}
    assert parsed.network(1).sync_module.id == 9
    assert parsed.network(1).sync_module.online is True
    assert parsed.network(2).sync_module is None
    assert parsed.camera(30).serial is None


def test_doorbells_and_owls_keys_may_be_missing() -> None:
    parsed = parse_homescreen({"networks": [], "cameras": [], "owls": None},
                              account_id=ACCOUNT)
    assert parsed.cameras == ()


def test_thumbnail_legacy_path_gets_jpg() -> None:
    thumbnail = parse_thumbnail("/media/production/account/1/network/2/camera/3/clip_abc",
                                account_id=1, network_id=2, camera_id=3, model="xt")
    assert thumbnail.path == "/media/production/account/1/network/2/camera/3/clip_abc.jpg"
    assert thumbnail.timestamp is None


def test_thumbnail_full_v3_url_kept() -> None:
    url = "/api/v3/media/accounts/1/networks/2/xt/3/thumbnail/thumbnail.jpg?ts=1689462625&ext="
    thumbnail = parse_thumbnail(url, account_id=1, network_id=2, camera_id=3, model="xt")
    assert thumbnail.path == url
    assert thumbnail.timestamp == 1689462625


@pytest.mark.parametrize("epoch", ["1705786681", 1705786681])
def test_thumbnail_bare_epoch_builds_url(epoch: object) -> None:
    thumbnail = parse_thumbnail(epoch, account_id=1, network_id=2, camera_id=3, model="catalina")
    assert thumbnail.path == ("/api/v3/media/accounts/1/networks/2/catalina/3/thumbnail/"
                              "thumbnail.jpg?ts=1705786681&ext=")
    assert thumbnail.timestamp == 1705786681


@pytest.mark.parametrize("value", [None, "", False, {"unexpected": 1}])
def test_thumbnail_absent(value: object) -> None:
    assert parse_thumbnail(value, account_id=1, network_id=2, camera_id=3, model=None) is None


def test_thumbnail_version_changes_with_ts() -> None:
    first = parse_thumbnail(1, account_id=1, network_id=2, camera_id=3, model="xt")
    second = parse_thumbnail(2, account_id=1, network_id=2, camera_id=3, model="xt")
    assert first.version != second.version


@pytest.mark.parametrize("text", ["2020-08-06T01:30:59+00:00", "2020-08-06T01:30:59+0000",
                                  "2020-08-06T01:30:59Z", "2020-08-06 01:30:59 +0000",
                                  "2020-08-06T03:30:59+02:00"])
def test_timestamps_parse_to_utc(text: str) -> None:
    assert parse_timestamp(text) == datetime(2020, 8, 6, 1, 30, 59, tzinfo=timezone.utc)


@pytest.mark.parametrize("text", [None, "", "yesterday", 12345])
def test_bad_timestamps_are_none(text: object) -> None:
    assert parse_timestamp(text) is None


def test_media_page_parsing() -> None:
    events = parse_media_page({"media": [
        {"id": "77", "created_at": "2020-08-06T01:30:59+00:00", "device": "owl",
         "device_id": 5, "network_id": 1, "deleted": True, "media": "/clip.mp4"},
        {"id": None, "created_at": "2020-08-06T01:30:59+00:00"},
        {"id": 78},
    ]})
    assert [event.id for event in events] == [77]
    assert events[0].family is DeviceFamily.MINI
    assert events[0].deleted is True
    assert parse_media_page({"media": []}) == []
    assert parse_media_page({"limit": 25}) == []
    with pytest.raises(InvalidResponseError):
        parse_media_page({"media": "nope"})


def test_command_and_status_parsing() -> None:
    command = parse_command({"id": "54321", "network_id": "12345", "command": "arm"},
                            default_network_id=1)
    assert (command.id, command.network_id, command.name) == (54321, 12345, "arm")
    assert parse_command({"message": "done"}, default_network_id=1) is None
    status = parse_command_status({"complete": True, "status_code": 908,
                                   "status_msg": "Command succeeded"})
    assert status.complete and status.status_code == 908
    with pytest.raises(InvalidResponseError):
        parse_command_status(None)


def test_camera_config_wrapped_and_flat() -> None:
    wrapped = parse_camera_config(
        {"camera": [{"id": 3, "thumbnail": "1705786681", "temperature": 47,
                     "wifi_strength": -63, "battery_voltage": 154}]},
        account_id=1, network_id=2, camera_id=3, model="xt")
    assert wrapped.thumbnail.timestamp == 1705786681
    assert wrapped.temperature_f == 47
    assert wrapped.wifi_dbm == -63
    assert wrapped.battery_voltage == 1.54
    flat = parse_camera_config({"id": 3, "enabled": True}, account_id=1, network_id=2,
                               camera_id=3, model="owl")
    assert flat.motion_enabled is True
