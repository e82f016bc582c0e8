"""Shared helpers of the benchmarks: accounts, the broker, the bridge subprocess, MQTT recording.

Every server here listens on 127.0.0.1. The local Blink cloud runs in the benchmark
process and mosquitto is a private broker on a free port. The bridge runs as its own
process (``python -m blink2mqtt run``), so its CPU time and memory are its own.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
BASE_TOPIC = "blink2mqtt"
DISCOVERY_PREFIX = "homeassistant"
# Accounts of 100 cameras and more put this many cameras on each network.
CAMERAS_PER_NETWORK = 10

# Blink ids and media file numbers (three or more digits) in a request path. Replacing
# them groups the paths by endpoint.
_ID_IN_PATH = re.compile(r"\d{3,}")


# Machine and results -----------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    """Describe the machine and software that produced a set of figures.

    ``run_all.sh`` with ``BENCH_SNAPSHOT=1`` measures a copy of the committed code and sets
    ``BENCH_CODE_COMMIT``. That commit is then reported instead of the work tree's state.
    """
    cpu_model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gib = None
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                memory_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    return {
        "cpu_model": cpu_model,
        "cores": os.cpu_count(),
        "memory_gib": memory_gib,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date_utc": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        **_code_under_test(),
        "mosquitto": _mosquitto_version(),
    }


def load_average() -> list[float]:
    """1, 5 and 15 minute load averages; other work on the machine slows the timed figures."""
    return [round(value, 2) for value in os.getloadavg()]


def _code_under_test() -> dict[str, Any]:
    """Commit and location of the blink2mqtt package this process imports."""
    import blink2mqtt

    package_dir = str(Path(blink2mqtt.__file__).resolve().parent)
    snapshot_commit = os.environ.get("BENCH_CODE_COMMIT")
    if snapshot_commit:
        return {"git_commit": snapshot_commit, "package_has_uncommitted_changes": False,
                "package_dir": package_dir, "snapshot": True}
    return {"git_commit": _git_commit(),
            "package_has_uncommitted_changes": _package_has_uncommitted_changes(),
            "package_dir": package_dir, "snapshot": False}


def _git_commit() -> str | None:
    try:
        result = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() or None


def _package_has_uncommitted_changes() -> bool | None:
    """True when blink2mqtt/ differs from the commit, so the figures belong to a work tree."""
    try:
        result = subprocess.run(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--",
                                 "blink2mqtt"], capture_output=True, text=True, timeout=10,
                                check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return bool(result.stdout.strip()) if result.returncode == 0 else None


def _mosquitto_version() -> str | None:
    from blink2mqtt.broker import find_mosquitto

    binary = find_mosquitto()
    if binary is None:
        return None
    try:
        result = subprocess.run([binary, "-h"], capture_output=True, text=True, timeout=10,
                                check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    first_line = (result.stdout or result.stderr).splitlines()[:1]
    return first_line[0].strip() if first_line else None


def write_json(path: Path | None, data: dict[str, Any]) -> None:
    """Write the figures as JSON when ``--json`` named a file."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {path}")


# Statistics ------------------------------------------------------------------------------


