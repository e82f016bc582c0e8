"""Motion events, images, snapshots, clips and snooze, end to end."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import pytest

from blink2mqtt.blink.models import DeviceFamily, MediaEvent
from blink2mqtt.bridge.clips import ClipArchive, RetentionPolicy, clip_stem
from blink2mqtt.bridge.motion import MediaCursorStore, MediaTracker
from blink2mqtt.simulator import LocalBlinkCloud

from conftest import BridgeThread, MqttRecorder
from test_bridge import BASE, FRONT_YARD, final_response, wait_ready

StartBridge = Callable[..., BridgeThread]
DRIVEWAY = f"{BASE}/camera/4102"


def events(recorder: MqttRecorder, camera_topic: str, event_type: str,
           after: int = 0) -> list[dict[str, Any]]:
    return [m.json() for m in recorder.messages[after:]
            if m.topic == f"{camera_topic}/event" and m.json()["event_type"] == event_type]


def wait_media_read(cloud: LocalBlinkCloud, count: int = 1, timeout: float = 10.0) -> None:
    """Wait until the bridge has read the media list ``count`` more times."""
    start = cloud.count_requests(path_regex=r"/media/changed")
    deadline = time.monotonic() + timeout
    while cloud.count_requests(path_regex=r"/media/changed") < start + count:
        assert time.monotonic() < deadline, "the bridge stopped reading media/changed"
        time.sleep(0.05)


# Motion ------------------------------------------------------------------------

def test_history_never_fires_on_first_start(start_bridge: StartBridge, recorder: MqttRecorder,
                                            cloud: LocalBlinkCloud) -> None:
    start_bridge()
    wait_ready(recorder)
    wait_media_read(cloud, 3)
    assert [m for m in recorder.messages if m.topic.endswith("/event")] == []
    assert all(m.json()["motion"] is False for m in recorder.messages
               if m.topic.startswith(f"{BASE}/camera/") and m.topic.count("/") == 2)


def test_one_event_per_clip_and_hold_time(start_bridge: StartBridge, recorder: MqttRecorder,
                                          cloud: LocalBlinkCloud) -> None:
    start_bridge()
    wait_ready(recorder)
    wait_media_read(cloud)
    mark = recorder.mark()
    first = cloud.trigger_motion(4101)
    time.sleep(0.3)
    second = cloud.trigger_motion(4101)  # two clips seconds apart
    late = cloud.trigger_motion(4102, created_at=datetime.now(timezone.utc) - timedelta(minutes=20))

    recorder.wait_for(lambda m: m.topic == f"{FRONT_YARD}/event" and m.json()["media_id"] == second,
                      after=mark, description="second motion event")
    recorder.wait_for(lambda m: m.topic == f"{DRIVEWAY}/event" and m.json()["media_id"] == late,
                      after=mark, description="late clip event")
    on = recorder.wait_topic(FRONT_YARD, after=mark, where=lambda p: p["motion"] is True).json()
    assert on["last_media_id"] in (first, second)
    assert on["last_motion"] is not None
    off = recorder.wait_topic(FRONT_YARD, after=mark, where=lambda p: p["motion"] is False,
                              timeout=5).json()
    assert off["last_motion"] is not None

    wait_media_read(cloud, 3)  # later polls see the same clips again and must stay quiet
    motion = events(recorder, FRONT_YARD, "motion", mark)
    assert sorted(e["media_id"] for e in motion) == sorted([first, second])
    assert [e["media_id"] for e in events(recorder, DRIVEWAY, "motion", mark)] == [late]
    ready = events(recorder, FRONT_YARD, "clip_ready", mark)
    assert sorted(e["media_id"] for e in ready) == sorted([first, second])
    assert all(e["clip"] for e in motion)


def test_no_replay_after_restart(cloud: LocalBlinkCloud, broker: Any, tmp_path: Path,
                                 recorder: MqttRecorder) -> None:
    from conftest import bridge_config

    config = bridge_config(cloud, broker, tmp_path)
    first = BridgeThread(config).start()
    wait_ready(recorder)
    wait_media_read(cloud)
    media_id = cloud.trigger_motion(4101)
    recorder.wait_for(lambda m: m.topic == f"{FRONT_YARD}/event", description="motion event")
    first.stop()

    mark = recorder.mark()
    second = BridgeThread(config).start()
    try:
        recorder.wait_for(lambda m: m.topic == f"{BASE}/bridge/state" and m.payload == b"online",
                          after=mark, description="bridge online again")
        wait_media_read(cloud, 3)
        replayed = [m.json()["media_id"] for m in recorder.messages[mark:]
                    if m.topic.endswith("/event")]
        assert media_id not in replayed
        assert replayed == []
    finally:
        second.stop()


def test_deleted_entries_ignored(start_bridge: StartBridge, recorder: MqttRecorder,
                                 cloud: LocalBlinkCloud) -> None:
    start_bridge()
    wait_ready(recorder)
    wait_media_read(cloud)
    mark = recorder.mark()
    media_id = cloud.trigger_motion(4103)
    recorder.wait_for(lambda m: m.topic == f"{BASE}/camera/4103/event", after=mark,
                      description="motion event")
    # Deleting the clip makes Blink list it again with deleted=true; that is no new motion.
    cloud.delete_media([media_id])
    wait_media_read(cloud, 2)
    assert len(events(recorder, f"{BASE}/camera/4103", "motion", mark)) == 1


def test_tracker_unit_late_and_overlap(tmp_path: Path) -> None:
    store = MediaCursorStore(tmp_path / "media.json")
    tracker = MediaTracker(store, overlap=timedelta(minutes=5))
    now = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)

    def event(media_id: int, created: datetime, deleted: bool = False) -> MediaEvent:
        return MediaEvent(id=media_id, created_at=created, updated_at=None, deleted=deleted,
                          family=DeviceFamily.CAMERA, camera_id=1, camera_name="A", network_id=1,
                          media_type="video", source="pir", clip_path="/c.mp4",
                          thumbnail_path="/t")

    assert tracker.since(now) == now - timedelta(minutes=5)
    assert tracker.accept([event(1, now - timedelta(hours=3))], fetched_at=now) == []
    later = now + timedelta(minutes=1)
    assert tracker.since(later) == now - timedelta(minutes=5)
    fresh = tracker.accept([event(1, now), event(2, now - timedelta(minutes=30)),
                            event(3, now, deleted=True)], fetched_at=later)
    assert [e.id for e in fresh] == [2]
    reloaded = MediaTracker(store, overlap=timedelta(minutes=5))
    assert reloaded.accept([event(2, now)], fetched_at=later + timedelta(minutes=1)) == []
    assert oct(os.stat(tmp_path / "media.json").st_mode & 0o777) == "0o600"


# Images and snapshots ------------------------------------------------------------

def test_images_published_once_at_start(start_bridge: StartBridge, recorder: MqttRecorder,
                                        cloud: LocalBlinkCloud) -> None:
    start_bridge()
    wait_ready(recorder)
    for camera_id in (4101, 4102, 4103, 5101, 5102, 6101):
        image = recorder.wait_topic(f"{BASE}/camera/{camera_id}/image").payload
        assert image[:3] == b"\xff\xd8\xff"
    wait_media_read(cloud, 3)
    assert len(recorder.on_topic(f"{FRONT_YARD}/image")) == 1
    downloads = cloud.count_requests(path_regex=r"thumbnail|/media/production/|/owl/")
    assert downloads == 6


def test_snapshot_changes_image(start_bridge: StartBridge, recorder: MqttRecorder) -> None:
    start_bridge()
    wait_ready(recorder)
    old = recorder.wait_topic(f"{FRONT_YARD}/image").payload
    mark = recorder.mark()
    recorder.publish(f"{FRONT_YARD}/snapshot", {"transaction": "snap"})
    response = final_response(recorder, FRONT_YARD, mark)
    assert response["status"] == "ok", response
    assert response["transaction"] == "snap"
    assert response["image_bytes"] > 0
    new = recorder.wait_topic(f"{FRONT_YARD}/image", after=mark).payload
    assert new != old
    state = recorder.latest(FRONT_YARD).json()
    assert state["thumbnail_time"] == response["thumbnail_time"]


def test_snapshot_that_never_changes(start_bridge: StartBridge, recorder: MqttRecorder,
                                     cloud: LocalBlinkCloud) -> None:
    cloud.set_thumbnail_frozen(4101, True)
    start_bridge(media={"snapshot_wait": 0.6})
    wait_ready(recorder)
    recorder.wait_topic(f"{FRONT_YARD}/image")
    mark = recorder.mark()
    recorder.publish(f"{FRONT_YARD}/snapshot", "")
    response = final_response(recorder, FRONT_YARD, mark)
    assert response["status"] == "error"
    assert response["reason"] == "unchanged"
    assert recorder.on_topic(f"{FRONT_YARD}/image")[mark:] == []


def test_snapshot_on_offline_camera(start_bridge: StartBridge, recorder: MqttRecorder,
                                    cloud: LocalBlinkCloud) -> None:
    cloud.update_camera(4102, online=False)
    start_bridge()
    wait_ready(recorder)
    mark = recorder.mark()
    recorder.publish(f"{DRIVEWAY}/snapshot", "")
    response = final_response(recorder, DRIVEWAY, mark, timeout=3)
    assert response["reason"] == "offline"
    assert cloud.count_requests(path_regex=r"/camera/4102/thumbnail$") == 0


def test_snapshot_rate_limit_and_coalescing(start_bridge: StartBridge, recorder: MqttRecorder,
                                            cloud: LocalBlinkCloud) -> None:
    start_bridge(media={"snapshot_min_interval": 30})
    wait_ready(recorder)
    mark = recorder.mark()
    for transaction in ("a", "b", "c"):
        recorder.publish(f"{FRONT_YARD}/snapshot", {"transaction": transaction})
    finals = {}
    deadline = time.monotonic() + 10
    while len(finals) < 3 and time.monotonic() < deadline:
        for message in recorder.messages[mark:]:
            if message.topic == f"{FRONT_YARD}/response":
                payload = message.json()
                if payload["status"] in ("ok", "error"):
                    finals[payload["transaction"]] = payload
        time.sleep(0.05)
    assert {key: value["status"] for key, value in finals.items()} == \
        {"a": "ok", "b": "ok", "c": "ok"}
    assert finals["b"]["coalesced"] is True
    assert cloud.count_requests(path_regex=r"/camera/4101/thumbnail$") == 1

    mark = recorder.mark()
    recorder.publish(f"{FRONT_YARD}/snapshot", {"transaction": "d"})
    limited = final_response(recorder, FRONT_YARD, mark, timeout=3)
    assert limited["reason"] == "rate_limited"
    assert limited["retry_after"] > 0
    assert cloud.count_requests(path_regex=r"/camera/4101/thumbnail$") == 1


@pytest.mark.parametrize("kind", ["oversize", "not_image", "empty"])
def test_bad_image_bodies_not_published(start_bridge: StartBridge, recorder: MqttRecorder,
                                        cloud: LocalBlinkCloud, kind: str,
                                        caplog: pytest.LogCaptureFixture) -> None:
    start_bridge()
    wait_ready(recorder)
    good = recorder.wait_topic(f"{FRONT_YARD}/image").payload
    cloud.set_thumbnail_payload(4101, kind)
    mark = recorder.mark()
    recorder.publish(f"{FRONT_YARD}/snapshot", "")
    response = final_response(recorder, FRONT_YARD, mark)
    assert response["status"] == "error"
    assert recorder.on_topic(f"{FRONT_YARD}/image")[-1].payload == good
    wait_media_read(cloud, 2)
    assert len(recorder.on_topic(f"{FRONT_YARD}/image")) == 1
    warnings = [r for r in caplog.records if "Kept the previous image of camera 4101" in r.getMessage()]
    assert len(warnings) == 1


# Clips -----------------------------------------------------------------------------

def test_recorded_clip_produces_clip_ready(start_bridge: StartBridge, recorder: MqttRecorder,
                                           cloud: LocalBlinkCloud) -> None:
    start_bridge()
    wait_ready(recorder)
    wait_media_read(cloud)
    mark = recorder.mark()
    recorder.publish(f"{FRONT_YARD}/record", {"transaction": "rec"})
    response = final_response(recorder, FRONT_YARD, mark)
    assert response["status"] == "ok"
    ready = recorder.wait_for(lambda m: m.topic == f"{FRONT_YARD}/event"
                              and m.json()["event_type"] == "clip_ready", after=mark,
                              description="clip_ready").json()
    assert ready["recorded"] is True
    assert ready["clip"].endswith(".mp4")
    if response.get("media_id") is not None:
        assert ready["media_id"] == response["media_id"]
    assert events(recorder, FRONT_YARD, "motion", mark) == []


def test_clip_download_and_event(start_bridge: StartBridge, recorder: MqttRecorder,
                                 cloud: LocalBlinkCloud, tmp_path: Path) -> None:
    archive = tmp_path / "clips"
    start_bridge(media={"download_dir": str(archive), "download_spacing": 0.1})
    wait_ready(recorder)
    wait_media_read(cloud)
    mark = recorder.mark()
    media_id = cloud.trigger_motion(5101)
    ready = recorder.wait_for(lambda m: m.topic == f"{BASE}/camera/5101/event"
                              and m.json()["event_type"] == "clip_ready", after=mark,
                              description="clip_ready with file").json()
    path = Path(ready["file"])
    assert path.is_file()
    assert path.stat().st_size == ready["size"] > 0
    assert path.read_bytes()[4:8] == b"ftyp"
    assert path.parent.name == "kitchen_5101"
    assert str(media_id) in path.name
    assert Path(ready["thumbnail_file"]).read_bytes()[:2] == b"\xff\xd8"
    assert not [p for p in archive.rglob(".*") if p.is_file()]


def test_retention_by_age_and_size(tmp_path: Path) -> None:
    archive = ClipArchive(client=None, root=tmp_path, spacing=0,  # type: ignore[arg-type]
                          retention=RetentionPolicy(max_age_seconds=3600, max_total_bytes=250))
    now = time.time()
    old = tmp_path / "cam_1" / "old.mp4"
    old.parent.mkdir()
    old.write_bytes(b"x" * 10)
    os.utime(old, (now - 7200, now - 7200))
    files = []
    for index in range(4):
        path = tmp_path / "cam_1" / f"clip{index}.mp4"
        path.write_bytes(b"y" * 100)
        os.utime(path, (now - 100 + index, now - 100 + index))
        files.append(path)
    removed = archive.enforce_retention(now=now)
    assert old in removed
    assert files[0] in removed
    assert files[1] in removed
    assert files[2].exists()
    assert files[3].exists()


def test_clip_names_are_stable() -> None:
    event = MediaEvent(id=99, created_at=datetime(2026, 5, 1, 8, 30, 5, tzinfo=timezone.utc),
                       updated_at=None, deleted=False, family=DeviceFamily.CAMERA, camera_id=7,
                       camera_name="Front Door!", network_id=1, media_type="video",
                       source="pir", clip_path="/c.mp4", thumbnail_path=None)
    assert clip_stem(event, "Front Door!") == "front-door_7/2026-05-01T08-30-05Z_99"


# Snooze ----------------------------------------------------------------------------

def test_snooze_accepted(start_bridge: StartBridge, recorder: MqttRecorder) -> None:
    start_bridge()
    wait_ready(recorder)
    mark = recorder.mark()
    recorder.publish(f"{FRONT_YARD}/snooze", {"minutes": 240, "transaction": "zz"})
    response = final_response(recorder, FRONT_YARD, mark)
    assert response["status"] == "ok"
    assert response["minutes"] == 240
    state = recorder.wait_topic(FRONT_YARD, after=mark,
                                where=lambda p: p["snoozed_until"] is not None).json()
    assert state["snoozed"] is True
    assert state["snoozed_until"] == response["snoozed_until"]

    mark = recorder.mark()
    recorder.publish(f"{BASE}/network/2101/snooze", "60")
    assert final_response(recorder, f"{BASE}/network/2101", mark)["status"] == "ok"
    network = recorder.latest(f"{BASE}/network/2101").json()
    assert network["snoozed_until"] is not None


def test_snooze_refused(start_bridge: StartBridge, recorder: MqttRecorder,
                        cloud: LocalBlinkCloud) -> None:
    cloud.set_snooze_allowed([240])
    start_bridge()
    wait_ready(recorder)
    mark = recorder.mark()
    recorder.publish(f"{FRONT_YARD}/snooze", "30")
    response = final_response(recorder, FRONT_YARD, mark)
    assert response["status"] == "error"
    assert response["reason"] == "blink_error"
    assert response["message"]
    # Motion is off on Back Garden: Blink refuses with its own code.
    mark = recorder.mark()
    recorder.publish(f"{BASE}/camera/4103/snooze", "240")
    refused = final_response(recorder, f"{BASE}/camera/4103", mark)
    assert refused["code"] == 2805
    assert recorder.latest(f"{BASE}/camera/4103").json()["snoozed_until"] is None
