"""A private MQTT broker on a free loopback port, for the demo and the tests.

mosquitto is used where it is installed. Without it, the demo falls back to
amqtt, a pure-Python broker installed with the ``embedded-broker`` extra.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import threading
import socket
import subprocess
import tempfile
import time
from pathlib import Path

_LOGGER = logging.getLogger(__name__)

MOSQUITTO_SEARCH_PATHS = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto",
                          "/opt/homebrew/sbin/mosquitto")


class BrokerUnavailableError(RuntimeError):
    """No mosquitto binary was found or it did not start."""


def find_mosquitto() -> str | None:
    found = shutil.which("mosquitto")
    if found:
        return found
    return next((path for path in MOSQUITTO_SEARCH_PATHS if Path(path).is_file()), None)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_is_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class PrivateBroker:
    """Runs mosquitto on 127.0.0.1 with its own config; stop() ends it by PID."""

    def __init__(self, port: int | None = None, *, persistence: bool = False,
                 data_dir: Path | None = None) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.persistence = persistence
        self._own_dir = tempfile.TemporaryDirectory(prefix="blink2mqtt-broker-")
        self.data_dir = data_dir or Path(self._own_dir.name)
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> PrivateBroker:
        binary = find_mosquitto()
        if binary is None:
            raise BrokerUnavailableError(
                "mosquitto is not installed; install it (e.g. 'apt-get install mosquitto') "
                "or configure mqtt.host to point at your broker")
        config_path = self.data_dir / "mosquitto.conf"
        lines = [f"listener {self.port} {self.host}", "allow_anonymous true",
                 f"persistence {'true' if self.persistence else 'false'}",
                 f"persistence_location {self.data_dir}/", "log_type error", "log_type warning",
                 # mosquitto's default of 1000 queued messages per client drops part of
                 # the start-up burst of a large account for a slow subscriber.
                 "max_queued_messages 100000", "set_tcp_nodelay true"]
        config_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        log_file = open(self.data_dir / "mosquitto.log", "ab")
        self._process = subprocess.Popen([binary, "-c", str(config_path)],
                                         stdout=log_file, stderr=log_file)
        log_file.close()

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise BrokerUnavailableError(
                    f"mosquitto exited with code {self._process.returncode}; "
                    f"see {self.data_dir / 'mosquitto.log'}")
            if port_is_open(self.host, self.port, timeout=0.2):
                _LOGGER.debug("Private mosquitto listening on %s:%s", self.host, self.port)
                return self
            time.sleep(0.05)
        self.stop()
        raise BrokerUnavailableError(f"mosquitto did not listen on port {self.port} in {timeout} s")

    def stop(self) -> None:
        process = self._process
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        self._process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        self._own_dir.cleanup()

    def __enter__(self) -> PrivateBroker:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class EmbeddedBroker:
    """amqtt running in a thread of its own, for machines without mosquitto."""

    def __init__(self, port: int | None = None) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broker: object | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None

    @staticmethod
    def available() -> bool:
        try:
            import amqtt.broker  # noqa: F401
        except ImportError:
            return False
        return True

    def start(self, timeout: float = 10.0) -> EmbeddedBroker:
        if not self.available():
            raise BrokerUnavailableError(
                "neither mosquitto nor amqtt is installed; install mosquitto "
                "(apt-get install mosquitto) or pip install 'blink2mqtt[embedded-broker]'")
        self._thread = threading.Thread(target=self._run, name="embedded-broker", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout) or self._error is not None:
            raise BrokerUnavailableError(f"the embedded broker did not start: {self._error}")
        return self

    def _run(self) -> None:
        from amqtt.broker import Broker

        async def serve() -> None:
            config = {
                "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
                "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin":
                            {"allow_anonymous": True}},
            }
            broker = Broker(config)
            await broker.start()
            self._broker = broker
            self._loop = asyncio.get_running_loop()
            self._stop_event = asyncio.Event()
            self._started.set()
            await self._stop_event.wait()
            await broker.shutdown()

        try:
            asyncio.run(serve())
        except BaseException as err:  # reported by start()
            self._error = err
            self._started.set()

    def stop(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop_event.set)
        if self._thread is not None:
            self._thread.join(10)

    close = stop
