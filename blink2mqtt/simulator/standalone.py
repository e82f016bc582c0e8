"""Run the local Blink cloud in the foreground until SIGINT or SIGTERM."""

from __future__ import annotations

import signal
import threading
from types import FrameType

from blink2mqtt.simulator.cloud import LocalBlinkCloud
from blink2mqtt.simulator.demo_account import DEMO_EMAIL, DEMO_PASSWORD, DEMO_PIN


def run_standalone(host: str, port: int, *, require_2fa: bool = False) -> None:
    """Start the demo account on ``host:port``, print how to reach it, and serve until a signal.

    Must be called from the main thread, because it installs the signal handlers.
    """
    stop_requested = threading.Event()

    def request_stop(signal_number: int, frame: FrameType | None) -> None:
        stop_requested.set()

    previous_handlers = {
        signal.SIGINT: signal.signal(signal.SIGINT, request_stop),
        signal.SIGTERM: signal.signal(signal.SIGTERM, request_stop),
    }
    cloud = LocalBlinkCloud(host, port, require_2fa=require_2fa).start()
    try:
        print("Local Blink cloud running.", flush=True)
        print(f"  OAuth URL:          {cloud.oauth_url}")
        print(f"  REST prod URL:      {cloud.rest_prod_url}")
        print(f"  REST tier template: {cloud.tier_url_template}  (tier {cloud.tier}, account {cloud.account_id})")
        print(f"  Email:              {DEMO_EMAIL}")
        print(f"  Password:           {DEMO_PASSWORD}")
        print(f"  2FA PIN:            {DEMO_PIN}  (2FA {'required' if require_2fa else 'not required'})")
        print(f"  Control API:        {cloud.control_url}/  (GET state, GET requests, POST <method>)")
        print("Press Ctrl+C to stop.", flush=True)
        while not stop_requested.wait(0.5):
            pass
    finally:
        cloud.stop()
        for signal_number, handler in previous_handlers.items():
            signal.signal(signal_number, handler)
        print("Local Blink cloud stopped.", flush=True)
