"""Local Blink cloud: an HTTP server speaking Blink's OAuth and REST API for tests and demos.

One loopback port serves three simulated hosts by path prefix:
``/hosts/oauth`` (api.oauth.blink.com), ``/hosts/rest-prod`` (rest-prod.immedia-semi.com)
and ``/hosts/rest-<tier>`` (rest-<tier>.immedia-semi.com). The control API lives
under ``/_sim/``.
"""

from blink2mqtt.simulator.cloud import LocalBlinkCloud
from blink2mqtt.simulator.demo_account import DEMO_EMAIL, DEMO_PASSWORD, DEMO_PIN
from blink2mqtt.simulator.dispatch import RecordedRequest
from blink2mqtt.simulator.standalone import run_standalone

__all__ = ["DEMO_EMAIL", "DEMO_PASSWORD", "DEMO_PIN", "LocalBlinkCloud", "RecordedRequest", "run_standalone"]
