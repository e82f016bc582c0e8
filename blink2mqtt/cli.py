"""Command-line interface: run, login, check-config, simulator and demo."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import signal
import sys
from pathlib import Path
from typing import Callable, Sequence

from . import __version__
from .config import Config, ConfigError, load_config, validate_config
from .logs import REDACTOR, configure_logging

_LOGGER = logging.getLogger("blink2mqtt")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="blink2mqtt",
        description="Bridge a Blink camera account to MQTT and Home Assistant.")
    parser.add_argument("--version", action="version", version=f"blink2mqtt {__version__}")
    log_level = argparse.ArgumentParser(add_help=False)
    log_level.add_argument("--log-level", choices=["debug", "info", "warning", "error"],
                           default=argparse.SUPPRESS,
                           help="log level; overrides logging.level from the config")
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"],
                        help="log level; overrides logging.level from the config")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND",
                                     parser_class=_subparser_with(log_level))
    commands.required = True

    run = commands.add_parser("run", help="run the bridge")
    run.add_argument("-c", "--config", type=Path, required=True, help="path to config.yaml")

    login = commands.add_parser("login", help="sign in to Blink interactively and store the tokens")
    login.add_argument("-c", "--config", type=Path, required=True, help="path to config.yaml")

    check = commands.add_parser("check-config", help="validate a config file without connecting")
    check.add_argument("-c", "--config", type=Path, required=True, help="path to config.yaml")

    simulator = commands.add_parser("simulator", help="run the local Blink cloud on its own")
    simulator.add_argument("--host", default="127.0.0.1", help="address to listen on")
    simulator.add_argument("--port", type=int, default=8080, help="TCP port (default 8080)")
    simulator.add_argument("--require-2fa", action="store_true",
                           help="make the demo account ask for a two-factor PIN")

    demo = commands.add_parser(
        "demo", help="run the local Blink cloud and the bridge together, no account needed")
    demo.add_argument("-c", "--config", type=Path,
                      help="optional config.yaml for the broker settings")
    demo.add_argument("--motion-every", type=float, default=20.0, metavar="SECONDS",
                      help="trigger motion on a random demo camera this often, in seconds "
                           "(default 20; 0 = never)")
    demo.add_argument("--poll-interval", type=float, default=5.0, metavar="SECONDS",
                      help="homescreen poll interval against the local cloud, in seconds "
                           "(default 5)")
    return parser


def _subparser_with(parent: argparse.ArgumentParser) -> type[argparse.ArgumentParser]:
    """Subcommand parsers that also accept the shared options after the subcommand."""

    class SubcommandParser(argparse.ArgumentParser):
        def __init__(self, *args: object, **kwargs: object) -> None:
            kwargs.setdefault("parents", [parent])  # type: ignore[arg-type]
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    return SubcommandParser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {
        "run": _cmd_run,
        "login": _cmd_login,
        "check-config": _cmd_check_config,
        "simulator": _cmd_simulator,
        "demo": _cmd_demo,
    }
    try:
        return handlers[args.command](args)
    except ConfigError as err:
        print(f"blink2mqtt: {err}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return EXIT_OK


def _load(args: argparse.Namespace) -> Config:
    config = load_config(args.config)
    configure_logging(args.log_level or config.logging["level"])
    REDACTOR.add(config.blink.get("password"))
    REDACTOR.add(config.mqtt.get("password"))
    return config


def _cmd_check_config(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    print(f"{args.config}: valid")
    print(f"  Blink account: {config.blink.get('email') or '(none; use blink2mqtt login)'}")
    print(f"  MQTT broker:   {config.mqtt['host']}:{config.mqtt['port']} "
          f"(MQTT {config.mqtt['protocol']}, base topic {config.mqtt['base_topic']})")
    print(f"  Poll interval: {config.bridge['poll_interval']:g} s")
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    config = _load(args)
    from .bridge.bridge import Bridge

    async def run() -> None:
        bridge = Bridge(config)
        bridge.client.session.add_secret_listener(REDACTOR.add)
        _install_signal_handlers(bridge.stop)
        await bridge.run()

    _LOGGER.info("blink2mqtt %s starting", __version__)
    asyncio.run(run())
    return EXIT_OK


def _cmd_login(args: argparse.Namespace) -> int:
    config = _load(args)
    from .blink import errors as blink_errors
    from .blink.client import BlinkClient
    from .bridge.bridge import client_config_from

    email = config.blink.get("email") or input("Blink email: ").strip()
    password = config.blink.get("password") or getpass.getpass("Blink password: ")
    REDACTOR.add(password)

    async def login() -> int:
        async with BlinkClient(client_config_from(config)) as client:
            client.session.add_secret_listener(REDACTOR.add)
            try:
                await client.login(email, password)
            except blink_errors.PinRequiredError:
                for _attempt in range(3):
                    pin = input("Blink sent a PIN; enter it: ").strip()
                    REDACTOR.add(pin)
                    try:
                        await client.submit_pin(pin)
                        break
                    except blink_errors.PinRejectedError as err:
                        print(f"{err}", file=sys.stderr)
                else:
                    return EXIT_FAILURE
            except blink_errors.BlinkError as err:
                print(f"Login failed: {err}", file=sys.stderr)
                return EXIT_FAILURE
            state = client.session.state
            print(f"Logged in: account {state.account_id} on tier {state.tier}; "
                  f"tokens stored in {client.config.token_file}")
            return EXIT_OK

    return asyncio.run(login())


def _cmd_simulator(args: argparse.Namespace) -> int:
    configure_logging(args.log_level or "info")
    from .simulator import run_standalone

    run_standalone(args.host, args.port, require_2fa=args.require_2fa)
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    config = load_config(args.config) if args.config else validate_config({})
    configure_logging(args.log_level or config.logging["level"])
    return run_demo(config, motion_every=args.motion_every, poll_interval=args.poll_interval)


def _install_signal_handlers(stop: Callable[[], None]) -> None:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop)
        except (NotImplementedError, RuntimeError):
            pass


if __name__ == "__main__":
    sys.exit(main())
