"""Client constants sent to Blink, in one place so that config can override them.

Blink changed what its login accepts several times in 2025 and 2026. When it
does again, users change these values in ``blink.client_profile`` instead of
waiting for a release. The defaults are the values of Blink's iOS app that
blinkpy 0.26 (June 2026) sends.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

DEFAULT_OAUTH_URL = "https://api.oauth.blink.com"
DEFAULT_REST_PROD_URL = "https://rest-prod.immedia-semi.com"
DEFAULT_TIER_URL_TEMPLATE = "https://rest-{tier}.immedia-semi.com"


@dataclass(frozen=True, slots=True)
class ClientProfile:
    """Identity the client presents to Blink's OAuth and REST hosts."""

    client_id: str = "ios"
    scope: str = "client"
    redirect_uri: str = "immedia-blink://applinks.blink.com/signin/callback"
    app_brand: str = "blink"
    app_version: str = "50.1"
    device_brand: str = "Apple"
    device_model: str = "iPhone16,1"
    device_os_version: str = "26.1"
    web_user_agent: str = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1"
    )
    token_user_agent: str = "Blink/2511191620 CFNetwork/3860.200.71 Darwin/25.1.0"
    rest_user_agent: str = "27.0ANDROID_28373244"

    def with_overrides(self, overrides: dict[str, Any]) -> ClientProfile:
        """Return a copy with the given fields replaced; unknown names raise ValueError."""
        known = {field.name for field in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(
                f"unknown client profile field(s) {', '.join(unknown)}; "
                f"expected one of {', '.join(sorted(known))}"
            )
        return replace(self, **{name: str(value) for name, value in overrides.items()})


@dataclass(frozen=True, slots=True)
class BlinkHosts:
    """Base URLs of the three Blink hosts; tests and the demo point them at the local cloud."""

    oauth_url: str = DEFAULT_OAUTH_URL
    rest_prod_url: str = DEFAULT_REST_PROD_URL
    tier_url_template: str = DEFAULT_TIER_URL_TEMPLATE

    def tier_url(self, tier: str) -> str:
        return self.tier_url_template.format(tier=tier).rstrip("/")
