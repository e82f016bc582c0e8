"""Objects shared by the host handlers: settings, account state and auth store."""

from __future__ import annotations

from dataclasses import dataclass

from blink2mqtt.simulator.auth_store import AuthStore, TwoFactorStyle
from blink2mqtt.simulator.state import AccountState


@dataclass(frozen=True)
class CloudSettings:
    """Constructor options of LocalBlinkCloud, from which reset() rebuilds the account."""

    require_2fa: bool = False
    two_factor_style: TwoFactorStyle = "412"
    command_polls_to_complete: int = 2
    command_max_seconds: float = 3.0
    stuck_command_seconds: float = 10.0
    token_lifetime_seconds: float = 14400
    media_page_size: int = 25
    demo: bool = True


@dataclass
class CloudContext:
    """Live objects behind the handlers. reset() swaps ``state`` and ``auth`` for new ones,
    so handlers read each attribute once per request."""

    settings: CloudSettings
    state: AccountState
    auth: AuthStore
    # http://127.0.0.1:PORT, used for absolute Location headers.
    base_url: str = ""