def percentile(values: Iterable[float], q: float) -> float:
    """Percentile ``q`` (0 to 100) with linear interpolation between the closest ranks."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of an empty list")
    position = (len(ordered) - 1) * q / 100
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def summarize_ms(seconds: list[float]) -> dict[str, float | int]:
    """Count, p50, p99, min and max of durations given in seconds, in milliseconds."""
    if not seconds:
        return {"n": 0}
    milliseconds = [value * 1000 for value in seconds]
    return {
        "n": len(milliseconds),
        "p50": round(percentile(milliseconds, 50), 3),
        "p99": round(percentile(milliseconds, 99), 3),
        "min": round(min(milliseconds), 3),
        "max": round(max(milliseconds), 3),
    }


# Accounts and request counting ---------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    network_ids: list[int]
    camera_ids: list[int]
    # Camera ids of each network, in the order they were added.
    cameras_by_network: dict[int, list[int]]


def build_account(cloud: Any, *, networks: int, cameras: int) -> Account:
    """Add ``networks`` armed sync-module networks and spread ``cameras`` classic cameras over them.

    ``cloud`` must be a LocalBlinkCloud started with ``demo=False``, so these are its only
    devices. The networks are armed because Blink records motion clips only then, and
    blinkpy reports motion only on an armed network.
    """
    network_ids = [cloud.add_network(f"Site {index + 1}") for index in range(networks)]
    for network_id in network_ids:
        cloud.update_network(network_id, armed=True)
    cameras_by_network: dict[int, list[int]] = {network_id: [] for network_id in network_ids}
    camera_ids = []
    for index in range(cameras):
        network_id = network_ids[index % networks]
        camera_id = cloud.add_camera(network_id, "camera", f"Camera {index + 1:04d}")
        cameras_by_network[network_id].append(camera_id)
        camera_ids.append(camera_id)
    return Account(network_ids, camera_ids, cameras_by_network)


def endpoint_of(method: str, host: str, path: str) -> str:
    """Group key of a logged request: method, simulated host and path with ids as ``{id}``."""
    return f"{method} {host}:{_ID_IN_PATH.sub('{id}', path)}"


def is_login_request(entry: Any) -> bool:
    """True for the OAuth host and the tier lookup, which belong to signing in, not to a poll."""
    return entry.host == "oauth" or entry.path.endswith("/users/tier_info")


def count_by_endpoint(entries: Iterable[Any]) -> dict[str, int]:
    counts = Counter(endpoint_of(entry.method, entry.host, entry.path) for entry in entries)
    return dict(sorted(counts.items()))


def failed_requests(entries: Iterable[Any]) -> dict[str, int]:
    """Count requests that got HTTP 400 or more from the local cloud, by endpoint and status."""
    counts = Counter(f"{endpoint_of(entry.method, entry.host, entry.path)} -> {entry.status}"
                     for entry in entries if entry.status >= 400)
    return dict(sorted(counts.items()))


def wait_until_quiet(cloud: Any, *, quiet_seconds: float, timeout: float) -> None:
    """Wait until the local cloud has logged no request for ``quiet_seconds``."""
    deadline = time.monotonic() + timeout
    last_count = -1
    last_change = time.monotonic()
    while time.monotonic() < deadline:
        count = len(cloud.requests)
        if count != last_count:
            last_count = count
            last_change = time.monotonic()
        elif time.monotonic() - last_change >= quiet_seconds:
            return
        time.sleep(0.02)
    raise TimeoutError(f"the local Blink cloud still received requests after {timeout:g} s")


# Broker ------------------------------------------------------------------------------------------


class BenchBroker:
    """A private mosquitto on a free 127.0.0.1 port with Nagle's algorithm off on its sockets.

    mosquitto's default (``set_tcp_nodelay false``) can hold a small message until the
    previous one is acknowledged, which adds milliseconds on the broker's leg of a latency
    figure. The benchmarks turn it off so that their figures show the bridge, not the broker.
    The queue of QoS 1 messages per subscriber is unlimited (mosquitto drops messages past
    1000 by default), so the recorder receives every discovery message even at 1000 cameras.
    """

    def __init__(self) -> None:
        from blink2mqtt.broker import free_port

        self.host = "127.0.0.1"
        self.port = free_port()
        self._dir = tempfile.TemporaryDirectory(prefix="bench-broker-")
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> BenchBroker:
        from blink2mqtt.broker import find_mosquitto, port_is_open

        binary = find_mosquitto()
        if binary is None:
            raise RuntimeError("mosquitto is not installed; install it with 'apt-get install mosquitto'")
        directory = Path(self._dir.name)
        config = directory / "mosquitto.conf"
        config.write_text(f"listener {self.port} {self.host}\nallow_anonymous true\n"
                          "persistence false\nset_tcp_nodelay true\n"
                          "max_queued_messages 0\n", encoding="utf-8")
        with open(directory / "mosquitto.log", "ab") as log:
            self._process = subprocess.Popen([binary, "-c", str(config)], stdout=log, stderr=log)
        deadline = time.monotonic() + 10
        while not port_is_open(self.host, self.port, timeout=0.2):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"mosquitto did not start on port {self.port}; "
                                   f"see {directory / 'mosquitto.log'}")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
        self._process = None
        self._dir.cleanup()


# MQTT recording --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    retain: bool
    # time.time() when the recorder's network thread handed the message over.
    time: float

    def json(self) -> Any:
        return json.loads(self.payload)


class MqttRecorder:
    """An MQTT client that timestamps every message it receives and publishes commands."""

    def __init__(self, host: str, port: int, *, subscribe: tuple[str, ...] = ("#",)) -> None:
        import paho.mqtt.client as paho
        from paho.mqtt.enums import CallbackAPIVersion

        self.messages: list[Received] = []
        self._condition = threading.Condition()
        self._subscribed = threading.Event()
        self._client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-{os.getpid()}")
        self._client.on_message = self._on_message
        self._client.on_subscribe = lambda *args: self._subscribed.set()
        # paho leaves Nagle's algorithm on, which can delay this client's acknowledgements.
        self._client.on_socket_open = lambda client, userdata, sock: sock.setsockopt(
            socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._client.connect(host, port)
        self._client.loop_start()
        for topic_filter in subscribe:
            self._subscribed.clear()
            self._client.subscribe(topic_filter, qos=1)
            if not self._subscribed.wait(10):
                raise TimeoutError(f"the broker did not acknowledge the subscription to {topic_filter}")

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        received = Received(message.topic, bytes(message.payload), bool(message.retain), time.time())
        with self._condition:
            self.messages.append(received)
            self._condition.notify_all()

    def publish(self, topic: str, payload: bytes | str | dict[str, Any]) -> float:
        """Publish with QoS 1 and return time.time() taken just before the publish call."""
        if isinstance(payload, dict):
            payload = json.dumps(payload)
        sent_at = time.time()
        self._client.publish(topic, payload, qos=1)
        return sent_at

    def mark(self) -> int:
        with self._condition:
            return len(self.messages)

    def since(self, mark: int) -> list[Received]:
        with self._condition:
            return self.messages[mark:]

    def wait_for(self, predicate: Callable[[Received], bool], *, timeout: float,
                 after: int = 0, description: str = "a matching message") -> Received:
        return self.wait_count(predicate, 1, timeout=timeout, after=after,
                               description=description)[0]

    def wait_count(self, predicate: Callable[[Received], bool], count: int, *, timeout: float,
                   after: int = 0, description: str = "messages") -> list[Received]:
        """Wait until ``count`` messages after ``after`` match; return the matches.

        Each message is tested once, so a burst of thousands of messages (discovery at
        1000 cameras) does not keep the recorder's network thread waiting for the lock.
        """
        deadline = time.monotonic() + timeout
        matches: list[Received] = []
        position = after
        with self._condition:
            while True:
                while position < len(self.messages) and len(matches) < count:
                    if predicate(self.messages[position]):
                        matches.append(self.messages[position])
                    position += 1
                if len(matches) >= count:
                    return matches
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"timed out after {timeout:g} s waiting for {count} "
                                       f"{description}; got {len(matches)}")
                self._condition.wait(remaining)

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


def request_refresh(recorder: MqttRecorder, transaction: str, *, timeout: float = 60.0) -> Received:
    """Request one poll cycle from the bridge now and wait for its response.

    ``bridge/request/refresh`` runs the same poll cycle as the poll timer
    (Bridge.read_back wakes the poller) and responds after that cycle finished.
    """
    mark = recorder.mark()
    recorder.publish(f"{BASE_TOPIC}/bridge/request/refresh", {"transaction": transaction})
    response_topic = f"{BASE_TOPIC}/bridge/response/refresh"
    response = recorder.wait_for(
        lambda message: message.topic == response_topic
        and message.json().get("transaction") == transaction,
        timeout=timeout, after=mark, description=f"the response to refresh {transaction}")
    if response.json().get("status") != "ok":
        raise RuntimeError(f"refresh {transaction} failed: {response.payload!r}")
    return response


# The bridge as a subprocess -------------------------------------------------------------------------


def bridge_config(cloud: Any, broker: Any, workdir: Path, **sections: dict[str, Any]) -> dict[str, Any]:
    """Config of a bridge that talks to the local cloud and broker; ``sections`` override keys."""
    from blink2mqtt.simulator import DEMO_EMAIL, DEMO_PASSWORD

    config: dict[str, Any] = {
        "blink": {
            "email": DEMO_EMAIL,
            "password": DEMO_PASSWORD,
            "token_file": str(workdir / "tokens.json"),
            "hosts": {"oauth_url": cloud.oauth_url, "rest_prod_url": cloud.rest_prod_url,
                      "tier_url_template": cloud.tier_url_template},
            "timeout": 10.0,
        },
        "mqtt": {"host": broker.host, "port": broker.port, "base_topic": BASE_TOPIC},
        "homeassistant": {"discovery": True, "discovery_prefix": DISCOVERY_PREFIX},
        # Cycles are started on demand with bridge/request/refresh, so the timer stays out of the way.
        "bridge": {"poll_interval": 3600},
        "media": {"seen_file": str(workdir / "media.json")},
        "logging": {"level": "info"},
    }
    for section, values in sections.items():
        config.setdefault(section, {}).update(values)
    return config


class BridgeProcess:
    """``python -m blink2mqtt run -c config.yaml`` in its own process, read through /proc."""

    def __init__(self, config: dict[str, Any], workdir: Path) -> None:
        self.workdir = workdir
        self.config_path = workdir / "config.yaml"
        self.config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
        self.log_path = workdir / "bridge.log"
        self._process: subprocess.Popen[bytes] | None = None
        self.started_at: float | None = None

    def start(self) -> BridgeProcess:
        log = open(self.log_path, "ab")
        self.started_at = time.time()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "blink2mqtt", "run", "-c", str(self.config_path)],
            stdout=log, stderr=log, cwd=self.workdir)
        log.close()
        return self

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the bridge process has not been started")
        return self._process.pid

    def check_running(self) -> None:
        if self._process is not None and self._process.poll() is not None:
            raise RuntimeError(f"the bridge exited with code {self._process.returncode}; "
                               f"see {self.log_path}:\n{self.log_tail()}")

    def memory_kib(self) -> dict[str, int]:
        """VmRSS (resident now) and VmHWM (peak resident) from /proc/<pid>/status, in KiB."""
        fields: dict[str, int] = {}
        for line in Path(f"/proc/{self.pid}/status").read_text(encoding="utf-8").splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0])
        return fields

    def cpu_seconds(self) -> float:
        """User plus system CPU time of all the bridge's threads, from /proc/<pid>/stat."""
        stat = Path(f"/proc/{self.pid}/stat").read_text(encoding="utf-8")
        # The command name in brackets may contain spaces; the fields after it are fixed.
        fields = stat.rsplit(")", 1)[1].split()
        utime, stime = int(fields[11]), int(fields[12])
        return (utime + stime) / os.sysconf("SC_CLK_TCK")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace")
                             .splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 15.0) -> None:
        """Send SIGTERM to this process only and wait; SIGKILL if it does not exit in time."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def wait_for_first_poll(recorder: MqttRecorder, bridge: BridgeProcess, *, cameras: int,
                        timeout: float) -> Received:
    """Wait for ``bridge/info`` that reports a finished poll with all cameras."""
    info_topic = f"{BASE_TOPIC}/bridge/info"

    def done(message: Received) -> bool:
        if message.topic != info_topic:
            return False
        info = message.json()
        return info.get("last_poll") is not None and info.get("cameras") == cameras

    deadline = time.monotonic() + timeout
    while True:
        bridge.check_running()
        try:
            return recorder.wait_for(done, timeout=min(1.0, max(deadline - time.monotonic(), 0.01)),
                                     description="bridge/info after the first poll")
        except TimeoutError:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the bridge did not finish its first poll in {timeout:g} s; "
                                   f"log tail:\n{bridge.log_tail()}") from None
