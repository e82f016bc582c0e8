"""Count the Blink requests of blinkpy's start-up and refresh against the local Blink cloud.

It runs in a separate virtual environment that has blinkpy (from PyPI) and blink2mqtt (for
the local cloud). requests_per_poll.py starts it and puts its figures next to blink2mqtt's.
blinkpy is not a dependency of blink2mqtt.

blinkpy builds its URLs from module constants (blinkpy/helpers/constants.py, imported by
name into blinkpy/api.py and as default arguments in blinkpy/auth.py) and from
blinkpy.helpers.util.BlinkURLHandler. This script repoints each of them at the local cloud
before blinkpy sends anything, and the aiohttp connector below rejects any host other than
127.0.0.1, so a URL that was missed fails the run instead of reaching Blink.

    /tmp/bench-blinkpy/bin/python bench/blinkpy_requests.py --networks 2 --cameras 10
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
import blinkpy.api
import blinkpy.auth
import blinkpy.camera
import blinkpy.helpers.util
from blinkpy.auth import Auth
from blinkpy.blinkpy import Blink
from blinkpy.helpers.constants import __version__ as BLINKPY_VERSION

from blink2mqtt.simulator import DEMO_EMAIL, DEMO_PASSWORD, LocalBlinkCloud
from common import build_account, count_by_endpoint, failed_requests, is_login_request, write_json

LOOPBACK_HOST = "127.0.0.1"
# URLs on other hosts that blinkpy tried to reach and the connector rejected; must stay empty.
REJECTED_URLS: list[str] = []


class LoopbackOnlyConnector(aiohttp.TCPConnector):
    """Opens connections to 127.0.0.1 only; any other host raises before a socket is opened."""

    async def connect(self, req: Any, traces: Any, timeout: Any) -> Any:
        if req.url.host != LOOPBACK_HOST:
            REJECTED_URLS.append(str(req.url))
            raise RuntimeError(f"rejected a request to {req.url}: this benchmark may only reach "
                               f"the local Blink cloud on {LOOPBACK_HOST}")
        return await super().connect(req, traces, timeout)


def point_blinkpy_at(cloud: LocalBlinkCloud) -> dict[str, str]:
    """Replace every Blink URL that blinkpy uses with the local cloud's; return them for the record."""
    oauth = cloud.oauth_url
    urls = {
        "OAUTH_AUTHORIZE_URL": f"{oauth}/oauth/v2/authorize",
        "OAUTH_SIGNIN_URL": f"{oauth}/oauth/v2/signin",
        "OAUTH_2FA_VERIFY_URL": f"{oauth}/oauth/v2/2fa/verify",
        "OAUTH_TOKEN_URL": f"{oauth}/oauth/token",
    }
    for name, url in urls.items():
        setattr(blinkpy.api, name, url)

    tier_endpoint = f"{cloud.rest_prod_url}/api/v1/users/tier_info"
    blinkpy.auth.Auth.get_tier_info.__defaults__ = (tier_endpoint,)
    # The legacy password login; blinkpy's OAuth v2 flow does not call it, but it must not reach Blink.
    blinkpy.auth.Auth.login.__defaults__ = (f"{oauth}/oauth/token", False)
    urls["Auth.get_tier_info"] = tier_endpoint

    template = cloud.tier_url_template
    real_handler = blinkpy.helpers.util.BlinkURLHandler

    class LocalURLHandler(real_handler):  # type: ignore[misc, valid-type]
        def __init__(self, region_id: str) -> None:
            super().__init__(region_id)
            self.base_url = template.format(tier=region_id)
            self.home_url = f"{self.base_url}/homescreen"
            self.event_url = f"{self.base_url}/events/network"
            self.network_url = f"{self.base_url}/network"
            self.networks_url = f"{self.base_url}/networks"
            self.video_url = f"{self.base_url}/api/v2/videos"

    blinkpy.helpers.util.BlinkURLHandler = LocalURLHandler
    urls["BlinkURLHandler.base_url"] = template

    # blinkpy joins an absolute thumbnail path onto the tier host's root. The local cloud
    # serves each host under a path prefix, so the join keeps that prefix instead.
    def join_below_prefix(base: str, path: str) -> str:
        if path.startswith("/"):
            return base.rstrip("/") + path
        return urljoin(base, path)

    blinkpy.camera.urljoin = join_below_prefix

    for name, url in urls.items():
        host = urlsplit(url.replace("{tier}", "tier")).hostname
        if host != LOOPBACK_HOST:
            raise SystemExit(f"{name} points at {url}, not at {LOOPBACK_HOST}; not running blinkpy")
    return urls


