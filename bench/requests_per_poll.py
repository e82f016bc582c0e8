"""Blink requests per poll cycle of blink2mqtt, next to blinkpy's refresh of the same account.

For each account size the local Blink cloud logs every request, and the log is read
per cycle. The cycles are the start-up (sign-in, then the first poll), quiet cycles
(nothing changed), a cycle after one new motion clip, and quiet cycles right after that
clip. ``bridge/request/refresh`` starts each cycle and runs the same poll cycle as the
timer. A second run with a 1 s timer checks that the timer's cycles cost the same.

blinkpy runs in its own virtual environment (see bench/README.md) through
blinkpy_requests.py against an identical account.

    python bench/requests_per_poll.py --json bench/requests_per_poll.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from blink2mqtt.simulator import LocalBlinkCloud
from common import (
    BASE_TOPIC,
    BenchBroker,
    CAMERAS_PER_NETWORK,
    BridgeProcess,
    MqttRecorder,
    build_account,
    bridge_config,
    count_by_endpoint,
    failed_requests,
    is_login_request,
    load_average,
    machine_info,
    request_refresh,
    wait_for_first_poll,
    wait_until_quiet,
    write_json,
)

BENCH_DIR = Path(__file__).resolve().parent
DEFAULT_BLINKPY_PYTHON = Path("/tmp/bench-blinkpy/bin/python")
QUIET_CYCLES = 5
CYCLES_AFTER_CLIP = 3
# A cycle's requests are read once the local cloud has been idle this long.
SETTLE_SECONDS = 0.3
TIMER_INTERVAL_SECONDS = 1.0
TIMER_WINDOW_SECONDS = 8.0
HOMESCREEN_SUFFIX = "/homescreen"


def cycle_record(entries: list[Any]) -> dict[str, Any]:
    return {"requests": len(entries), "by_endpoint": count_by_endpoint(entries),
            "failed": failed_requests(entries)}


def run_one_cycle(cloud: LocalBlinkCloud, recorder: MqttRecorder, transaction: str) -> list[Any]:
    cloud.clear_requests()
    request_refresh(recorder, transaction)
    wait_until_quiet(cloud, quiet_seconds=SETTLE_SECONDS, timeout=60)
    return cloud.requests


def measure_on_demand(networks: int, cameras: int) -> dict[str, Any]:
    """Start-up, quiet, new-clip and after-clip cycles, each started by bridge/request/refresh."""
    with tempfile.TemporaryDirectory(prefix="bench-requests-") as temp, \
            LocalBlinkCloud(port=0, demo=False) as cloud, BenchBroker() as broker:
        workdir = Path(temp)
        account = build_account(cloud, networks=networks, cameras=cameras)
        recorder = MqttRecorder(broker.host, broker.port, subscribe=(f"{BASE_TOPIC}/#",))
        bridge = BridgeProcess(bridge_config(cloud, broker, workdir), workdir).start()
        try:
            wait_for_first_poll(recorder, bridge, cameras=cameras, timeout=120)
            wait_until_quiet(cloud, quiet_seconds=1.0, timeout=60)
            entries = cloud.requests
            login = [entry for entry in entries if is_login_request(entry)]
            first_poll = [entry for entry in entries if not is_login_request(entry)]
            result: dict[str, Any] = {
                "login": cycle_record(login),
                "startup": cycle_record(first_poll),
            }

            quiet = [run_one_cycle(cloud, recorder, f"quiet-{index}") for index in range(QUIET_CYCLES)]
            result["quiet"] = {"requests_per_cycle": [len(cycle) for cycle in quiet],
                               **cycle_record(quiet[0])}

            camera_id = account.camera_ids[0]
            mark = recorder.mark()
            media_id = cloud.trigger_motion(camera_id)
            clip_cycle = run_one_cycle(cloud, recorder, "new-clip")
            event_topic = f"{BASE_TOPIC}/camera/{camera_id}/event"
            events = [message.json() for message in recorder.since(mark)
                      if message.topic == event_topic]
            result["new_clip"] = {
                **cycle_record(clip_cycle),
                "motion_event_published": any(event.get("event_type") == "motion"
                                              and event.get("media_id") == media_id
                                              for event in events),
            }

            after = [run_one_cycle(cloud, recorder, f"after-clip-{index}")
                     for index in range(CYCLES_AFTER_CLIP)]
            result["quiet_after_clip"] = {"requests_per_cycle": [len(cycle) for cycle in after],
                                          **cycle_record(after[0])}
        finally:
            bridge.stop()
            recorder.close()
    return result


def measure_timer_cycles(networks: int, cameras: int) -> dict[str, Any]:
    """Requests per cycle when the bridge's own timer starts the cycles (no refresh requests)."""
    with tempfile.TemporaryDirectory(prefix="bench-requests-timer-") as temp, \
            LocalBlinkCloud(port=0, demo=False) as cloud, BenchBroker() as broker:
        workdir = Path(temp)
        build_account(cloud, networks=networks, cameras=cameras)
        recorder = MqttRecorder(broker.host, broker.port, subscribe=(f"{BASE_TOPIC}/bridge/#",))
        config = bridge_config(cloud, broker, workdir,
                               bridge={"poll_interval": TIMER_INTERVAL_SECONDS})
        bridge = BridgeProcess(config, workdir).start()
        try:
            wait_for_first_poll(recorder, bridge, cameras=cameras, timeout=120)
            time.sleep(TIMER_INTERVAL_SECONDS * 1.5)
            cloud.clear_requests()
            time.sleep(TIMER_WINDOW_SECONDS)
            entries = cloud.requests
        finally:
            bridge.stop()
            recorder.close()
    starts = [index for index, entry in enumerate(entries) if entry.path.endswith(HOMESCREEN_SUFFIX)]
    if len(starts) < 2:
        raise RuntimeError(f"expected several timer cycles in {TIMER_WINDOW_SECONDS:g} s, "
                           f"saw {len(starts)}")
    # Whole cycles only: from the first homescreen read up to the last one.
    whole = entries[starts[0]:starts[-1]]
    cycles = len(starts) - 1
    return {"interval_seconds": TIMER_INTERVAL_SECONDS, "cycles": cycles,
            "requests": len(whole), "requests_per_cycle": round(len(whole) / cycles, 2),
            "by_endpoint": count_by_endpoint(whole)}


