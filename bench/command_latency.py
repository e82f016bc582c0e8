"""Bridge overhead per command, from MQTT to the local Blink cloud and back.

All times come from one clock, time.time() on this machine. The benchmark reads it just
before it publishes a command. The local cloud stamps each logged request when the
response is ready, and the MQTT recorder stamps each message it receives. Per command:

- publish -> Blink request: from the command's publish to the cloud answering the
  POST that starts the Blink command. For a command queued behind an earlier one on
  the same network (one command at a time per sync module), the hand-over is measured
  instead: from the earlier command's ``ok`` arriving at the recorder to the POST.
- complete -> ok: from the cloud answering the status poll that reports the command
  complete to ``ok`` arriving at the recorder. It contains the read-back (one poll:
  homescreen and media/changed), reported on its own, and the rest after the read-back.

The bridge runs as its own process, and the local cloud and the recorder run in this one.

    python bench/command_latency.py --json bench/command_latency.json
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from blink2mqtt.simulator import LocalBlinkCloud
from common import (
    BASE_TOPIC,
    BenchBroker,
    BridgeProcess,
    MqttRecorder,
    Received,
    build_account,
    bridge_config,
    load_average,
    machine_info,
    summarize_ms,
    wait_for_first_poll,
    write_json,
)

NETWORKS = 10
CAMERAS = 20
SINGLE_COMMANDS = 200
CONCURRENT_COMMANDS = 50
CONCURRENT_ROUNDS = 10
WARM_UP_COMMANDS = 10
COMMAND_TIMEOUT_SECONDS = 30.0
DIRECT_ROUND_TRIPS = 100
# Blink's simulated command time: the first status poll returns "running", the next "complete".
CLOUD_SETTINGS = {"command_polls_to_complete": 1, "command_max_seconds": 30.0,
                  "stuck_command_seconds": 60.0}
BRIDGE_BLINK_SETTINGS = {"command_poll_interval": 0.01, "command_timeout": 20.0,
                         "busy_retry_delays": [0.05, 0.1, 0.2]}
TARGET_MS = 5.0

_COMMAND_STATUS = re.compile(r"^/network/(\d+)/command/(\d+)$")
_NETWORK_STATE = re.compile(r"^/api/v1/accounts/\d+/networks/(\d+)/state/(arm|disarm)$")
_CAMERA_MOTION = re.compile(r"^/network/(\d+)/camera/(\d+)/(enable|disable)$")


@dataclass
class SentCommand:
    transaction: str
    network_id: int
    topic: str
    payload: dict[str, Any]
    # The POST path's last segment that this command must produce.
    action: str
    published_at: float = 0.0
    # The ``queued`` flag of the bridge's ``accepted`` response: True when the command
    # waits behind another one on its network. None until ``accepted`` arrives.
    queued: bool | None = None
    # True unless the command is the first of its network in its batch; checked against ``queued``.
    queued_by_order: bool = False
    blink_command_id: int | None = None
    ok: Received | None = None
    error: dict[str, Any] | None = None
    post_time: float | None = None
    complete_time: float | None = None
    read_back_end: float | None = None
    figures: dict[str, float] = field(default_factory=dict)


class CommandPlanner:
    """Give each network the sequence disarm, motion off, arm, motion on, then the next camera.

    At most one camera per network has motion detection off at any time, so arming never
    meets Blink's "No Cameras Enabled for Motion" error, and every command changes something.
    """

    def __init__(self, cameras_by_network: dict[int, list[int]]) -> None:
        self._cameras = cameras_by_network
        self._counts: dict[int, int] = defaultdict(int)

    def next(self, network_id: int, transaction: str) -> SentCommand:
        index = self._counts[network_id]
        self._counts[network_id] += 1
        kind = index % 4
        if kind in (0, 2):
            armed = kind == 2
            return SentCommand(transaction, network_id, f"{BASE_TOPIC}/network/{network_id}/set",
                               {"armed": armed, "transaction": transaction},
                               "arm" if armed else "disarm")
        enabled = kind == 3
        cameras = self._cameras[network_id]
        camera_id = cameras[(index // 4) % len(cameras)]
        return SentCommand(transaction, network_id, f"{BASE_TOPIC}/camera/{camera_id}/set",
                           {"motion_detection": enabled, "transaction": transaction},
                           "enable" if enabled else "disable")


def publish_all(recorder: MqttRecorder, commands: list[SentCommand]) -> None:
    for command in commands:
        command.published_at = recorder.publish(command.topic, command.payload)


def collect_responses(recorder: MqttRecorder, commands: list[SentCommand], mark: int) -> None:
    """Wait for every command's final response and note the Blink command id from ``pending``."""
    by_transaction = {command.transaction: command for command in commands}

    def is_final(message: Received) -> bool:
        if not message.topic.endswith("/response"):
            return False
        payload = message.json()
        return payload.get("transaction") in by_transaction and payload.get("status") in ("ok", "error")

    recorder.wait_count(is_final, len(commands), timeout=COMMAND_TIMEOUT_SECONDS, after=mark,
                        description="final command responses")
    for message in recorder.since(mark):
        if not message.topic.endswith("/response"):
            continue
        payload = message.json()
        command = by_transaction.get(payload.get("transaction"))
        if command is None:
            continue
        status = payload.get("status")
        if status == "accepted" and command.queued is None:
            command.queued = payload.get("queued")
        elif status == "pending":
            command.blink_command_id = payload.get("blink_command_id")
        elif status == "ok" and command.ok is None:
            command.ok = message
        elif status == "error" and command.error is None:
            command.error = payload