def cycle_record(cloud: LocalBlinkCloud, **extra: Any) -> dict[str, Any]:
    entries = cloud.requests
    cloud.clear_requests()
    return {"requests": len(entries), "by_endpoint": count_by_endpoint(entries),
            "failed": failed_requests(entries), **extra}


async def measure(cloud: LocalBlinkCloud, *, networks: int, cameras: int,
                  refresh_rate: float) -> dict[str, Any]:
    account = build_account(cloud, networks=networks, cameras=cameras)
    urls = point_blinkpy_at(cloud)
    session = aiohttp.ClientSession(connector=LoopbackOnlyConnector(),
                                    # aiohttp drops cookies set by an IP-address host unless unsafe=True,
                                    # and the OAuth sign-in needs its session cookie.
                                    cookie_jar=aiohttp.CookieJar(unsafe=True))
    results: dict[str, Any] = {"blinkpy_version": BLINKPY_VERSION, "networks": networks,
                               "cameras": cameras, "refresh_rate": refresh_rate, "urls": urls}
    try:
        blink = Blink(session=session, refresh_rate=refresh_rate)
        blink.auth = Auth({"username": DEMO_EMAIL, "password": DEMO_PASSWORD},
                          no_prompt=True, session=session)
        started = time.monotonic()
        if not await blink.start():
            raise SystemExit("blinkpy could not sign in to or set up the local Blink cloud")
        results["start_seconds"] = round(time.monotonic() - started, 3)
        entries = cloud.requests
        cloud.clear_requests()
        login = [entry for entry in entries if is_login_request(entry)]
        setup = [entry for entry in entries if not is_login_request(entry)]
        results["login"] = {"requests": len(login), "by_endpoint": count_by_endpoint(login)}
        results["startup"] = {"requests": len(setup), "by_endpoint": count_by_endpoint(setup),
                              "failed": failed_requests(setup)}
        results["cameras_found"] = len(blink.cameras)

        await blink.refresh(force=True)
        results["forced_refresh"] = cycle_record(cloud)

        # A refresh without force runs only once refresh_rate has passed since the last one.
        await asyncio.sleep(refresh_rate + 0.5)
        ran = await blink.refresh()
        results["quiet"] = cycle_record(cloud, refreshed=ran)

        first_camera = blink.cameras[f"Camera {1:04d}"]
        # blinkpy counts a clip as new only when its created_at second is later than the
        # second of the last refresh, so the clip is made in the next second.
        await asyncio.sleep(1.1)
        cloud.trigger_motion(account.camera_ids[0])
        await asyncio.sleep(refresh_rate + 0.5)
        ran = await blink.refresh()
        results["new_clip"] = cycle_record(cloud, refreshed=ran,
                                           motion_detected=bool(first_camera.motion_detected))

        await asyncio.sleep(refresh_rate + 0.5)
        ran = await blink.refresh()
        results["quiet_after_clip"] = cycle_record(cloud, refreshed=ran)
    finally:
        await session.close()
    results["rejected_urls"] = list(REJECTED_URLS)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--networks", type=int, default=2, help="sync-module networks in the account")
    parser.add_argument("--cameras", type=int, default=10, help="classic cameras in the account")
    parser.add_argument("--refresh-rate", type=float, default=5.0,
                        help="blinkpy refresh_rate in seconds (its default is 30); "
                             "the benchmark waits this long before each non-forced refresh")
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)

    with LocalBlinkCloud(port=0, demo=False, command_polls_to_complete=0) as cloud:
        results = asyncio.run(measure(cloud, networks=args.networks, cameras=args.cameras,
                                      refresh_rate=args.refresh_rate))
    write_json(args.json, results)
    if REJECTED_URLS:
        print(f"blinkpy tried to reach hosts other than {LOOPBACK_HOST}: {REJECTED_URLS}",
              file=sys.stderr)
        return 3
    for name in ("login", "startup", "forced_refresh", "quiet", "new_clip", "quiet_after_clip"):
        print(f"{name:18} {results[name]['requests']:5d} requests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
