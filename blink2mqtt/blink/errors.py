"""Exceptions raised by the Blink client.

Callers catch these, never raw httpx, JSON or key errors. The tree is small on
purpose so that a caller can decide with one ``except`` what to do next:

    BlinkError
    ├── AuthenticationError          the session cannot continue without the user
    │   ├── LoginRequiredError       no usable tokens: run a new login
    │   ├── PinRequiredError         the pending login waits for the 2FA PIN
    │   ├── PinRejectedError         Blink rejected the PIN
    │   └── CredentialsRejectedError Blink rejected the email or password
    ├── BlockedError                 plain-text HTTP 406 from Blink's firewall
    ├── ClientOutdatedError          "An app update is required"
    ├── RateLimitedError             HTTP 429; retry_after says when to try again
    ├── BlinkApiError                a JSON error from Blink with its message and code
    │   ├── BusyError                code 307: the sync module runs another command
    │   ├── NotFoundError            HTTP 404 or "Camera not found"
    │   └── CommandFailedError       a command completed with a status other than 908
    ├── CommandTimeoutError          a command did not complete in time
    └── TransientError               timeouts, 5xx, bodies that are not valid JSON
        └── InvalidResponseError     a JSON body without the fields it must have
"""

from __future__ import annotations


class BlinkError(Exception):
    """Base class of every error the Blink client raises."""


class AuthenticationError(BlinkError):
    """The Blink session cannot continue until the user acts."""


class LoginRequiredError(AuthenticationError):
    """No usable tokens: the user must log in again (``blink2mqtt login``)."""


class PinRequiredError(AuthenticationError):
    """Blink sent a two-factor PIN; submit it to the pending login."""

    def __init__(self, message: str, *, resend_after_seconds: int | None = None,
                 methods: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.resend_after_seconds = resend_after_seconds
        self.methods = methods


class PinRejectedError(AuthenticationError):
    """Blink rejected the two-factor PIN."""


class CredentialsRejectedError(AuthenticationError):
    """Blink rejected the email address or the password."""


class BlockedError(BlinkError):
    """Blink's firewall returned HTTP 406 with a plain-text body."""


class ClientOutdatedError(BlinkError):
    """Blink returned "An app update is required" for this client profile."""


class RateLimitedError(BlinkError):
    """Blink returned HTTP 429, so no request is sent before ``retry_after`` seconds pass."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BlinkApiError(BlinkError):
    """Blink returned a JSON error body with a message and a numeric code."""

    def __init__(self, message: str, *, code: int | None = None,
                 http_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status


class BusyError(BlinkApiError):
    """The sync module is still running another command (Blink code 307)."""


class NotFoundError(BlinkApiError):
    """The network, device or media is not known to Blink."""


class CommandFailedError(BlinkApiError):
    """A command completed with a status code other than 908 (success)."""


class CommandTimeoutError(BlinkError):
    """A command was still running when the wait for it ran out."""

    def __init__(self, message: str, *, command_id: int, waited_seconds: float) -> None:
        super().__init__(message)
        self.command_id = command_id
        self.waited_seconds = waited_seconds


class TransientError(BlinkError):
    """A failure that should pass by itself: timeout, HTTP 5xx, unreadable body."""


class InvalidResponseError(TransientError):
    """A response body that lacks fields it must have."""