def match_requests(commands: list[SentCommand], entries: list[Any]) -> None:
    """Attach each command's POST, final status poll and read-back end from the request log.

    POSTs of one network are matched in order, because the bridge runs one command per
    network at a time in arrival order, and MQTT keeps the order of one client's messages.
    """
    posts: dict[int, list[Any]] = defaultdict(list)
    last_status: dict[int, Any] = {}
    media_reads: list[float] = []
    for entry in entries:
        if entry.method == "POST":
            match = _NETWORK_STATE.match(entry.path) or _CAMERA_MOTION.match(entry.path)
            if match:
                posts[int(match.group(1))].append(entry)
        elif entry.method == "GET":
            status = _COMMAND_STATUS.match(entry.path)
            if status:
                # The bridge stops polling once Blink reports complete, so the last poll got that status.
                last_status[int(status.group(2))] = entry
            elif entry.path.endswith("/media/changed"):
                media_reads.append(entry.time)

    by_network: dict[int, list[SentCommand]] = defaultdict(list)
    for command in commands:
        by_network[command.network_id].append(command)
    for network_id, network_commands in by_network.items():
        network_posts = posts.get(network_id, [])
        if len(network_posts) != len(network_commands):
            raise RuntimeError(f"network {network_id}: {len(network_commands)} commands but "
                               f"{len(network_posts)} Blink POSTs in the request log")
        for command, post in zip(network_commands, network_posts):
            if not post.path.endswith(command.action):
                raise RuntimeError(f"command {command.transaction} expected a POST ending in "
                                   f"'{command.action}', found {post.path}")
            command.post_time = post.time

    media_reads.sort()
    for command in commands:
        status = last_status.get(command.blink_command_id or -1)
        if status is not None:
            command.complete_time = status.time
        if command.ok is not None:
            # The read-back is the last poll that ended before ``ok``. A poll ends with media/changed.
            before_ok = [moment for moment in media_reads if moment < command.ok.time]
            command.read_back_end = before_ok[-1] if before_ok else None


def derive_figures(commands: list[SentCommand]) -> None:
    previous_ok: dict[int, float] = {}
    for command in sorted(commands, key=lambda c: (c.network_id, c.post_time or 0.0)):
        figures = command.figures
        if command.ok is None or command.post_time is None or command.complete_time is None:
            continue
        start = command.published_at
        if command.queued and command.network_id in previous_ok:
            start = max(start, previous_ok[command.network_id])
            figures["handover"] = command.post_time - start
        else:
            figures["publish_to_request"] = command.post_time - command.published_at
        figures["complete_to_ok"] = command.ok.time - command.complete_time
        if command.read_back_end is not None and command.read_back_end > command.complete_time:
            figures["read_back"] = command.read_back_end - command.complete_time
            figures["after_read_back"] = command.ok.time - command.read_back_end
        figures["publish_to_ok"] = command.ok.time - command.published_at
        previous_ok[command.network_id] = command.ok.time