def measure_blinkpy(python: Path, networks: int, cameras: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-blinkpy-") as temp:
        output = Path(temp) / "blinkpy.json"
        completed = subprocess.run(
            [str(python), str(BENCH_DIR / "blinkpy_requests.py"), "--networks", str(networks),
             "--cameras", str(cameras), "--json", str(output)],
            capture_output=True, text=True, timeout=600, check=False)
        if completed.returncode != 0:
            raise RuntimeError(f"blinkpy_requests.py failed with code {completed.returncode}:\n"
                               f"{completed.stdout}\n{completed.stderr}")
        return json.loads(output.read_text(encoding="utf-8"))


def print_account(entry: dict[str, Any]) -> None:
    ours = entry["blink2mqtt"]
    theirs = entry.get("blinkpy")
    print(f"\n{entry['cameras']} cameras on {entry['networks']} sync-module networks")
    print(f"  {'cycle':34} {'blink2mqtt':>10} {'blinkpy':>8}")
    rows = [
        ("sign-in", ours["login"]["requests"], theirs and theirs["login"]["requests"]),
        ("start-up after sign-in", ours["startup"]["requests"], theirs and theirs["startup"]["requests"]),
        ("quiet cycle", ours["quiet"]["requests"], theirs and theirs["quiet"]["requests"]),
        ("cycle with one new clip", ours["new_clip"]["requests"], theirs and theirs["new_clip"]["requests"]),
        ("quiet cycle right after the clip", ours["quiet_after_clip"]["requests"],
         theirs and theirs["quiet_after_clip"]["requests"]),
        ("forced refresh", None, theirs and theirs["forced_refresh"]["requests"]),
    ]
    for label, mine, other in rows:
        print(f"  {label:34} {'-' if mine is None else mine:>10} {'-' if other is None else other:>8}")
    print(f"  blink2mqtt quiet cycles: {ours['quiet']['requests_per_cycle']}, "
          f"after the clip: {ours['quiet_after_clip']['requests_per_cycle']}")
    if "timer" in entry:
        timer = entry["timer"]
        print(f"  blink2mqtt timer cycles ({timer['interval_seconds']:g} s): "
              f"{timer['requests_per_cycle']} requests per cycle over {timer['cycles']} cycles")
    for name in ("startup", "quiet", "new_clip", "quiet_after_clip"):
        print(f"  blink2mqtt {name}: {ours[name]['by_endpoint']}")
    if theirs:
        for name in ("startup", "quiet", "new_clip"):
            print(f"  blinkpy {name}: {theirs[name]['by_endpoint']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--blinkpy-python", type=Path, default=DEFAULT_BLINKPY_PYTHON,
                        help="Python of the virtual environment with blinkpy and blink2mqtt "
                             f"(default {DEFAULT_BLINKPY_PYTHON})")
    parser.add_argument("--skip-blinkpy", action="store_true", help="measure blink2mqtt only")
    args = parser.parse_args()

    if not args.skip_blinkpy and not args.blinkpy_python.exists():
        print(f"{args.blinkpy_python} does not exist; create the blinkpy environment as "
              "bench/README.md describes, or pass --skip-blinkpy", file=sys.stderr)
        return 2

    accounts = [(2, 10), (100 // CAMERAS_PER_NETWORK, 100)]
    results: dict[str, Any] = {
        "machine": machine_info(),
        "load_average": {"before": load_average()},
        "settings": {"quiet_cycles": QUIET_CYCLES, "cycles_after_clip": CYCLES_AFTER_CLIP,
                     "motion_overlap_seconds": 300, "camera_family": "classic (catalina)",
                     "networks_armed": True},
        "accounts": [],
    }
    for networks, cameras in accounts:
        entry: dict[str, Any] = {"networks": networks, "cameras": cameras,
                                 "blink2mqtt": measure_on_demand(networks, cameras)}
        entry["timer"] = measure_timer_cycles(networks, cameras)
        if not args.skip_blinkpy:
            entry["blinkpy"] = measure_blinkpy(args.blinkpy_python, networks, cameras)
        results["accounts"].append(entry)
        print_account(entry)

    worst_quiet = max(max(entry["blink2mqtt"]["quiet"]["requests_per_cycle"])
                      for entry in results["accounts"])
    worst_after_clip = max(max(entry["blink2mqtt"]["quiet_after_clip"]["requests_per_cycle"])
                           for entry in results["accounts"])
    results["load_average"]["after"] = load_average()
    results["target"] = {
        "description": "at most 2 Blink requests per quiet poll cycle at any account size",
        "worst_quiet_cycle": worst_quiet,
        "worst_quiet_cycle_after_clip": worst_after_clip,
        "met": worst_quiet <= 2 and worst_after_clip <= 2,
    }
    print(f"\ntarget <= 2 requests per quiet cycle: worst quiet cycle {worst_quiet}, "
          f"worst quiet cycle after a clip {worst_after_clip} -> "
          f"{'met' if results['target']['met'] else 'MISSED'}")
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
