"""HTTP plumbing: a loopback-only ThreadingHTTPServer running on a daemon thread."""

from __future__ import annotations

import ipaddress
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from blink2mqtt.simulator.dispatch import Dispatcher
from blink2mqtt.simulator.http_types import SimResponse

logger = logging.getLogger(__name__)

# Benchmarks open many connections at once, and the socketserver default backlog of 5 drops some.
LISTEN_BACKLOG = 256
# serve_forever checks for shutdown this often. The default of 0.5 s makes every stop() slow.
SHUTDOWN_POLL_SECONDS = 0.02


def require_loopback(host: str) -> str:
    """Return the address to bind, raising ValueError for anything but a loopback address."""
    address = "127.0.0.1" if host == "localhost" else host
    try:
        is_loopback = ipaddress.ip_address(address).is_loopback
    except ValueError:
        is_loopback = False
    if not is_loopback:
        raise ValueError(f"invalid host {host!r}: the simulator listens only on a loopback address such as 127.0.0.1")
    return address


class _SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG
    allow_reuse_address = True


def _handler_class(dispatcher: Dispatcher) -> type[BaseHTTPRequestHandler]:
    class SimulatorRequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes. Without TCP_NODELAY, Nagle's
        # algorithm and delayed ACKs added about 40 ms to every response (measured on Linux loopback).
        disable_nagle_algorithm = True

        def _handle(self) -> None:
            length_header = self.headers.get("Content-Length")
            try:
                length = int(length_header) if length_header else 0
            except ValueError:
                length = 0
            body = self.rfile.read(length) if length > 0 else b""
            headers = {name.lower(): value for name, value in self.headers.items()}
            response = dispatcher.dispatch(self.command, self.path, headers, body)
            self._send(response)

        def _send(self, response: SimResponse) -> None:
            try:
                self.send_response_only(response.status)
                self.send_header("Server", response.server)
                self.send_header("Date", self.date_time_string())
                self.send_header("Content-Type", response.content_type)
                self.send_header("Content-Length", str(len(response.body)))
                for name, value in response.headers:
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(response.body)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up, e.g. its timeout expired during an injected delay.
                logger.debug(
                    "client closed the connection before the response to %s %s was sent", self.command, self.path
                )
                self.close_connection = True

        do_GET = _handle
        do_POST = _handle
        do_PUT = _handle
        do_DELETE = _handle
        do_PATCH = _handle
        do_HEAD = _handle

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature fixed by the base class
            logger.debug("%s %s", self.address_string(), format % args)

    return SimulatorRequestHandler


class SimulatorServer:
    """Owns the listening socket and the thread running serve_forever."""

    def __init__(self, host: str, port: int, dispatcher: Dispatcher, stop_event: threading.Event) -> None:
        self._address = (require_loopback(host), port)
        self._dispatcher = dispatcher
        self._stop_event = stop_event
        self._server: _SimulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def host(self) -> str:
        return self._address[0]

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the simulator is not running: call start() before reading its port")
        return int(self._server.server_address[1])

    def start(self) -> None:
        if self._server is not None:
            return
        self._stop_event.clear()
        self._server = _SimulatorHTTPServer(self._address, _handler_class(self._dispatcher))
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            args=(SHUTDOWN_POLL_SECONDS,),
            name=f"local-blink-cloud:{self.port}",
            daemon=True,
        )
        self._thread.start()
        logger.info("local Blink cloud listening on http://%s:%d", self.host, self.port)

    def stop(self) -> None:
        if self._server is None:
            return
        port = self.port
        self._stop_event.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None
        logger.info("local Blink cloud on port %d stopped", port)