def summarize(commands: list[SentCommand]) -> dict[str, Any]:
    names = ("publish_to_request", "handover", "complete_to_ok", "read_back", "after_read_back",
             "publish_to_ok")
    summary: dict[str, Any] = {name: summarize_ms([c.figures[name] for c in commands
                                                   if name in c.figures]) for name in names}
    summary["commands"] = len(commands)
    summary["queued_flag"] = {
        "true": sum(1 for command in commands if command.queued is True),
        "false": sum(1 for command in commands if command.queued is False),
        "missing": sum(1 for command in commands if command.queued is None),
        "differs_from_send_order": sum(1 for command in commands
                                       if command.queued is not None
                                       and command.queued != command.queued_by_order),
    }
    summary["errors"] = [command.error for command in commands if command.error is not None]
    summary["unmatched"] = sum(1 for command in commands if "complete_to_ok" not in command.figures)
    summary["read_back_not_found"] = sum(1 for command in commands
                                         if "complete_to_ok" in command.figures
                                         and "read_back" not in command.figures)
    return summary


def run_commands(cloud: LocalBlinkCloud, recorder: MqttRecorder, commands: list[SentCommand],
                 *, batch: int) -> None:
    """Publish ``batch`` commands at a time, wait for all their responses, then match the log."""
    cloud.clear_requests()
    for start in range(0, len(commands), batch):
        chunk = commands[start:start + batch]
        # Each batch starts after every earlier command got its final response, so a
        # command waits exactly when an earlier one of its network is in the same batch.
        # That order is kept to check the bridge's ``queued`` flag, which decides the figures.
        heads: set[int] = set()
        for command in chunk:
            command.queued_by_order = command.network_id in heads
            heads.add(command.network_id)
        mark = recorder.mark()
        publish_all(recorder, chunk)
        collect_responses(recorder, chunk, mark)
        # Let the read-back of the last command end before the next batch starts.
        time.sleep(0.05)
    match_requests(commands, cloud.requests)
    derive_figures(commands)


def direct_round_trips(cloud: LocalBlinkCloud, token_file: Path) -> dict[str, Any]:
    """Time homescreen plus media/changed, the read-back's two requests, sent straight from here."""
    access_token = json.loads(token_file.read_text(encoding="utf-8"))["access_token"]
    base = urlsplit(cloud.rest_url)
    headers = {"Authorization": f"Bearer {access_token}"}
    homescreen = f"{base.path}/api/v3/accounts/{cloud.account_id}/homescreen"
    since = time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(time.time() - 300))
    media = (f"{base.path}/api/v1/accounts/{cloud.account_id}/media/changed?"
             + urlencode({"since": since, "page": "1"}))
    connection = http.client.HTTPConnection(base.hostname, base.port, timeout=10)
    durations = []
    try:
        for _ in range(DIRECT_ROUND_TRIPS):
            started = time.perf_counter()
            for path in (homescreen, media):
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    raise RuntimeError(f"GET {path} returned HTTP {response.status}")
            durations.append(time.perf_counter() - started)
    finally:
        connection.close()
    return summarize_ms(durations)


def measure() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as temp, \
            LocalBlinkCloud(port=0, demo=False, **CLOUD_SETTINGS) as cloud, \
            BenchBroker() as broker:
        workdir = Path(temp)
        account = build_account(cloud, networks=NETWORKS, cameras=CAMERAS)
        recorder = MqttRecorder(broker.host, broker.port,
                                subscribe=(f"{BASE_TOPIC}/bridge/#", f"{BASE_TOPIC}/+/+/response"))
        config = bridge_config(cloud, broker, workdir, blink=BRIDGE_BLINK_SETTINGS)
        bridge = BridgeProcess(config, workdir).start()
        try:
            wait_for_first_poll(recorder, bridge, cameras=CAMERAS, timeout=60)
            networks = account.network_ids
            planner = CommandPlanner(account.cameras_by_network)

            warm_up = [planner.next(networks[i % NETWORKS], f"warm-{i}")
                       for i in range(WARM_UP_COMMANDS)]
            run_commands(cloud, recorder, warm_up, batch=1)

            single = [planner.next(networks[i % NETWORKS], f"single-{i}")
                      for i in range(SINGLE_COMMANDS)]
            cpu_start = bridge.cpu_seconds()
            run_commands(cloud, recorder, single, batch=1)
            single_cpu = bridge.cpu_seconds() - cpu_start

            concurrent = [planner.next(networks[i % NETWORKS], f"concurrent-{i}")
                          for i in range(CONCURRENT_COMMANDS * CONCURRENT_ROUNDS)]
            cpu_start = bridge.cpu_seconds()
            run_commands(cloud, recorder, concurrent, batch=CONCURRENT_COMMANDS)
            concurrent_cpu = bridge.cpu_seconds() - cpu_start

            direct = direct_round_trips(cloud, workdir / "tokens.json")
            memory = bridge.memory_kib()
        finally:
            bridge.stop()
            recorder.close()
    return {
        "settings": {
            "networks": NETWORKS, "cameras": CAMERAS,
            "cloud": CLOUD_SETTINGS, "bridge_blink": BRIDGE_BLINK_SETTINGS,
            "single_commands": SINGLE_COMMANDS,
            "concurrent_commands": CONCURRENT_COMMANDS, "concurrent_rounds": CONCURRENT_ROUNDS,
            "commands": "cycling disarm, camera motion off, arm, camera motion on",
        },
        "single": {**summarize(single),
                   "bridge_cpu_ms_per_command": round(single_cpu / len(single) * 1000, 2)},
        "concurrent": {**summarize(concurrent),
                       "bridge_cpu_ms_per_command": round(concurrent_cpu / len(concurrent) * 1000, 2)},
        "direct_read_back_requests": direct,
        "bridge_memory_kib_after": memory,
    }


