"""Tests of the local Blink cloud, driven over real HTTP with httpx."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import secrets
import struct
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from blink2mqtt.simulator import DEMO_EMAIL, DEMO_PASSWORD, DEMO_PIN, LocalBlinkCloud

REDIRECT_URI = "immedia-blink://applinks.blink.com/signin/callback"
ACCOUNT = 74521
HOME = 2101
CABIN = 2102
FRONT_YARD = 4101
DRIVEWAY = 4102
BACK_GARDEN = 4103
KITCHEN_MINI = 5101
CABIN_MINI = 5102
CABIN_DOORBELL = 6101


# Helpers ---------------------------------------------------------------------------------


@pytest.fixture
def make_cloud() -> Iterator[Callable[..., LocalBlinkCloud]]:
    """Start clouds with the given options and stop them after the test."""
    started: list[LocalBlinkCloud] = []

    def start(**options: Any) -> LocalBlinkCloud:
        options.setdefault("command_max_seconds", 5.0)
        cloud = LocalBlinkCloud(**options).start()
        started.append(cloud)
        return cloud

    yield start
    for cloud in started:
        cloud.stop()


@pytest.fixture
def cloud(make_cloud: Callable[..., LocalBlinkCloud]) -> LocalBlinkCloud:
    return make_cloud()


@dataclass
class Pkce:
    verifier: str
    challenge: str


def new_pkce() -> Pkce:
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return Pkce(verifier, challenge)


def authorize_params(pkce: Pkce, hardware_id: str, state: str = "state-123") -> dict[str, str]:
    return {
        "app_brand": "blink",
        "app_version": "50.1",
        "client_id": "ios",
        "code_challenge": pkce.challenge,
        "code_challenge_method": "S256",
        "device_brand": "Apple",
        "device_model": "iPhone16,1",
        "device_os_version": "26.1",
        "hardware_id": hardware_id,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": "client",
        "state": state,
    }


def extract_csrf(html: str) -> str:
    match = re.search(r'<script id="oauth-args" type="application/json">(.*?)</script>', html)
    assert match is not None, f"no oauth-args script in sign-in page: {html[:200]}"
    return str(json.loads(match.group(1))["csrf-token"])


@dataclass
class LoginSession:
    client: httpx.Client
    pkce: Pkce
    hardware_id: str
    csrf: str


def start_login(cloud: LocalBlinkCloud) -> LoginSession:
    """Run authorize (with PKCE) and the sign-in page GET, keeping cookies in the client."""
    client = httpx.Client(base_url=cloud.oauth_url, follow_redirects=False)
    pkce = new_pkce()
    hardware_id = str(uuid.uuid4()).upper()
    response = client.get("/oauth/v2/authorize", params=authorize_params(pkce, hardware_id))
    assert response.status_code == 200
    page = client.get("/oauth/v2/signin")
    assert page.status_code == 200
    return LoginSession(client, pkce, hardware_id, extract_csrf(page.text))


def submit_credentials(session: LoginSession, password: str = DEMO_PASSWORD) -> httpx.Response:
    return session.client.post(
        "/oauth/v2/signin", data={"username": DEMO_EMAIL, "password": password, "csrf-token": session.csrf}
    )


def fetch_code(session: LoginSession) -> str:
    response = session.client.get("/oauth/v2/authorize")
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI + "?")
    return parse_qs(urlsplit(location).query)["code"][0]


def exchange_code(session: LoginSession, code: str, verifier: str | None = None) -> httpx.Response:
    return session.client.post(
        "/oauth/token",
        data={
            "app_brand": "blink",
            "client_id": "ios",
            "code": code,
            "code_verifier": verifier or session.pkce.verifier,
            "grant_type": "authorization_code",
            "hardware_id": session.hardware_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "client",
        },
    )


def login(cloud: LocalBlinkCloud) -> dict[str, Any]:
    """Log in through the whole web flow (entering the PIN if asked) and return the token JSON."""
    session = start_login(cloud)
    signin = submit_credentials(session)
    if signin.status_code in (202, 412):
        verify = session.client.post(
            "/oauth/v2/2fa/verify", data={"2fa_code": DEMO_PIN, "csrf-token": session.csrf, "remember_me": "false"}
        )
        assert verify.status_code == 201
    else:
        assert signin.status_code == 302
    tokens = exchange_code(session, fetch_code(session))
    assert tokens.status_code == 200
    session.client.close()
    return dict(tokens.json())


def refresh(cloud: LocalBlinkCloud, refresh_token: str, client_id: str = "ios") -> httpx.Response:
    return httpx.post(
        f"{cloud.oauth_url}/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": client_id,
            "scope": "client",
            "hardware_id": str(uuid.uuid4()).upper(),
        },
    )


def rest_client(cloud: LocalBlinkCloud, access_token: str | None = None) -> httpx.Client:
    token = access_token or login(cloud)["access_token"]
    return httpx.Client(base_url=cloud.rest_url, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def rest(cloud: LocalBlinkCloud) -> Iterator[httpx.Client]:
    with rest_client(cloud) as client:
        yield client


def homescreen(client: httpx.Client) -> dict[str, Any]:
    response = client.get(f"/api/v3/accounts/{ACCOUNT}/homescreen")
    assert response.status_code == 200
    return dict(response.json())


def find_entry(items: list[dict[str, Any]], item_id: int) -> dict[str, Any]:
    return next(item for item in items if item["id"] == item_id)


def poll_command(client: httpx.Client, network_id: int, command_id: int, max_polls: int = 10) -> dict[str, Any]:
    """Poll command status until complete (or max_polls) and return the last status."""
    status: dict[str, Any] = {}
    for _ in range(max_polls):
        status = client.get(f"/network/{network_id}/command/{command_id}").json()
        if status["complete"]:
            break
    return status


def media_changed(client: httpx.Client, since: str = "1970-01-01T00:00:00+0000", page: int = 1) -> dict[str, Any]:
    response = client.get(f"/api/v1/accounts/{ACCOUNT}/media/changed", params={"since": since, "page": page})
    assert response.status_code == 200
    return dict(response.json())


def since_text(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+0000")


def decode_baseline_jpeg(data: bytes) -> tuple[int, int, int]:
    """Parse a baseline JPEG, Huffman-decode every block of its scan and return (width, height, blocks).

    Checks the marker order, the frame header, the tables and that the scan decodes to
    exactly the number of 8x8 blocks the frame needs, ending at EOI.
    """
    assert data[:2] == b"\xff\xd8", "missing SOI"
    position = 2
    tables: dict[tuple[int, int], dict[tuple[int, int], int]] = {}
    frame: tuple[int, int, list[int]] | None = None
    seen_quantisation = False
    while True:
        assert data[position] == 0xFF, f"expected a marker at byte {position}"
        marker = data[position + 1]
        length = struct.unpack(">H", data[position + 2 : position + 4])[0]
        payload = data[position + 4 : position + 2 + length]
        position += 2 + length
        if marker == 0xDB:
            seen_quantisation = True
        elif marker == 0xC0:
            precision, height, width, count = struct.unpack(">BHHB", payload[:6])
            assert precision == 8
            frame = (width, height, [payload[6 + 3 * i] for i in range(count)])
        elif marker == 0xC4:
            offset = 0
            while offset < len(payload):
                table_class_and_id = payload[offset]
                counts = payload[offset + 1 : offset + 17]
                symbols = payload[offset + 17 : offset + 17 + sum(counts)]
                codes: dict[tuple[int, int], int] = {}
                code = 0
                symbol_index = 0
                for length_index, count in enumerate(counts):
                    for _ in range(count):
                        codes[(code, length_index + 1)] = symbols[symbol_index]
                        symbol_index += 1
                        code += 1
                    code <<= 1
                tables[(table_class_and_id >> 4, table_class_and_id & 0x0F)] = codes
                offset += 17 + sum(counts)
        elif marker == 0xDA:
            break
        else:
            assert marker in (0xE0, 0xFE), f"unexpected marker 0x{marker:02x}"
    assert seen_quantisation, "missing DQT"
    assert frame is not None, "missing SOF0"
    width, height, _ = frame
    component_count = payload[0]
    selectors = [payload[2 + 2 * i] for i in range(component_count)]

    end = data.rindex(b"\xff\xd9")
    assert end == len(data) - 2, "EOI must end the file"
    scan = data[position:end].replace(b"\xff\x00", b"\xff")
    bits = "".join(f"{byte:08b}" for byte in scan)
    cursor = 0

    def read_symbol(table: dict[tuple[int, int], int]) -> int:
        nonlocal cursor
        code = 0
        for length in range(1, 17):
            code = (code << 1) | int(bits[cursor])
            cursor += 1
            if (code, length) in table:
                return table[(code, length)]
        raise AssertionError(f"invalid Huffman code at bit {cursor}")

    blocks = (width // 8) * (height // 8) * component_count
    for block in range(blocks):
        selector = selectors[block % component_count]
        dc_size = read_symbol(tables[(0, selector >> 4)])
        cursor += dc_size
        coefficient = 1
        while coefficient < 64:
            symbol = read_symbol(tables[(1, selector & 0x0F)])
            if symbol == 0x00:
                break
            coefficient += (symbol >> 4) + 1
            cursor += symbol & 0x0F
    assert len(bits) - cursor < 8, "scan data left over after the last block"
    assert set(bits[cursor:]) <= {"1"}, "padding bits must be 1"
    return width, height, blocks


# OAuth --------------------------------------------------------------------------------------


def test_oauth_flow_without_two_factor(cloud: LocalBlinkCloud) -> None:
    session = start_login(cloud)
    assert "blink_oauth_session" in session.client.cookies

    signin = submit_credentials(session)
    assert signin.status_code == 302
    assert signin.headers["location"].endswith("/hosts/oauth/oauth/v2/authorize")

    authorize = session.client.get("/oauth/v2/authorize")
    assert authorize.status_code == 302
    location = urlsplit(authorize.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    assert parse_qs(location.query)["state"] == ["state-123"]

    tokens = exchange_code(session, parse_qs(location.query)["code"][0])
    assert tokens.status_code == 200
    body = tokens.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 14400
    assert body["scope"] == "client"
    assert cloud.sms_sent == 0
    assert cloud.signins == 1


def test_oauth_two_factor_412(make_cloud: Callable[..., LocalBlinkCloud]) -> None:
    cloud = make_cloud(require_2fa=True, two_factor_style="412")
    session = start_login(cloud)

    signin = submit_credentials(session)
    assert signin.status_code == 412
    assert signin.json()["tsv_state"] == "sms"
    assert cloud.sms_sent == 1

    early = session.client.get("/oauth/v2/authorize")
    assert early.status_code == 401

    wrong = session.client.post("/oauth/v2/2fa/verify", data={"2fa_code": "000000", "csrf-token": session.csrf})
    assert wrong.status_code == 400
    assert wrong.json()["error_cause"] == "invalid_2fa_code"

    right = session.client.post(
        "/oauth/v2/2fa/verify", data={"2fa_code": DEMO_PIN, "csrf-token": session.csrf, "remember_me": "false"}
    )
    assert right.status_code == 201
    assert right.json() == {"status": "auth-completed"}

    tokens = exchange_code(session, fetch_code(session))
    assert tokens.status_code == 200


def test_oauth_two_factor_202(make_cloud: Callable[..., LocalBlinkCloud]) -> None:
    cloud = make_cloud(require_2fa=True, two_factor_style="202")
    session = start_login(cloud)

    signin = submit_credentials(session)
    assert signin.status_code == 202
    body = signin.json()
    assert body["next_time_in_secs"] == 60
    assert body["tsv_methods"] == ["sms", "whatsapp", "voice"]
    assert body["tsv_state"] == "sms"
    assert body["phone"] == "+1xxxxxxx89"
    assert isinstance(body["user_id"], int)

    submit_credentials(session)
    assert cloud.sms_sent == 2


def test_two_factor_verify_requires_cookie(make_cloud: Callable[..., LocalBlinkCloud]) -> None:
    cloud = make_cloud(require_2fa=True)
    session = start_login(cloud)
    assert submit_credentials(session).status_code == 412

    response = httpx.post(
        f"{cloud.oauth_url}/oauth/v2/2fa/verify", data={"2fa_code": DEMO_PIN, "csrf-token": session.csrf}
    )
    assert response.status_code == 400
    assert response.json()["error_cause"] == "empty_cookies"


def test_set_two_factor_switches_style(cloud: LocalBlinkCloud) -> None:
    cloud.set_two_factor(True, style="202")
    assert submit_credentials(start_login(cloud)).status_code == 202

    cloud.set_two_factor(True, style="412")
    assert submit_credentials(start_login(cloud)).status_code == 412

    cloud.set_two_factor(False)
    assert submit_credentials(start_login(cloud)).status_code == 302

    with pytest.raises(ValueError, match="two_factor_style"):
        cloud.set_two_factor(True, style="401")  # type: ignore[arg-type]


def test_signin_without_cookie_rejected(cloud: LocalBlinkCloud) -> None:
    session = start_login(cloud)
    response = httpx.post(
        f"{cloud.oauth_url}/oauth/v2/signin",
        data={"username": DEMO_EMAIL, "password": DEMO_PASSWORD, "csrf-token": session.csrf},
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "bad_request",
        "error_cause": "empty_cookies",
        "error_description": "Empty Cookies.",
    }


def test_signin_with_bad_csrf_rejected(cloud: LocalBlinkCloud) -> None:
    session = start_login(cloud)
    session.csrf = "forged"
    response = submit_credentials(session)
    assert response.status_code == 403
    assert response.json()["error_cause"] == "invalid_csrf_token"


def test_signin_wrong_password_401(cloud: LocalBlinkCloud) -> None:
    response = submit_credentials(start_login(cloud), password="wrong")
    assert response.status_code == 401
    assert response.json() == {
        "error": "unauthorized",
        "error_cause": "invalid_user_credentials",
        "error_description": "Invalid user credentials.",
    }


def test_authorize_code_needs_signed_in_session(cloud: LocalBlinkCloud) -> None:
    without_cookie = httpx.get(f"{cloud.oauth_url}/oauth/v2/authorize")
    assert without_cookie.status_code == 400

    session = start_login(cloud)
    not_signed_in = session.client.get("/oauth/v2/authorize")
    assert not_signed_in.status_code == 401


def test_authorize_rejects_missing_pkce(cloud: LocalBlinkCloud) -> None:
    params = authorize_params(new_pkce(), "HW-1")
    del params["code_challenge"]
    response = httpx.get(f"{cloud.oauth_url}/oauth/v2/authorize", params=params)
    assert response.status_code == 400
    assert "code_challenge" in response.json()["error_description"]


def test_code_is_single_use_and_pkce_checked(cloud: LocalBlinkCloud) -> None:
    session = start_login(cloud)
    assert submit_credentials(session).status_code == 302

    code = fetch_code(session)
    wrong_verifier = exchange_code(session, code, verifier=new_pkce().verifier)
    assert wrong_verifier.status_code == 400
    assert wrong_verifier.json()["error"] == "invalid_grant"

    second_code = fetch_code(session)
    assert exchange_code(session, second_code).status_code == 200
    reused = exchange_code(session, second_code)
    assert reused.status_code == 400


def test_refresh_rotates_tokens(cloud: LocalBlinkCloud) -> None:
    tokens = login(cloud)

    first = refresh(cloud, tokens["refresh_token"])
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert rotated["access_token"] != tokens["access_token"]

    reused = refresh(cloud, tokens["refresh_token"])
    assert reused.status_code == 401
    assert reused.json()["error"] == "invalid_grant"

    assert refresh(cloud, rotated["refresh_token"]).status_code == 200
    assert cloud.refreshes == 3


def test_refresh_with_other_client_id_rejected(cloud: LocalBlinkCloud) -> None:
    tokens = login(cloud)

    response = refresh(cloud, tokens["refresh_token"], client_id="android")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"

    assert refresh(cloud, tokens["refresh_token"]).status_code == 200


def test_password_grant_unsupported(cloud: LocalBlinkCloud) -> None:
    response = httpx.post(
        f"{cloud.oauth_url}/oauth/token",
        data={"grant_type": "password", "username": DEMO_EMAIL, "password": DEMO_PASSWORD, "client_id": "android"},
    )
    assert response.status_code == 401
    assert response.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize("hardware_id", ["Blinkpy", "Home Assistant"])
def test_blocked_hardware_id_406(cloud: LocalBlinkCloud, hardware_id: str) -> None:
    authorize = httpx.get(f"{cloud.oauth_url}/oauth/v2/authorize", params=authorize_params(new_pkce(), hardware_id))
    assert authorize.status_code == 406
    assert authorize.headers["content-type"].startswith("text/plain")
    assert authorize.headers["server"] == "cloudflare"

    token_by_form = httpx.post(
        f"{cloud.oauth_url}/oauth/token", data={"grant_type": "refresh_token", "hardware_id": hardware_id}
    )
    assert token_by_form.status_code == 406

    token_by_header = httpx.post(
        f"{cloud.oauth_url}/oauth/token", data={"grant_type": "refresh_token"}, headers={"hardware_id": hardware_id}
    )
    assert token_by_header.status_code == 406


def test_signin_rate_limit_429(cloud: LocalBlinkCloud) -> None:
    cloud.set_login_rate_limit(2, 120)
    session = start_login(cloud)
    assert submit_credentials(session, password="wrong").status_code == 401
    assert submit_credentials(session, password="wrong").status_code == 401

    limited = submit_credentials(session)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 120
    assert cloud.signins == 3


def test_expired_access_token_then_refresh(cloud: LocalBlinkCloud) -> None:
    tokens = login(cloud)
    with rest_client(cloud, tokens["access_token"]) as client:
        assert client.get(f"/api/v3/accounts/{ACCOUNT}/homescreen").status_code == 200
        cloud.expire_tokens()
        expired = client.get(f"/api/v3/accounts/{ACCOUNT}/homescreen")
        assert expired.status_code == 401
        assert expired.json() == {"message": "Unauthorized Access", "code": 101}

    refreshed = refresh(cloud, tokens["refresh_token"]).json()
    with rest_client(cloud, refreshed["access_token"]) as client:
        assert client.get(f"/api/v3/accounts/{ACCOUNT}/homescreen").status_code == 200


def test_access_token_lifetime(make_cloud: Callable[..., LocalBlinkCloud]) -> None:
    cloud = make_cloud(token_lifetime_seconds=0.3)
    tokens = login(cloud)
    assert tokens["expires_in"] == 0.3
    with rest_client(cloud, tokens["access_token"]) as client:
        assert client.get(f"/api/v3/accounts/{ACCOUNT}/homescreen").status_code == 200
        time.sleep(0.4)
        assert client.get(f"/api/v3/accounts/{ACCOUNT}/homescreen").status_code == 401


def test_revoked_refresh_token_rejected(cloud: LocalBlinkCloud) -> None:
    tokens = login(cloud)
    cloud.revoke_refresh_tokens()
    response = refresh(cloud, tokens["refresh_token"])
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_grant"


# REST authentication and hosts ---------------------------------------------------------------


def test_rest_rejects_missing_or_bad_bearer(cloud: LocalBlinkCloud) -> None:
    path = f"{cloud.rest_url}/api/v3/accounts/{ACCOUNT}/homescreen"

    missing = httpx.get(path)
    assert missing.status_code == 401
    assert missing.json() == {"message": "Unauthorized Access", "code": 101}

    bad = httpx.get(path, headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401

    for header in ("TOKEN_AUTH", "TOKEN-AUTH"):
        legacy = httpx.get(path, headers={header: "legacy-session-token"})
        assert legacy.status_code == 426, header
        assert legacy.json() == {"message": "An app update is required"}, header


def test_retired_login_endpoints_426(cloud: LocalBlinkCloud) -> None:
    for path in ("/api/v5/account/login", f"/api/v4/account/{ACCOUNT}/client/1/pin/verify"):
        response = httpx.post(f"{cloud.rest_prod_url}{path}", json={"email": DEMO_EMAIL})
        assert response.status_code == 426
        assert response.json() == {"message": "An app update is required"}


def test_hosts_are_separated(cloud: LocalBlinkCloud) -> None:
    headers = {"Authorization": f"Bearer {login(cloud)['access_token']}"}

    tier_info = httpx.get(f"{cloud.rest_prod_url}/api/v1/users/tier_info", headers=headers)
    assert tier_info.json() == {"tier": "u011", "account_id": 74521}
    assert httpx.get(f"{cloud.rest_url}/api/v1/users/tier_info", headers=headers).status_code == 404

    homescreen_path = f"/api/v3/accounts/{ACCOUNT}/homescreen"
    on_prod = httpx.get(f"{cloud.rest_prod_url}{homescreen_path}", headers=headers)
    assert on_prod.status_code == 401
    assert on_prod.json()["message"] == "Unauthorized Access"
    other_tier = cloud.tier_url_template.format(tier="u020")
    assert httpx.get(f"{other_tier}{homescreen_path}", headers=headers).status_code == 401
    assert httpx.get(f"{cloud.rest_url}{homescreen_path}", headers=headers).status_code == 200

    wrong_account = httpx.get(f"{cloud.rest_url}/api/v3/accounts/99999/homescreen", headers=headers)
    assert wrong_account.status_code == 401


def test_public_endpoints_need_no_token(cloud: LocalBlinkCloud) -> None:
    version = httpx.get(f"{cloud.rest_prod_url}/api/v1/version")
    assert version.json()["code"] == 103
    regions = httpx.get(f"{cloud.rest_prod_url}/regions", params={"locale": "US"})
    assert "preferred" in regions.json()
    assert httpx.get(f"{cloud.rest_url}/health").status_code == 200


def test_cloud_urls_and_identity(cloud: LocalBlinkCloud) -> None:
    assert cloud.oauth_url == f"http://127.0.0.1:{cloud.port}/hosts/oauth"
    assert cloud.rest_prod_url == f"http://127.0.0.1:{cloud.port}/hosts/rest-prod"
    assert cloud.tier_url_template == f"http://127.0.0.1:{cloud.port}/hosts/rest-{{tier}}"
    assert cloud.account_id == 74521
    assert cloud.tier == "u011"


def test_non_loopback_host_rejected() -> None:
    with pytest.raises(ValueError, match="loopback"):
        LocalBlinkCloud(host="0.0.0.0")


# Data shapes ----------------------------------------------------------------------------------


def test_homescreen_demo_shape(cloud: LocalBlinkCloud, rest: httpx.Client) -> None:
    response = rest.get(f"/api/v3/accounts/{ACCOUNT}/homescreen")
    assert response.headers["client-id"].isdigit()
    assert response.headers["user-id"].isdigit()
    data = response.json()

    assert {n["id"]: n["armed"] for n in data["networks"]} == {HOME: False, CABIN: False}
    assert [m["id"] for m in data["sync_modules"]] == [3101]
    assert data["sync_modules"][0]["status"] == "online"

    front = find_entry(data["cameras"], FRONT_YARD)
    assert front["signals"] == {"lfr": 5, "wifi": 4, "temp": 72, "battery": 3}
    assert front["type"] == "xt2"
    assert front["enabled"] is True
    assert re.fullmatch(
        rf"/api/v3/media/accounts/{ACCOUNT}/networks/{HOME}/xt2/{FRONT_YARD}/thumbnail/thumbnail\.jpg\?ts=\d+&ext=",
        front["thumbnail"],
    )
    assert find_entry(data["cameras"], DRIVEWAY)["signals"]["temp"] == 31

    garden = find_entry(data["cameras"], BACK_GARDEN)
    assert garden["battery"] == "low"
    assert garden["signals"]["battery"] == 1
    assert garden["enabled"] is False
    assert re.fullmatch(
        rf"/media/production/account/{ACCOUNT}/network/{HOME}/camera/{BACK_GARDEN}/clip_\w+", garden["thumbnail"]
    )

    kitchen = find_entry(data["owls"], KITCHEN_MINI)
    assert "signals" not in kitchen
    assert kitchen["network_id"] == HOME
    assert re.fullmatch(
        rf"/media/u011/account/{ACCOUNT}/network/{HOME}/owl/{KITCHEN_MINI}/thumbnail/fw_[\w.]+", kitchen["thumbnail"]
    )
    assert find_entry(data["owls"], CABIN_MINI)["network_id"] == CABIN

    doorbell = find_entry(data["doorbells"], CABIN_DOORBELL)
    assert set(doorbell) == {"id", "name", "network_id", "onboarded", "enabled", "status", "thumbnail", "serial"}

    for key in ("app_updates", "device_limits", "video_stats", "whats_new", "accessories"):
        assert key in data
    assert all(isinstance(camera["id"], int) for camera in data["cameras"])


def test_network_endpoints_shapes(rest: httpx.Client) -> None:
    networks = rest.get("/networks").json()
    assert networks["summary"] == {
        "2101": {"name": "Home", "onboarded": True},
        "2102": {"name": "Cabin", "onboarded": True},
    }

    sync_module = rest.get(f"/network/{HOME}/syncmodules").json()
    assert sync_module["syncmodule"]["id"] == 3101
    assert rest.get(f"/network/{CABIN}/syncmodules").status_code == 404

    updated = rest.post(f"/network/{HOME}/update").json()
    assert updated["network"]["armed"] is False
    assert rest.get(f"/network/{HOME}").json()["network"]["id"] == HOME

    programs = rest.get(f"/api/v1/networks/{HOME}/programs").json()
    assert isinstance(programs, list)
    program_id = programs[0]["id"]
    assert rest.post(f"/api/v1/networks/{HOME}/programs/{program_id}/enable").json()["code"] == 802
    assert rest.get(f"/api/v1/networks/{HOME}/programs").json()[0]["status"] == "enabled"
    assert rest.post(f"/api/v1/networks/{HOME}/programs/{program_id}/disable").json()["code"] == 803
    update = rest.post(
        f"/api/v1/networks/{HOME}/programs/{program_id}/update",
        json={
            "id": program_id,
            "name": "Nights",
            "format": "v1",
            "schedule": [{"dow": ["sat", "sun"], "time": "2016-06-02 23:00:00 +0000", "action": "arm"}],
        },
    ).json()
    assert update["program"]["name"] == "Nights"
    assert len(update["actions"]) == 2

    usage = rest.get("/api/v1/camera/usage").json()
    listed = {camera["id"] for network in usage["networks"] for camera in network["cameras"]}
    assert listed == {FRONT_YARD, DRIVEWAY, BACK_GARDEN}


def test_camera_config_and_signals(rest: httpx.Client) -> None:
    config = rest.get(f"/network/{HOME}/camera/{FRONT_YARD}/config").json()["camera"][0]
    assert re.fullmatch(r"\d+", config["thumbnail"])
    assert config["temperature"] == 72
    assert config["wifi_strength"] < 0

    signals = rest.get(f"/network/{HOME}/camera/{FRONT_YARD}/signals").json()
    assert signals["temp"] == 72
    assert signals["battery"] == 3

    mini = rest.get(f"/api/v1/accounts/{ACCOUNT}/networks/{HOME}/owls/{KITCHEN_MINI}/config").json()
    assert mini["id"] == KITCHEN_MINI
    assert rest.get(f"/network/{HOME}/camera/{FRONT_YARD}").json()["camera"][0]["id"] == FRONT_YARD


def test_account_misc_endpoints(cloud: LocalBlinkCloud, rest: httpx.Client) -> None:
    flags = rest.get(f"/api/v1/accounts/{ACCOUNT}/notifications/configuration").json()["notifications"]
    assert flags["motion"] is True
    rest.post(f"/api/v1/accounts/{ACCOUNT}/notifications/configuration", json={"notifications": {"motion": False}})
    flags = rest.get(f"/api/v1/accounts/{ACCOUNT}/notifications/configuration").json()["notifications"]
    assert flags["motion"] is False

    client_id = rest.get(f"/api/v3/accounts/{ACCOUNT}/homescreen").headers["client-id"]
    assert rest.get(f"/api/v1/accounts/{ACCOUNT}/clients/{client_id}/options").json() == {"options": "{}"}
    updated = rest.post(f"/api/v1/accounts/{ACCOUNT}/clients/{client_id}/update", json={"notification_key": "abc"})
    assert updated.json()["code"] == 241

    assert rest.get("/user").json()["account_id"] == ACCOUNT
    assert rest.get("/api/v1/account/options").json()["owl_app_enabled"] is True
    assert rest.post("/api/v1/account/video_options", json={"auto_delete_days": 5}).json()["code"] == 213
    assert rest.post("/api/v1/account/video_options", json={"auto_delete_days": 7}).status_code == 200
    assert rest.post("/app/logs/upload", json={"log": "x"}).status_code == 200
    assert rest.post(f"/api/v4/account/{ACCOUNT}/client/{client_id}/logout").json() == {"message": "logout"}


def test_wrong_family_id_gets_camera_not_found(rest: httpx.Client) -> None:
    mini_on_camera_path = rest.post(f"/network/{HOME}/camera/{KITCHEN_MINI}/thumbnail")
    assert mini_on_camera_path.json() == {"message": "Camera not found", "code": 500}

    camera_on_owl_path = rest.post(f"/api/v1/accounts/{ACCOUNT}/networks/{HOME}/owls/{FRONT_YARD}/thumbnail")
    assert camera_on_owl_path.json()["code"] == 500

    unknown_device = rest.post(f"/network/{HOME}/camera/999999/thumbnail")
    assert unknown_device.status_code == 404
    assert "999999" in unknown_device.json()["message"]

    unknown_network = rest.post(f"/api/v1/accounts/{ACCOUNT}/networks/999999/state/arm")
    assert unknown_network.status_code == 404


# Commands ---------------------------------------------------------------------------------------


def test_arm_applies_only_at_completion(rest: httpx.Client) -> None:
    command = rest.post(f"/api/v1/accounts/{ACCOUNT}/networks/{HOME}/state/arm").json()
    assert command["state"] == "new"
    assert command["command"] == "arm"
    assert command["network_id"] == HOME

    first_poll = rest.get(f"/network/{HOME}/command/{command['id']}").json()
    assert first_poll["complete"] is False
    assert first_poll["status_code"] == 908
    assert find_entry(homescreen(rest)["networks"], HOME)["armed"] is False

    final = poll_command(rest, HOME, command["id"])
    assert final["complete"] is True
    assert final["status_code"] == 908
    assert final["status_msg"] == "Command succeeded"
    assert find_entry(homescreen(rest)["networks"], HOME)["armed"] is True
    assert rest.post(f"/network/{HOME}/update").json()["network"]["armed"] is True


def test_polls_to_complete_counts_incomplete_answers(make_cloud: Callable[..., LocalBlinkCloud]) -> None:
    cloud = make_cloud(command_polls_to_complete=3)
    with rest_client(cloud) as client:
        command = client.post(f"/api/v1/accounts/{ACCOUNT}/networks/{HOME}/state/arm").json()
        answers = [client.get(f"/network/{HOME}/command/{command['id']}").json()["complete"] for _ in range(4)]
    assert answers == [False, False, False, True]


def test_command_completes_after_max_seconds(make_cloud: Callable[..., LocalBlinkCloud]) -> None:
    cloud = make_cloud(command_polls_to_complete=100, command_max_seconds=0.3)
    with rest_client(cloud) as client:
        client.post(f"/network/{HOME}/camera/{FRONT_YARD}/disable")
        assert find_entry(homescreen(client)["cameras"], FRONT_YARD)["enabled"] is True
        time.sleep(0.4)
        assert find_entry(homescreen(client)["cameras"], FRONT_YARD)["enabled"] is False


def test_busy_network_returns_307(rest: httpx.Client) -> None:
    first = rest.post(f"/api/v1/accounts/{ACCOUNT}/networks/{HOME}/state/arm").json()

    busy = rest.post(f"/network/{HOME}/camera/{FRONT_YARD}/thumbnail")
    assert busy.status_code == 200
    assert busy.json() == {"message": "System is busy, please wait", "error": None, "code": 307}

    other_network = rest.post(f"/api/v1/accounts/{ACCOUNT}/networks/{CABIN}/state/arm").json()
    assert "id" in other_network

    poll_command(rest, HOME, first["id"])
    assert "id" in rest.post(f"/network/{HOME}/camera/{FRONT_YARD}/thumbnail").json()


def test_arm_without_motion_cameras_304(cloud: LocalBlinkCloud, rest: httpx.Client) -> None:
    cloud.update_camera(CABIN_MINI, motion_enabled=False)
    cloud.update_camera(CABIN_DOORBELL, motion_enabled=False)

    response = rest.post(f"/api/v1/accounts/{ACCOUNT}/networks/{CABIN}/state/arm")
    assert response.status_code == 200
    assert response.json() == {"message": "No Cameras Enabled for Motion", "code": 304}
    assert find_entry(homescreen(rest)["networks"], CABIN)["armed"] is False


def test_failing_command_changes_nothing(cloud: LocalBlinkCloud, rest: httpx.Client) -> None:
    cloud.fail_next_command(status_code=999, message="Camera is offline")
    command = rest.post(f"/api/v1/accounts/{ACCOUNT}/networks/{HOME}/state/arm").json()

    final = poll_command(rest, HOME, command["id"])
    assert final["complete"] is True
    assert final["status_code"] == 999
    assert final["status_msg"] == "Camera is offline"
    assert find_entry(homescreen(rest)["networks"], HOME)["armed"] is False

    retry = rest.post(f"/api/v1/accounts/{ACCOUNT}/networks/{HOME}/state/arm").json()
    assert poll_command(rest, HOME, retry["id"])["status_code"] == 908


def test_never_completing_command_blocks_until_stuck(make_cloud: Callable[..., LocalBlinkCloud]) -> None:
    cloud = make_cloud(command_max_seconds=0.2, stuck_command_seconds=0.6)
    cloud.fail_next_command(mode="never_complete")
    with rest_client(cloud) as client:
        command = client.post(f"/api/v1/accounts/{ACCOUNT}/networks/{HOME}/state/arm").json()
        time.sleep(0.3)
        status = poll_command(client, HOME, command["id"], max_polls=5)
        assert status["complete"] is False
        assert client.post(f"/api/v1/accounts/{ACCOUNT}/networks/{HOME}/state/disarm").json()["code"] == 307

        time.sleep(0.4)
        assert "id" in client.post(f"/api/v1/accounts/{ACCOUNT}/networks/{HOME}/state/disarm").json()
        assert client.get(f"/network/{HOME}/command/{command['id']}").json()["complete"] is False
        assert find_entry(homescreen(client)["networks"], HOME)["armed"] is False


def test_motion_toggle_each_family(rest: httpx.Client) -> None:
    classic = rest.post(f"/network/{HOME}/camera/{FRONT_YARD}/disable").json()
    poll_command(rest, HOME, classic["id"])
    mini = rest.post(
        f"/api/v1/accounts/{ACCOUNT}/networks/{CABIN}/owls/{CABIN_MINI}/config", json={"enabled": False}
    ).json()
    poll_command(rest, CABIN, mini["id"])
    doorbell = rest.post(f"/api/v1/accounts/{ACCOUNT}/networks/{CABIN}/doorbells/{CABIN_DOORBELL}/disable").json()
    poll_command(rest, CABIN, doorbell["id"])

    data = homescreen(rest)
    assert find_entry(data["cameras"], FRONT_YARD)["enabled"] is False
    assert find_entry(data["owls"], CABIN_MINI)["enabled"] is False
    assert find_entry(data["doorbells"], CABIN_DOORBELL)["enabled"] is False


def test_snooze_rules_and_effect(cloud: LocalBlinkCloud, rest: httpx.Client) -> None:
    disabled = rest.post(
        f"/api/v1/accounts/{ACCOUNT}/networks/{HOME}/cameras/{BACK_GARDEN}/snooze", json={"snooze_time": 60}
    )
    assert disabled.status_code == 400
    assert disabled.json() == {"message": "Motion capture not enabled for device", "code": 2805}

    cloud.set_snooze_allowed([60, 240])
    not_allowed = rest.post(
        f"/api/v1/accounts/{ACCOUNT}/networks/{HOME}/cameras/{FRONT_YARD}/snooze", json={"snooze_time": 45}
    )
    assert not_allowed.status_code == 400
    assert "60, 240" in not_allowed.json()["message"]

    command = rest.post(
        f"/api/v1/accounts/{ACCOUNT}/networks/{HOME}/cameras/{FRONT_YARD}/snooze", json={"snooze_time": 240}
    ).json()
    assert command["command"] == "snooze"
    assert find_entry(homescreen(rest)["cameras"], FRONT_YARD)["snooze"] is False
    poll_command(rest, HOME, command["id"])

    camera = find_entry(homescreen(rest)["cameras"], FRONT_YARD)
    assert camera["snooze"] is True
    assert 0 < camera["snooze_time_remaining"] <= 240 * 60
    config = rest.get(f"/network/{HOME}/camera/{FRONT_YARD}/config").json()["camera"][0]
    assert config["snooze_till"].endswith("Z")

    network_command = rest.post(f"/api/v1/accounts/{ACCOUNT}/networks/{CABIN}/snooze", json={"snooze_time": 60}).json()
    poll_command(rest, CABIN, network_command["id"])
    assert rest.get(f"/api/v1/accounts/{ACCOUNT}/networks/{CABIN}/snooze").json()["snooze_till"].endswith("Z")


def test_thumbnail_command_changes_image(cloud: LocalBlinkCloud, rest: httpx.Client) -> None:
    before_url = find_entry(homescreen(rest)["cameras"], FRONT_YARD)["thumbnail"]
    before_image = rest.get(before_url).content

    command = rest.post(f"/network/{HOME}/camera/{FRONT_YARD}/thumbnail").json()
    assert find_entry(homescreen(rest)["cameras"], FRONT_YARD)["thumbnail"] == before_url
    poll_command(rest, HOME, command["id"])

    after_url = find_entry(homescreen(rest)["cameras"], FRONT_YARD)["thumbnail"]
    assert after_url != before_url
    after_image = rest.get(after_url).content
    assert after_image != before_image
    ts = parse_qs(urlsplit(after_url).query)["ts"][0]
    assert rest.get(f"/network/{HOME}/camera/{FRONT_YARD}/config").json()["camera"][0]["thumbnail"] == ts

    cloud.set_thumbnail_frozen(FRONT_YARD, True)
    frozen = rest.post(f"/network/{HOME}/camera/{FRONT_YARD}/thumbnail").json()
    assert poll_command(rest, HOME, frozen["id"])["status_code"] == 908
    assert find_entry(homescreen(rest)["cameras"], FRONT_YARD)["thumbnail"] == after_url


def test_clip_command_adds_media(rest: httpx.Client) -> None:
    since = since_text(dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5))
    command = rest.post(f"/api/v1/accounts/{ACCOUNT}/networks/{CABIN}/owls/{CABIN_MINI}/clip").json()
    assert media_changed(rest, since)["media"] == []

    status = poll_command(rest, CABIN, command["id"])
    media = media_changed(rest, since)["media"]
    assert [entry["id"] for entry in media] == [status["media_id"]]
    assert media[0]["device_id"] == CABIN_MINI


def test_liveview_returns_fixed_body(rest: httpx.Client) -> None:
    response = rest.post(
        f"/api/v6/accounts/{ACCOUNT}/networks/{HOME}/cameras/{FRONT_YARD}/liveview",
        json={"intent": "liveview", "motion_event_start_time": None},
    ).json()
    assert response["server"].startswith("immis://")
    assert response["polling_interval"] == 15
    done = rest.post(f"/network/{HOME}/command/{response['command_id']}/done/")
    assert done.json()["code"] == 902


# Media -------------------------------------------------------------------------------------------


def test_media_changed_pages_until_empty(make_cloud: Callable[..., LocalBlinkCloud]) -> None:
    cloud = make_cloud(media_page_size=2)
    with rest_client(cloud) as client:
        pages = [media_changed(client, page=page) for page in range(1, 5)]
    assert [len(page["media"]) for page in pages] == [2, 2, 1, 0]
    assert pages[0]["limit"] == 2
    entries = [entry for page in pages for entry in page["media"]]
    assert len({entry["id"] for entry in entries}) == 5
    assert any(entry["deleted"] for entry in entries)


def test_media_changed_since_formats(cloud: LocalBlinkCloud, rest: httpx.Client) -> None:
    cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=36)
    base = cutoff.strftime("%Y-%m-%dT%H:%M:%S")
    path = f"{cloud.rest_url}/api/v1/accounts/{ACCOUNT}/media/changed?page=1&since="
    expected = {1_600_000_003, 1_600_000_004, 1_600_000_005}

    for since in (f"{base}+0000", f"{base}%2B0000", f"{base}Z", f"{base}.000Z", f"{base}%2B00:00"):
        response = rest.get(path + since)
        assert response.status_code == 200, since
        assert {entry["id"] for entry in response.json()["media"]} == expected, since

    # An unencoded "+" reaches the server as a space, which must still parse.
    assert cloud.requests[-5].query["since"] == f"{base} 0000"

    invalid = rest.get(path + "yesterday")
    assert invalid.status_code == 400


def test_late_clip_listed_by_updated_at(cloud: LocalBlinkCloud, rest: httpx.Client) -> None:
    last_poll = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=2)
    late_created = last_poll - dt.timedelta(minutes=10)
    media_id = cloud.trigger_motion(FRONT_YARD, created_at=late_created)

    media = media_changed(rest, since_text(last_poll))["media"]
    assert [entry["id"] for entry in media] == [media_id]
    assert dt.datetime.fromisoformat(media[0]["created_at"]) < last_poll
    assert media[0]["source"] == "pir"


def test_media_download_and_delete(cloud: LocalBlinkCloud, rest: httpx.Client) -> None:
    media_id = cloud.trigger_motion(DRIVEWAY)
    entry = find_entry(media_changed(rest)["media"], media_id)

    clip = rest.get(entry["media"])
    assert clip.headers["content-type"] == "video/mp4"
    assert clip.content[4:8] == b"ftyp"
    assert b"moov" in clip.content
    assert b"mdat" in clip.content

    for suffix in ("", ".jpg"):
        thumbnail = rest.get(entry["thumbnail"] + suffix)
        assert thumbnail.status_code == 200
        assert thumbnail.content[:2] == b"\xff\xd8"

    invalid = rest.post(f"/api/v1/accounts/{ACCOUNT}/media/delete", json={"media_ids": [media_id]})
    assert invalid.json() == {"message": "Invalid Media List Format", "code": 706}

    deleted = rest.post(f"/api/v1/accounts/{ACCOUNT}/media/delete", json={"media_list": [media_id]})
    assert deleted.status_code == 200
    after = find_entry(media_changed(rest)["media"], media_id)
    assert after["deleted"] is True
    assert after["updated_at"] >= entry["updated_at"]
    assert rest.get(entry["media"]).status_code == 404


def test_camera_thumbnails_decode_as_jpeg(rest: httpx.Client) -> None:
    data = homescreen(rest)
    urls = [
        find_entry(data["cameras"], FRONT_YARD)["thumbnail"],
        find_entry(data["cameras"], BACK_GARDEN)["thumbnail"] + ".jpg",
        find_entry(data["owls"], KITCHEN_MINI)["thumbnail"] + ".jpg",
        find_entry(data["doorbells"], CABIN_DOORBELL)["thumbnail"],
    ]
    images = []
    for url in urls:
        response = rest.get(url)
        assert response.status_code == 200, url
        assert response.headers["content-type"] == "image/jpeg"
        assert decode_baseline_jpeg(response.content) == (64, 48, 144)
        images.append(response.content)
    assert len(set(images)) == len(images)

    without_extension = rest.get(find_entry(data["cameras"], BACK_GARDEN)["thumbnail"])
    assert without_extension.status_code == 404


def test_thumbnail_payload_kinds(cloud: LocalBlinkCloud, rest: httpx.Client) -> None:
    url = find_entry(homescreen(rest)["cameras"], DRIVEWAY)["thumbnail"]

    cloud.set_thumbnail_payload(DRIVEWAY, "empty")
    assert rest.get(url).content == b""

    cloud.set_thumbnail_payload(DRIVEWAY, "not_image")
    assert not rest.get(url).content.startswith(b"\xff\xd8")

    cloud.set_thumbnail_payload(DRIVEWAY, "oversize")
    oversize = rest.get(url).content
    assert len(oversize) > 2 * 1024 * 1024
    assert decode_baseline_jpeg(oversize) == (64, 48, 144)

    cloud.set_thumbnail_payload(DRIVEWAY, "jpeg")
    assert len(rest.get(url).content) < 10_000

    with pytest.raises(ValueError, match="thumbnail payload"):
        cloud.set_thumbnail_payload(DRIVEWAY, "gif")


# Faults --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "options", "status", "check"),
    [
        ("status", {"status": 503, "body": {"message": "down"}}, 503, lambda r: r.json() == {"message": "down"}),
        ("status", {"status": 500, "body": "oops", "content_type": "text/plain"}, 500, lambda r: r.text == "oops"),
        ("non_json", {}, 200, lambda r: r.headers["content-type"].startswith("text/html")),
        ("rate_limit", {"retry_after": 42}, 429, lambda r: r.headers["retry-after"] == "42"),
        ("blocked", {}, 406, lambda r: r.text == "Not Acceptable" and r.headers["server"] == "cloudflare"),
        ("app_update", {}, 200, lambda r: r.json() == {"message": "An app update is required"}),
        ("app_update_426", {}, 426, lambda r: r.json() == {"message": "An app update is required"}),
    ],
)
def test_fault_kinds(
    cloud: LocalBlinkCloud,
    rest: httpx.Client,
    kind: str,
    options: dict[str, Any],
    status: int,
    check: Callable[[httpx.Response], bool],
) -> None:
    cloud.inject_fault(r"/homescreen$", kind, **options)

    faulty = rest.get(f"/api/v3/accounts/{ACCOUNT}/homescreen")
    assert faulty.status_code == status
    assert check(faulty)

    assert rest.get(f"/api/v3/accounts/{ACCOUNT}/homescreen").status_code == 200


def test_truncated_json_fault(cloud: LocalBlinkCloud, rest: httpx.Client) -> None:
    cloud.inject_fault(r"/homescreen$", "truncated_json", count=2)
    for _ in range(2):
        response = rest.get(f"/api/v3/accounts/{ACCOUNT}/homescreen")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        with pytest.raises(json.JSONDecodeError):
            json.loads(response.content)
    assert rest.get(f"/api/v3/accounts/{ACCOUNT}/homescreen").json()["account"]["id"] == ACCOUNT


def test_delay_fault_exceeds_client_timeout(cloud: LocalBlinkCloud, rest: httpx.Client) -> None:
    cloud.inject_fault(r"/media/changed", "delay", delay=1.0)
    with pytest.raises(httpx.TimeoutException):
        rest.get(f"/api/v1/accounts/{ACCOUNT}/media/changed", params={"since": "2024-01-01T00:00:00+0000"}, timeout=0.2)
    assert media_changed(rest)["limit"] == 25


def test_fault_on_oauth_host(cloud: LocalBlinkCloud) -> None:
    session = start_login(cloud)
    cloud.inject_fault(r"^/oauth/v2/signin$", "blocked")
    assert submit_credentials(session).status_code == 406
    assert submit_credentials(session).status_code == 302


def test_clear_faults_and_validation(cloud: LocalBlinkCloud, rest: httpx.Client) -> None:
    cloud.inject_fault(r"/homescreen$", "status", count=5)
    cloud.clear_faults()
    assert rest.get(f"/api/v3/accounts/{ACCOUNT}/homescreen").status_code == 200

    with pytest.raises(ValueError, match="fault kind"):
        cloud.inject_fault(r"/homescreen$", "explode")
    with pytest.raises(ValueError, match="path_regex"):
        cloud.inject_fault(r"(", "status")


# Control API and request log -------------------------------------------------------------------


def test_control_api_over_http(cloud: LocalBlinkCloud, rest: httpx.Client) -> None:
    control = httpx.Client(base_url=f"http://127.0.0.1:{cloud.port}/_sim")

    updated = control.post(
        "/update_camera", json={"camera_id": FRONT_YARD, "battery": "low", "temperature_f": 20, "online": False}
    )
    assert updated.status_code == 200
    camera = find_entry(homescreen(rest)["cameras"], FRONT_YARD)
    assert camera["battery"] == "low"
    assert camera["signals"]["temp"] == 20
    assert camera["status"] == "offline"

    control.post("/update_network", json={"network_id": HOME, "sync_module_online": False})
    assert homescreen(rest)["sync_modules"][0]["status"] == "offline"

    created = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=3)).isoformat()
    media_id = control.post("/trigger_motion", json={"camera_id": DRIVEWAY, "created_at": created}).json()["result"]
    assert isinstance(media_id, int)

    network_id = control.post("/add_network", json={"name": "Barn", "with_sync_module": False}).json()["result"]
    mini_id = control.post(
        "/add_camera", json={"network_id": network_id, "family": "mini", "name": "Barn Mini"}
    ).json()["result"]
    assert find_entry(homescreen(rest)["owls"], mini_id)["network_id"] == network_id

    state = control.get("/state").json()
    assert any(device["id"] == mini_id for device in state["devices"])
    assert any(entry["id"] == media_id for entry in state["media"])

    assert (
        control.post("/add_camera", json={"network_id": network_id, "family": "camera", "name": "X"}).status_code == 400
    )
    assert control.post("/remove_device", json={"device_id": 123456789}).status_code == 404
    assert control.post("/update_camera", json={"camera_id": FRONT_YARD, "colour": "red"}).status_code == 400
    assert control.post("/explode", json={}).status_code == 404

    assert control.post("/fail_next_command", json={"mode": "fail"}).status_code == 200
    assert control.post("/inject_fault", json={"path_regex": "/user$", "kind": "blocked"}).status_code == 200
    assert rest.get("/user").status_code == 406

    requests_log = control.get("/requests").json()
    assert requests_log[-1]["path"] == "/user"
    assert requests_log[-1]["status"] == 406
    control.close()


def test_add_and_remove_devices(cloud: LocalBlinkCloud, rest: httpx.Client) -> None:
    network_id = cloud.add_network("Garage")
    camera_id = cloud.add_camera(network_id, "camera", "Garage Door", battery_level=2)
    doorbell_id = cloud.add_camera(network_id, "doorbell", "Side Door")
    data = homescreen(rest)
    assert find_entry(data["cameras"], camera_id)["signals"]["battery"] == 2
    assert find_entry(data["doorbells"], doorbell_id)["network_id"] == network_id
    assert any(module["network_id"] == network_id for module in data["sync_modules"])

    cloud.remove_device(doorbell_id)
    assert all(d["id"] != doorbell_id for d in homescreen(rest)["doorbells"])

    cloud.remove_network(network_id)
    data = homescreen(rest)
    assert all(n["id"] != network_id for n in data["networks"])
    assert all(c["id"] != camera_id for c in data["cameras"])


def test_request_log_omits_secrets(make_cloud: Callable[..., LocalBlinkCloud]) -> None:
    cloud = make_cloud(require_2fa=True)
    tokens = login(cloud)
    refreshed = refresh(cloud, tokens["refresh_token"]).json()
    httpx.get(
        f"{cloud.oauth_url}/oauth/token",
        params={"code": "secret-code", "refresh_token": "secret-refresh", "password": "secret-pass", "state": "kept"},
    )

    logged = repr(cloud.requests)
    for secret in (
        tokens["access_token"],
        tokens["refresh_token"],
        refreshed["refresh_token"],
        DEMO_PASSWORD,
        DEMO_PIN,
    ):
        assert secret not in logged
    for secret in ("secret-code", "secret-refresh", "secret-pass"):
        assert secret not in logged
    assert cloud.requests[-1].query == {"state": "kept"}

    assert cloud.count_requests(method="POST", path_regex=r"^/oauth/token$", host="oauth") == 2
    assert cloud.count_requests(host="oauth", path_regex="signin") == 2
    assert cloud.requests[0].host == "oauth"
    cloud.clear_requests()
    assert cloud.requests == []


def test_reset_restores_start_state(cloud: LocalBlinkCloud) -> None:
    tokens = login(cloud)
    cloud.update_network(HOME, armed=True)
    cloud.remove_device(KITCHEN_MINI)
    cloud.reset()

    assert cloud.requests == []
    assert cloud.signins == 0
    with rest_client(cloud) as client:
        data = homescreen(client)
    assert find_entry(data["networks"], HOME)["armed"] is False
    assert any(owl["id"] == KITCHEN_MINI for owl in data["owls"])
    assert refresh(cloud, tokens["refresh_token"]).status_code == 401


def test_empty_account_has_identity(make_cloud: Callable[..., LocalBlinkCloud]) -> None:
    cloud = make_cloud(demo=False)
    headers = {"Authorization": f"Bearer {login(cloud)['access_token']}"}
    assert httpx.get(f"{cloud.rest_prod_url}/api/v1/users/tier_info", headers=headers).json() == {
        "tier": "u011",
        "account_id": 74521,
    }
    data = httpx.get(f"{cloud.rest_url}/api/v3/accounts/{ACCOUNT}/homescreen", headers=headers).json()
    assert data["networks"] == []
    assert data["cameras"] == []


def test_homescreen_with_1000_cameras_is_fast(cloud: LocalBlinkCloud, rest: httpx.Client) -> None:
    for site in range(50):
        network_id = cloud.add_network(f"Site {site}")
        for index in range(20):
            cloud.add_camera(network_id, "camera" if index % 4 else "mini", f"Site {site} Camera {index}")

    started = time.perf_counter()
    data = homescreen(rest)
    elapsed = time.perf_counter() - started

    assert len(data["cameras"]) + len(data["owls"]) == 1000 + 5
    assert elapsed < 0.5
