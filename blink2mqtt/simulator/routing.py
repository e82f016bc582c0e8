"""Path-template routing for the simulator's handlers.

Templates use ``{name}`` for a decimal id (passed to the handler as int) and
``{name:str}`` for any other single path segment (passed as str).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Generic, TypeVar

from blink2mqtt.simulator.http_types import SimResponse, json_response

RouteParams = dict[str, "int | str"]
# Each host uses its own handler signature, and the router only stores and returns handlers.
HandlerT = TypeVar("HandlerT")

_PLACEHOLDER = re.compile(r"\{(?P<name>[a-z_]+)(?::(?P<kind>str))?\}")


@dataclass(frozen=True)
class Route(Generic[HandlerT]):
    method: str
    pattern: re.Pattern[str]
    int_params: frozenset[str]
    handler: HandlerT


def _compile(template: str) -> tuple[re.Pattern[str], frozenset[str]]:
    int_params: set[str] = set()
    parts: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[position : match.start()]))
        name = match["name"]
        if match["kind"] == "str":
            parts.append(f"(?P<{name}>[^/]+)")
        else:
            parts.append(f"(?P<{name}>\\d+)")
            int_params.add(name)
        position = match.end()
    parts.append(re.escape(template[position:]))
    return re.compile("".join(parts) + r"\Z"), frozenset(int_params)


class Router(Generic[HandlerT]):
    def __init__(self) -> None:
        self._routes: list[Route[HandlerT]] = []

    def add(self, method: str, template: str, handler: HandlerT) -> None:
        pattern, int_params = _compile(template)
        self._routes.append(Route(method.upper(), pattern, int_params, handler))

    def resolve(self, method: str, path: str) -> tuple[HandlerT, RouteParams] | SimResponse:
        """Return the handler and its parameters, or the 404/405 response to send."""
        path_matched = False
        for route in self._routes:
            match = route.pattern.match(path)
            if match is None:
                continue
            path_matched = True
            if route.method != method:
                continue
            params: RouteParams = {
                name: int(value) if name in route.int_params else value for name, value in match.groupdict().items()
            }
            return route.handler, params
        if path_matched:
            return json_response(405, {"message": f"Method {method} not allowed on {path}"})
        return json_response(404, {"message": f"Not found: {path}"})