def print_results(results: dict[str, Any]) -> None:
    settings = results["settings"]
    print(f"{settings['networks']} networks, {settings['cameras']} cameras; local cloud "
          f"{settings['cloud']}; bridge {settings['bridge_blink']}")
    rows = (("publish -> Blink request", "publish_to_request"),
            ("queued: previous ok -> Blink request", "handover"),
            ("complete -> ok", "complete_to_ok"),
            ("  read-back (homescreen + media)", "read_back"),
            ("  after the read-back -> ok", "after_read_back"),
            ("publish -> ok (end to end)", "publish_to_ok"))
    for label in ("single", "concurrent"):
        summary = results[label]
        title = "1 command at a time" if label == "single" else \
            f"{settings['concurrent_commands']} concurrent commands"
        print(f"\n{title} ({summary['commands']} commands, errors {len(summary['errors'])}, "
              f"unmatched {summary['unmatched']}, bridge CPU "
              f"{summary['bridge_cpu_ms_per_command']:.1f} ms per command)")
        flag = summary["queued_flag"]
        print(f"  accepted.queued: true {flag['true']}, false {flag['false']}, missing "
              f"{flag['missing']}; differs from send order {flag['differs_from_send_order']}")
        print(f"  {'ms':38} {'n':>5} {'p50':>8} {'p99':>8} {'max':>8}")
        for text, name in rows:
            figures = summary[name]
            if figures.get("n"):
                print(f"  {text:38} {figures['n']:5d} {figures['p50']:8.2f} {figures['p99']:8.2f} "
                      f"{figures['max']:8.2f}")
    direct = results["direct_read_back_requests"]
    print(f"\nhomescreen + media/changed sent directly from the benchmark: p50 {direct['p50']:.2f} ms, "
          f"p99 {direct['p99']:.2f} ms")


def evaluate_target(results: dict[str, Any]) -> dict[str, Any]:
    """Compare the p50 of the bridge's own legs with the target.

    The legs are publish -> request, the hand-over, and after the read-back -> ok.
    """
    legs = {}
    for label in ("single", "concurrent"):
        for name in ("publish_to_request", "handover", "after_read_back"):
            figures = results[label][name]
            if figures.get("n"):
                legs[f"{label}.{name}"] = figures["p50"]
    return {"description": f"bridge overhead p50 under {TARGET_MS:g} ms", "p50_ms": legs,
            "met": all(value < TARGET_MS for value in legs.values())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    args = parser.parse_args()
    load_before = load_average()
    results = {"machine": machine_info(), **measure()}
    results["load_average"] = {"before": load_before, "after": load_average()}
    results["target"] = evaluate_target(results)
    print_results(results)
    print(f"load average (1, 5, 15 min) before {load_before}, after {results['load_average']['after']}")
    target = results["target"]
    print(f"\ntarget {target['description']}: "
          + ", ".join(f"{name} {value:.2f} ms" for name, value in target["p50_ms"].items())
          + f" -> {'met' if target['met'] else 'MISSED'}")
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
