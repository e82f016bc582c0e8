"""Requests the bridge sends to Blink while the account is failing: auth errors and 429s.

Blink locks or flags accounts that sign in over and over or keep calling after a 429.
The bridge therefore must not sign in by itself, must back off from a failing token
endpoint, and must send nothing before a Retry-After has passed. Three scenarios, each
with a fresh local Blink cloud, a private mosquitto and the bridge as its own process:

- persistent auth failure: the refresh token is revoked and the access token expired,
  for one simulated day;
- token endpoint failing: the access token expired and POST /oauth/token returns
  HTTP 503, for one simulated day, then the fault is cleared and the recovery timed;
- 429 storm: GET homescreen answers 429 with Retry-After many times in a row, and the
  storm runs ``--storm-runs`` times.

Time runs compressed for the first two: with ``--scale 1000`` a poll interval of 60 s
runs as 0.06 s and ``bridge.failure_backoff_max`` of 900 s (its default) as 0.9 s, so a
simulated day takes 86.4 s. Retry-After is sent in whole seconds, so the storm runs in
real time. Each day runs twice, once with the poll timer alone and once with a network
command published every ``--command-every`` simulated seconds as well.

    python bench/account_safety.py --json /tmp/account_safety.json
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, Callable

from blink2mqtt.broker import PrivateBroker
from blink2mqtt.simulator import LocalBlinkCloud
from common import (
    BASE_TOPIC,
    BridgeProcess,
    MqttRecorder,
    build_account,
    bridge_config,
    count_by_endpoint,
    endpoint_of,
    load_average,
    machine_info,
    wait_for_first_poll,
    write_json,
)

DEFAULT_SCALE = 1000.0
POLL_INTERVAL_SIMULATED = 60.0
# bridge.failure_backoff_max's default in blink2mqtt/config.py.
BACKOFF_MAX_SIMULATED = 900.0
DAY_SIMULATED = 86400.0
HOUR_SIMULATED = 3600.0
DEFAULT_COMMAND_INTERVAL_SIMULATED = 600.0
NETWORKS = 1
CAMERAS = 2
TOKEN_PATH = r"/oauth/token$"
HOMESCREEN_PATH = r"/homescreen$"
# The storm: (Retry-After in seconds, number of 429 responses in a row), in this order.
STORM = ((1, 20), (3, 5))
# An early request depends on a race between a command and the poll, so the storm repeats.
DEFAULT_STORM_RUNS = 4
# Seconds between the commands published during the storm.
STORM_COMMAND_INTERVAL_SECONDS = 0.25


def is_token_request(entry: Any) -> bool:
    return entry.host == "oauth" and entry.path.endswith("/oauth/token")


def is_signin_request(entry: Any) -> bool:
    return entry.host == "oauth" and entry.path.endswith("/oauth/v2/signin")


class BridgeUnderTest:
    """A local cloud, a private mosquitto and a bridge signed in and past its first poll."""

    def __init__(self, scale: float) -> None:
        self.scale = scale
        self._temp = tempfile.TemporaryDirectory(prefix="bench-safety-")
        self.workdir = Path(self._temp.name)
        self.cloud = LocalBlinkCloud(port=0, demo=False)
        self.broker = PrivateBroker()
        self.recorder: MqttRecorder | None = None
        self.bridge: BridgeProcess | None = None
        self.network_id = 0

    def __enter__(self) -> BridgeUnderTest:
        try:
            self.cloud.start()
            self.broker.start()
            account = build_account(self.cloud, networks=NETWORKS, cameras=CAMERAS)
            self.network_id = account.network_ids[0]
            self.recorder = MqttRecorder(self.broker.host, self.broker.port,
                                         subscribe=(f"{BASE_TOPIC}/bridge/#",
                                                    f"{BASE_TOPIC}/+/+/response"))
            config = bridge_config(
                self.cloud, self.broker, self.workdir,
                bridge={"poll_interval": POLL_INTERVAL_SIMULATED / self.scale,
                        "failure_backoff_max": BACKOFF_MAX_SIMULATED / self.scale},
                blink={"command_poll_interval": 0.05, "busy_retry_delays": [0.2]})
            self.bridge = BridgeProcess(config, self.workdir).start()
            wait_for_first_poll(self.recorder, self.bridge, cameras=CAMERAS, timeout=60)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.bridge is not None:
            self.bridge.stop()
        if self.recorder is not None:
            self.recorder.close()
        self.broker.close()
        self.cloud.stop()
        self._temp.cleanup()

    def run_for(self, simulated_seconds: float, *, command_every: float | None,
                until: Callable[[], bool] | None = None) -> dict[str, Any]:
        """Wait ``simulated_seconds``, publishing a network command every ``command_every``.

        Returns the command responses by final status and reason. With ``until``, the wait
        ends early once it returns True.
        """
        assert self.recorder is not None and self.bridge is not None
        mark = self.recorder.mark()
        end = time.monotonic() + simulated_seconds / self.scale
        next_command = time.monotonic() if command_every is not None else math.inf
        sent = 0
        while time.monotonic() < end:
            if until is not None and until():
                break
            if time.monotonic() >= next_command:
                self.publish_command(f"cmd-{sent}", armed=sent % 2 == 0)
                sent += 1
                next_command += command_every / self.scale
            time.sleep(min(0.01, max(0.0, end - time.monotonic())))
        self.bridge.check_running()
        return {"commands_sent": sent, "command_results": self.command_results(mark)}

    def publish_command(self, transaction: str, *, armed: bool) -> None:
        assert self.recorder is not None
        self.recorder.publish(f"{BASE_TOPIC}/network/{self.network_id}/set",
                              {"armed": armed, "transaction": transaction})

    def command_results(self, mark: int) -> dict[str, int]:
        """Count final command responses since ``mark`` as ``ok`` or ``error:<reason>``."""
        assert self.recorder is not None
        results: Counter[str] = Counter()
        for message in self.recorder.since(mark):
            if not message.topic.endswith("/response"):
                continue
            payload = message.json()
            if payload.get("status") == "ok":
                results["ok"] += 1
            elif payload.get("status") == "error":
                results[f"error:{payload.get('reason')}"] += 1
        return dict(sorted(results.items()))

    def auth_state(self) -> str | None:
        """Return the state of the last ``bridge/auth`` message."""
        assert self.recorder is not None
        topic = f"{BASE_TOPIC}/bridge/auth"
        states = [message.json().get("state") for message in self.recorder.since(0)
                  if message.topic == topic]
        return states[-1] if states else None


# Backoff schedule --------------------------------------------------------------------------


def nominal_attempts_per_hour(interval: float, backoff_max: float, duration: float) -> list[int]:
    """Count the attempts per hour of a poll that fails from time 0 on, under the backoff rule.

    The n-th consecutive failure waits ``interval * 2**(n - 1)``, capped at
    ``max(backoff_max, interval)``. The first attempt is at 0, the earliest it can be.
    """
    times = [0.0]
    failures = 0
    while True:
        failures += 1
        delay = min(interval * 2 ** min(failures - 1, 16), max(backoff_max, interval))
        if times[-1] + delay >= duration:
            break
        times.append(times[-1] + delay)
    return per_hour(times, duration)


def per_hour(simulated_times: list[float], duration: float) -> list[int]:
    hours = [0] * max(1, math.ceil(duration / HOUR_SIMULATED))
    for moment in simulated_times:
        index = int(moment // HOUR_SIMULATED)
        if 0 <= index < len(hours):
            hours[index] += 1
    return hours


def summarize_day(entries: list[Any], start: float, scale: float, duration: float, *,
                  signins_before: int, signins_after: int) -> dict[str, Any]:
    """Count sign-ins, token requests per simulated hour and every other request of one day."""
    token_times = [(entry.time - start) * scale for entry in entries if is_token_request(entry)]
    others = [entry for entry in entries if not is_token_request(entry)]
    return {
        "signins": signins_after - signins_before,
        "signin_requests_logged": sum(1 for entry in entries if is_signin_request(entry)),
        "token_requests": len(token_times),
        "token_statuses": dict(sorted(Counter(str(entry.status) for entry in entries
                                              if is_token_request(entry)).items())),
        "other_requests": len(others),
        "other_by_endpoint": {f"{endpoint} -> {status}": count for (endpoint, status), count in
                              sorted(Counter((endpoint_of(entry.method, entry.host, entry.path),
                                              entry.status) for entry in others).items())},
        "token_requests_per_hour": per_hour(token_times, duration),
    }


# Scenarios -------------------------------------------------------------------------------


def persistent_auth_failure(scale: float, day: float,
                            command_every: float | None) -> dict[str, Any]:
    """Measure ``day`` simulated seconds with the refresh token revoked and the access
    token expired."""
    with BridgeUnderTest(scale) as setup:
        cloud = setup.cloud
        signins_before = cloud.signins
        cloud.clear_requests()
        start = time.time()
        cloud.revoke_refresh_tokens()
        cloud.expire_tokens()
        commands = setup.run_for(day, command_every=command_every)
        entries = cloud.requests
        result = summarize_day(entries, start, scale, day, signins_before=signins_before,
                               signins_after=cloud.signins)
        result.update(commands)
        result["auth_state_at_end"] = setup.auth_state()
        result["simulated_seconds"] = day
    return result


def token_endpoint_failing(scale: float, day: float, command_every: float | None) -> dict[str, Any]:
    """Measure ``day`` simulated seconds of an expired access token and HTTP 503 from the
    token endpoint, then the recovery once the endpoint works again."""
    with BridgeUnderTest(scale) as setup:
        cloud = setup.cloud
        signins_before = cloud.signins
        cloud.clear_requests()
        start = time.time()
        cloud.expire_tokens()
        cloud.inject_fault(TOKEN_PATH, "status", count=1_000_000, status=503)
        commands = setup.run_for(day, command_every=command_every)
        entries = cloud.requests
        result = summarize_day(entries, start, scale, day, signins_before=signins_before,
                               signins_after=cloud.signins)
        result.update(commands)
        result["simulated_seconds"] = day
        result["auth_state_during_fault"] = setup.auth_state()

        # Recovery: the next attempt after the fault is cleared refreshes and polls again.
        cloud.clear_faults()
        cleared_at = time.time()
        seen = len(entries)

        def recovered() -> bool:
            return any(entry.path.endswith("/homescreen") and entry.status == 200
                       for entry in cloud.requests[seen:])

        setup.run_for(2 * BACKOFF_MAX_SIMULATED + POLL_INTERVAL_SIMULATED, command_every=None,
                      until=recovered)
        after = cloud.requests[seen:]
        first_ok = next((entry for entry in after
                         if entry.path.endswith("/homescreen") and entry.status == 200), None)
        result["recovery"] = {
            "simulated_seconds_to_first_poll": None if first_ok is None
            else round((first_ok.time - cleared_at) * scale, 1),
            "token_requests": sum(1 for entry in after if is_token_request(entry)),
            "signins": cloud.signins - signins_before,
        }
    return result


def rate_limit_storm() -> dict[str, Any]:
    """Run one storm of 429s with Retry-After on the homescreen while commands are published.

    A request counts as early when the cloud logged it after a 429 and before that 429's
    Retry-After had passed. The log records the time each response was ready, so a request
    arrived up to its handling time (about 1 ms here) before its entry. A request that the
    bridge sent before it read the 429 counts as early too, because the log cannot tell.
    """
    # Retry-After is in real seconds. The scale only sets the poll interval between 429s.
    with BridgeUnderTest(DEFAULT_SCALE) as setup:
        cloud = setup.cloud
        signins_before = cloud.signins
        cloud.clear_requests()
        for retry_after, count in STORM:
            cloud.inject_fault(HOMESCREEN_PATH, "rate_limit", count=count, retry_after=retry_after)
        expected_429 = sum(count for _, count in STORM)
        storm_seconds = sum(retry_after * count for retry_after, count in STORM)

        def storm_over() -> bool:
            return cloud.count_requests(path_regex=HOMESCREEN_PATH) > expected_429

        mark = setup.recorder.mark() if setup.recorder else 0
        sent = 0
        deadline = time.monotonic() + storm_seconds + 30
        while not storm_over() and time.monotonic() < deadline:
            setup.publish_command(f"storm-{sent}", armed=sent % 2 == 0)
            sent += 1
            time.sleep(STORM_COMMAND_INTERVAL_SECONDS)
        time.sleep(1.0)
        entries = sorted(cloud.requests, key=lambda entry: entry.time)
        command_results = setup.command_results(mark)
        signins = cloud.signins - signins_before

    limited = [entry for entry in entries if entry.status == 429]
    retry_afters = [retry_after for retry_after, count in STORM for _ in range(count)]
    early: list[dict[str, Any]] = []
    gaps: list[float] = []
    for entry, retry_after in zip(limited, retry_afters):
        later = [other for other in entries if other.time > entry.time]
        for other in later:
            if other.time < entry.time + retry_after:
                early.append({"after_429_ms": round((other.time - entry.time) * 1000, 1),
                              "retry_after_s": retry_after,
                              "request": endpoint_of(other.method, other.host, other.path)})
        if later:
            gaps.append(later[0].time - entry.time - retry_after)
    return {
        "storm": [{"retry_after_s": retry_after, "responses": count}
                  for retry_after, count in STORM],
        "responses_429": len(limited),
        "requests": len(entries),
        "by_endpoint": count_by_endpoint(entries),
        "commands_sent": sent,
        "command_results": command_results,
        "requests_before_retry_after_expired": len(early),
        "early_requests": early[:20],
        "margin_after_retry_after_ms": {
            "min": round(min(gaps) * 1000, 1) if gaps else None,
            "max": round(max(gaps) * 1000, 1) if gaps else None,
        },
        "signins": signins,
    }


def rate_limit_storms(runs: int) -> dict[str, Any]:
    """Run the 429 storm ``runs`` times, because an early request depends on a race."""
    results = [rate_limit_storm() for _ in range(runs)]
    return {
        "runs": results,
        "requests_before_retry_after_expired": sum(
            run["requests_before_retry_after_expired"] for run in results),
        "runs_with_early_requests": sum(
            1 for run in results if run["requests_before_retry_after_expired"]),
        "signins": sum(run["signins"] for run in results),
    }


# Report ----------------------------------------------------------------------------------


def evaluate(results: dict[str, Any]) -> dict[str, Any]:
    nominal = results["nominal_token_requests_per_hour"]
    nominal_first, nominal_rest = nominal[0], max(nominal[1:], default=0)
    checks = []
    for variant, day in results["persistent_auth_failure"].items():
        checks.append({"name": f"persistent_auth_failure.{variant}: sign-ins 0",
                       "figure": day["signins"], "met": day["signins"] == 0})
        checks.append({"name": f"persistent_auth_failure.{variant}: token requests at most 1",
                       "figure": day["token_requests"], "met": day["token_requests"] <= 1})
    for variant, day in results["token_endpoint_503"].items():
        hours = day["token_requests_per_hour"]
        checks.append({"name": f"token_endpoint_503.{variant}: sign-ins 0",
                       "figure": day["signins"], "met": day["signins"] == 0})
        checks.append({
            "name": f"token_endpoint_503.{variant}: token requests per hour within the backoff "
                    f"({nominal_first} in the first hour, {nominal_rest} later)",
            "figure": {"first_hour": hours[0], "later_hours_max": max(hours[1:], default=0)},
            "met": hours[0] <= nominal_first and max(hours[1:], default=0) <= nominal_rest})
        recovery = day["recovery"]["simulated_seconds_to_first_poll"]
        checks.append({"name": f"token_endpoint_503.{variant}: recovers within "
                               f"{BACKOFF_MAX_SIMULATED + POLL_INTERVAL_SIMULATED:g} s",
                       "figure": recovery,
                       "met": recovery is not None
                       and recovery <= BACKOFF_MAX_SIMULATED + POLL_INTERVAL_SIMULATED})
    storm = results["rate_limit_storm"]
    checks.append({"name": f"rate_limit_storm: requests before Retry-After expired 0 "
                           f"in {len(storm['runs'])} runs",
                   "figure": storm["requests_before_retry_after_expired"],
                   "met": storm["requests_before_retry_after_expired"] == 0})
    checks.append({"name": "rate_limit_storm: sign-ins 0", "figure": storm["signins"],
                   "met": storm["signins"] == 0})
    return {"description": "no sign-ins, token requests within the backoff, nothing sent "
                           "before Retry-After", "checks": checks,
            "met": all(check["met"] for check in checks)}


def print_results(results: dict[str, Any]) -> None:
    settings = results["settings"]
    print(f"scale x{settings['scale']:g}: poll interval {POLL_INTERVAL_SIMULATED:g} s simulated = "
          f"{settings['poll_interval_real_s']:g} s, failure_backoff_max "
          f"{BACKOFF_MAX_SIMULATED:g} s = {settings['failure_backoff_max_real_s']:g} s; "
          f"a command every {settings['command_every_simulated_s']:g} s simulated in the "
          "'with_commands' runs")
    print(f"nominal token requests per hour under the backoff: "
          f"{results['nominal_token_requests_per_hour']}")
    for name in ("persistent_auth_failure", "token_endpoint_503"):
        for variant, day in results[name].items():
            print(f"\n{name}, {variant} ({day['simulated_seconds'] / 3600:g} simulated hours)")
            print(f"  sign-ins {day['signins']}, token requests {day['token_requests']} "
                  f"{day['token_statuses']}, other requests {day['other_requests']}")
            print(f"  token requests per hour: {day['token_requests_per_hour']}")
            print(f"  other requests: {day['other_by_endpoint']}")
            print(f"  commands sent {day['commands_sent']}: {day['command_results']}")
            if "recovery" in day:
                print(f"  recovery: {day['recovery']}")
            if "auth_state_at_end" in day:
                print(f"  bridge/auth state at the end: {day['auth_state_at_end']}")
    for index, storm in enumerate(results["rate_limit_storm"]["runs"], start=1):
        print(f"\nrate_limit_storm run {index} {storm['storm']}: {storm['responses_429']} "
              f"responses 429, {storm['requests']} requests, commands sent "
              f"{storm['commands_sent']}: {storm['command_results']}")
        margin = storm["margin_after_retry_after_ms"]
        print(f"  requests before Retry-After expired: "
              f"{storm['requests_before_retry_after_expired']}; next request after Retry-After "
              f"+ {margin['min']} to {margin['max']} ms; sign-ins {storm['signins']}")
        print(f"  by endpoint: {storm['by_endpoint']}")
        if storm["early_requests"]:
            print(f"  early: {storm['early_requests']}")
    print()
    for check in results["target"]["checks"]:
        print(f"  {'met   ' if check['met'] else 'MISSED'} {check['name']}: {check['figure']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--scale", type=float, default=DEFAULT_SCALE,
                        help=f"simulated seconds per real second (default {DEFAULT_SCALE:g})")
    parser.add_argument("--hours", type=float, default=DAY_SIMULATED / HOUR_SIMULATED,
                        help="simulated hours of each faulty period (default 24)")
    parser.add_argument("--command-every", type=float, default=DEFAULT_COMMAND_INTERVAL_SIMULATED,
                        help="simulated seconds between network commands in the runs with "
                             f"commands (default {DEFAULT_COMMAND_INTERVAL_SIMULATED:g})")
    parser.add_argument("--storm-runs", type=int, default=DEFAULT_STORM_RUNS,
                        help=f"how many times to run the 429 storm (default {DEFAULT_STORM_RUNS})")
    args = parser.parse_args()
    if args.scale <= 0 or args.hours <= 0 or args.command_every <= 0 or args.storm_runs < 1:
        parser.error("--scale, --hours, --command-every and --storm-runs must be positive")

    day = args.hours * HOUR_SIMULATED
    load_before = load_average()
    results: dict[str, Any] = {
        "machine": machine_info(),
        "settings": {
            "scale": args.scale,
            "poll_interval_simulated_s": POLL_INTERVAL_SIMULATED,
            "poll_interval_real_s": POLL_INTERVAL_SIMULATED / args.scale,
            "failure_backoff_max_simulated_s": BACKOFF_MAX_SIMULATED,
            "failure_backoff_max_real_s": BACKOFF_MAX_SIMULATED / args.scale,
            "simulated_hours": args.hours,
            "command_every_simulated_s": args.command_every,
            "networks": NETWORKS, "cameras": CAMERAS,
        },
        "nominal_token_requests_per_hour": nominal_attempts_per_hour(
            POLL_INTERVAL_SIMULATED, BACKOFF_MAX_SIMULATED, day),
    }
    results["persistent_auth_failure"] = {
        "timer_only": persistent_auth_failure(args.scale, day, None),
        "with_commands": persistent_auth_failure(args.scale, day, args.command_every),
    }
    results["token_endpoint_503"] = {
        "timer_only": token_endpoint_failing(args.scale, day, None),
        "with_commands": token_endpoint_failing(args.scale, day, args.command_every),
    }
    results["rate_limit_storm"] = rate_limit_storms(args.storm_runs)
    results["load_average"] = {"before": load_before, "after": load_average()}
    results["target"] = evaluate(results)
    print_results(results)
    print(f"load average (1, 5, 15 min) before {load_before}, "
          f"after {results['load_average']['after']}")
    write_json(args.json, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
