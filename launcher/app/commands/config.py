"""``mlflow-launcher config ...``: General settings from the command line.

Only the settings a script or an administrator has reason to set without the tray live here;
today that is MLflow's usage telemetry (``config telemetry on|off``), off unless chosen.
"""

from __future__ import annotations

import argparse

from launcher.app.commands.common import EXIT_OK, load
from launcher.model.config import Config, ConfigStore


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="general settings")
    settings = p.add_subparsers(dest="setting", required=True, metavar="SETTING")
    t = settings.add_parser(
        "telemetry",
        help="share anonymous usage data with MLflow from the servers the launcher starts",
    )
    t.add_argument(
        "state", nargs="?", choices=("on", "off"), help="omit to print the current state"
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, store: ConfigStore) -> int:
    config = load(store)
    if args.state is None:
        print(_describe(config.settings.share_usage_data))
        return EXIT_OK
    share = args.state == "on"

    def change(c: Config) -> None:
        c.settings.share_usage_data = share

    store.update(change)
    print(_describe(share) + " (from each server's next start)")
    return EXIT_OK


def _describe(share: bool) -> str:
    if share:
        return "telemetry: on: servers may send MLflow's anonymous usage data"
    return "telemetry: off: servers run with MLFLOW_DISABLE_TELEMETRY=true and DO_NOT_TRACK=true"
