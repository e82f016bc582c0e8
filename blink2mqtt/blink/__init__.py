"""Client for Blink's cloud API: login, tokens, endpoints and typed models.

This package has no dependency on MQTT. The bridge builds on it.
"""

from .client import BlinkClient, BlinkClientConfig, UnsupportedActionError
from .errors import (
    AuthenticationError,
    BlinkApiError,
    BlinkError,
    BlockedError,
    BusyError,
    ClientOutdatedError,
    CommandFailedError,
    CommandTimeoutError,
    CredentialsRejectedError,
    InvalidResponseError,
    LoginRequiredError,
    NotFoundError,
    PinRejectedError,
    PinRequiredError,
    RateLimitedError,
    TransientError,
)
from .models import (
    Camera,
    CameraConfig,
    CameraSignals,
    Command,
    CommandStatus,
    DeviceFamily,
    DeviceRef,
    Homescreen,
    MediaEvent,
    Network,
    SyncModule,
    Thumbnail,
)
from .profile import BlinkHosts, ClientProfile
from .tokens import SessionState, TokenStore

__all__ = [
    "AuthenticationError", "BlinkApiError", "BlinkClient", "BlinkClientConfig", "BlinkError",
    "BlinkHosts", "BlockedError", "BusyError", "Camera", "CameraConfig", "CameraSignals",
    "ClientOutdatedError", "ClientProfile", "Command", "CommandFailedError", "CommandStatus",
    "CommandTimeoutError", "CredentialsRejectedError", "DeviceFamily", "DeviceRef", "Homescreen",
    "InvalidResponseError", "LoginRequiredError", "MediaEvent", "Network", "NotFoundError",
    "PinRejectedError", "PinRequiredError", "RateLimitedError", "SessionState", "SyncModule",
    "Thumbnail", "TokenStore", "TransientError", "UnsupportedActionError",
]
