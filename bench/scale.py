"""CPU time per poll cycle, resident memory and start-up time of the bridge at 10 to 1000 cameras.

The bridge runs as ``python -m blink2mqtt run`` in its own process; its CPU time (user
plus system, all threads) and memory (VmRSS, VmHWM) are read from /proc/<pid>. The
local Blink cloud and an MQTT recorder subscribed to every topic run in this process,
mosquitto in a third one, all on the same machine.

Start-up is timed from spawning the process to the recorder receiving the last Home
Assistant discovery config, the last device state, the last camera image, and the
``bridge/info`` that closes the first poll. Quiet cycles (nothing changed at Blink) are
then started one after another with ``bridge/request/refresh``.

    python bench/scale.py --json bench/scale.json
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from blink2mqtt.simulator import LocalBlinkCloud
from common import (
    BASE_TOPIC,
    CAMERAS_PER_NETWORK,
    DISCOVERY_PREFIX,
    BenchBroker,
    BridgeProcess,
    MqttRecorder,
    build_account,
    bridge_config,
    load_average,
    machine_info,
    request_refresh,
    summarize_ms,
    wait_for_first_poll,
    wait_until_quiet,
    write_json,
)

SIZES = (10, 100, 1000)
CYCLES = {10: 50, 100: 50, 1000: 20}
# /proc counts CPU time in clock ticks (1/SC_CLK_TCK s, 10 ms on Linux x86-64), so a
# 10 s window resolves 0.1 %.
IDLE_SECONDS = 10.0
TARGET_CAMERAS = 100
TARGET_RSS_MB = 45.0

_CAMERA_STATE = re.compile(rf"^{BASE_TOPIC}/camera/(\d+)$")
_NETWORK_STATE = re.compile(rf"^{BASE_TOPIC}/network/(\d+)$")
_CAMERA_IMAGE = re.compile(rf"^{BASE_TOPIC}/camera/(\d+)/image$")
_DISCOVERY_DEVICE = re.compile(r"/(camera|network)_(\d+)_")


def last_arrival(messages: list[Any], pattern: re.Pattern[str], expected: set[int]) -> float:
    """Time when the last of ``expected`` ids had its first message on a matching topic."""
    first: dict[int, float] = {}
    for message in messages:
        match = pattern.match(message.topic)
        if match and message.payload:
            first.setdefault(int(match.group(1)), message.time)
    missing = expected - set(first)
    if missing:
        raise RuntimeError(f"{len(missing)} devices got no message on {pattern.pattern}, "
                           f"e.g. {sorted(missing)[:5]}")
    return max(first[device_id] for device_id in expected)


def startup_figures(messages: list[Any], info_time: float, started_at: float,
                    cameras: set[int], networks: set[int]) -> dict[str, Any]:
    discovery = [message for message in messages
                 if message.topic.startswith(f"{DISCOVERY_PREFIX}/") and message.payload
                 and message.time <= info_time]
    announced: dict[str, set[int]] = {"camera": set(), "network": set()}
    for message in discovery:
        match = _DISCOVERY_DEVICE.search(message.topic)
        if match:
            announced[match.group(1)].add(int(match.group(2)))
    if announced["camera"] != cameras or announced["network"] != networks:
        raise RuntimeError(f"discovery announced {len(announced['camera'])} of {len(cameras)} "
                           f"cameras and {len(announced['network'])} of {len(networks)} networks")
    states_done = max(last_arrival(messages, _CAMERA_STATE, cameras),
                      last_arrival(messages, _NETWORK_STATE, networks))
    return {
        "discovery_messages": len(discovery),
        "to_discovery_s": round(max(message.time for message in discovery) - started_at, 3),
        "to_all_states_s": round(states_done - started_at, 3),
        "to_all_images_s": round(last_arrival(messages, _CAMERA_IMAGE, cameras) - started_at, 3),
        "to_first_poll_done_s": round(info_time - started_at, 3),
    }


def measure(cameras: int) -> dict[str, Any]:
    networks = max(1, cameras // CAMERAS_PER_NETWORK)
    cycles = CYCLES[cameras]
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as temp, \
            LocalBlinkCloud(port=0, demo=False) as cloud, BenchBroker() as broker:
        workdir = Path(temp)
        account = build_account(cloud, networks=networks, cameras=cameras)
        recorder = MqttRecorder(broker.host, broker.port, subscribe=("#",))
        bridge = BridgeProcess(bridge_config(cloud, broker, workdir), workdir).start()
        try:
            info = wait_for_first_poll(recorder, bridge, cameras=cameras, timeout=600)
            cpu_at_first_poll = bridge.cpu_seconds()
            memory_at_first_poll = bridge.memory_kib()
            wait_until_quiet(cloud, quiet_seconds=1.0, timeout=120)
            assert bridge.started_at is not None
            startup = startup_figures(recorder.since(0), info.time, bridge.started_at,
                                      set(account.camera_ids), set(account.network_ids))
            first_homescreen = next(entry.time for entry in cloud.requests
                                    if entry.path.endswith("/homescreen"))
            startup["to_first_homescreen_s"] = round(first_homescreen - bridge.started_at, 3)
            startup["cpu_s"] = round(cpu_at_first_poll, 3)

            idle_start = bridge.cpu_seconds()
            time.sleep(IDLE_SECONDS)
            idle_cpu = bridge.cpu_seconds() - idle_start

            cloud.clear_requests()
            durations = []
            cpu_start = bridge.cpu_seconds()
            for index in range(cycles):
                started = time.perf_counter()
                request_refresh(recorder, f"scale-{index}", timeout=120)
                durations.append(time.perf_counter() - started)
            cpu_cycles = bridge.cpu_seconds() - cpu_start
            wait_until_quiet(cloud, quiet_seconds=0.3, timeout=60)
            requests = len(cloud.requests)
            memory_after_cycles = bridge.memory_kib()
        finally:
            bridge.stop()
            recorder.close()
    return {
        "cameras": cameras,
        "networks": networks,
        "startup": startup,
        "memory_kib_after_first_poll": memory_at_first_poll,
        "memory_kib_after_cycles": memory_after_cycles,
        "idle_cpu_percent": round(idle_cpu / IDLE_SECONDS * 100, 2),
        "cycles": cycles,
        "cpu_ms_per_cycle": round(cpu_cycles / cycles * 1000, 2),
        "cycle_wall_ms": summarize_ms(durations),
        "blink_requests_per_cycle": round(requests / cycles, 2),
    }


def print_results(results: list[dict[str, Any]]) -> None:
    print(f"{'cameras':>8} {'networks':>8} {'CPU/cycle':>10} {'cycle p50':>10} {'req/cycle':>9} "
          f"{'RSS':>8} {'peak RSS':>9} {'idle CPU':>9}")
    for entry in results:
        memory = entry["memory_kib_after_cycles"]
        print(f"{entry['cameras']:8d} {entry['networks']:8d} {entry['cpu_ms_per_cycle']:8.2f}ms "
              f"{entry['cycle_wall_ms']['p50']:8.2f}ms {entry['blink_requests_per_cycle']:9.2f} "
              f"{memory['VmRSS'] / 1024:6.1f}MB {memory['VmHWM'] / 1024:7.1f}MB "
              f"{entry['idle_cpu_percent']:8.2f}%")
    print(f"\n{'cameras':>8} {'homescreen':>10} {'discovery':>10} {'states':>8} {'images':>8} "
          f"{'poll done':>9} {'CPU':>7}   (seconds from spawning the bridge)")
    for entry in results:
        startup = entry["startup"]
        print(f"{entry['cameras']:8d} {startup['to_first_homescreen_s']:10.2f} "
              f"{startup['to_discovery_s']:10.2f} {startup['to_all_states_s']:8.2f} "
              f"{startup['to_all_images_s']:8.2f} {startup['to_first_poll_done_s']:9.2f} "
              f"{startup['cpu_s']:7.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), choices=SIZES,
                        help="camera counts to measure")
    args = parser.parse_args()

    load_before = load_average()
    results = [measure(cameras) for cameras in args.sizes]
    load_after = load_average()
    print_results(results)
    print(f"load average (1, 5, 15 min) before {load_before}, after {load_after}")
    output: dict[str, Any] = {"machine": machine_info(), "results": results,
                              "load_average": {"before": load_before, "after": load_after}}
    at_target = next((entry for entry in results if entry["cameras"] == TARGET_CAMERAS), None)
    if at_target is not None:
        resident_mb = max(at_target["memory_kib_after_first_poll"]["VmRSS"],
                          at_target["memory_kib_after_cycles"]["VmRSS"]) / 1024
        output["target"] = {
            "description": f"under {TARGET_RSS_MB:g} MB resident at {TARGET_CAMERAS} cameras",
            "resident_mb": round(resident_mb, 1),
            "peak_resident_mb": round(at_target["memory_kib_after_cycles"]["VmHWM"] / 1024, 1),
            "met": resident_mb < TARGET_RSS_MB,
        }
        target = output["target"]
        print(f"\ntarget {target['description']}: {target['resident_mb']} MB resident "
              f"(peak {target['peak_resident_mb']} MB) -> {'met' if target['met'] else 'MISSED'}")
    write_json(args.json, output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
