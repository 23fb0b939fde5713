"""``make talk``: the page served for a talk, every preset warmed in the background.

``python -m explorer.talk [--network] [--port 8501] [--warm-only | --first-page-only]``
starts the Streamlit server in this process, bound to 127.0.0.1 (``--network``: to every interface, for a
room whose audience opens the page on their own devices), and as soon as it answers
warms every preset (``explorer.warm``) in a background thread, printing one progress
line per step::

    warming preset 3/10: Worst case at 2%: U-Net vs FIRENET: reconstructions (...) (41 s so far)

The server's own process holds the warmed results in memory, so a preset opened after its
"done" line comes from the caches; the worst cases, reconstructions and stability curves
are on disk as well (``explorer.persist``), for the next start. ``--warm-only`` warms the
disk cache without a server and exits; ``--first-page-only`` warms only the page a visitor
first sees (``make app`` runs it before starting the server). File watching is off: an
edit during a talk never reloads the page.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
import urllib.request
from pathlib import Path

from explorer import process, warm

__all__ = ["main", "server_arguments"]

APP = Path(__file__).resolve().parents[1] / "app.py"
#: Longest wait for the server to answer before warming anyway (seconds).
START_SECONDS = 120.0


def server_arguments(port: int, network: bool) -> list[str]:
    """``streamlit run`` arguments: the address (127.0.0.1 unless ``network``), ``port``,
    headless, no file watcher."""
    if not 1 <= port <= 65535:
        raise ValueError(f"port must be in 1..65535, not {port}")
    return ["streamlit", "run", str(APP), "--server.address", "0.0.0.0" if network else "127.0.0.1",
            "--server.port", str(port), "--server.headless", "true", "--server.fileWatcherType", "none"]


def _say(line: str) -> None:
    print(line, flush=True)


class _NoThreadWarning(logging.Filter):
    """The warm-up thread calls the page's cached functions outside any page: Streamlit's
    notes about the missing page context are expected there, not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ("missing ScriptRunContext" in message or "No runtime found" in message
                    or "Session state does not function" in message)


def _quiet_streamlit() -> None:
    for name in ("streamlit", "streamlit.runtime.scriptrunner_utils.script_run_context",
                 "streamlit.runtime.caching.cache_data_api", "streamlit.runtime.state.session_state_proxy"):
        logging.getLogger(name).addFilter(_NoThreadWarning())


def _warm_when_up(port: int) -> None:
    url = f"http://127.0.0.1:{port}/_stcore/health"
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    process.configure()
    _say("warming every preset in the background; the page is usable meanwhile")
    try:
        warm.warm_presets(report=_say)
    except Exception as error:  # noqa: BLE001 - the server goes on; the page computes what is missing
        _say(f"warming stopped: {type(error).__name__}: {error}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make talk", description=__doc__.splitlines()[0])
    parser.add_argument("--network", action="store_true",
                        help="serve on every network interface instead of 127.0.0.1 only")
    parser.add_argument("--port", type=int, default=8501, help="port of the page (default 8501)")
    parser.add_argument("--warm-only", action="store_true",
                        help="warm the disk cache (worst cases, reconstructions, stability curves) and exit")
    parser.add_argument("--first-page-only", action="store_true",
                        help="warm the disk cache with the first page's results (no preset, no stability "
                             "curves) and exit")
    args = parser.parse_args(argv)
    if args.first_page_only or args.warm_only:  # no server: this process does the work
        _quiet_streamlit()
        process.configure()
    if args.first_page_only:
        try:
            warm.warm_first_page(report=_say)
        except (RuntimeError, ValueError) as error:  # the page computes what is missing
            _say(f"the first page: not warmed: {error}")
        return 0
    if args.warm_only:
        outcome = warm.warm_presets(report=_say)
        return 0 if all(isinstance(v, float) for v in outcome.values()) else 1
    try:
        command = server_arguments(args.port, args.network)
    except ValueError as error:
        parser.error(str(error))
    where = "every network interface" if args.network else "this computer only (127.0.0.1)"
    _say(f"Serving on {where}, port {args.port}; Ctrl+C stops it.")
    threading.Thread(target=_warm_when_up, args=(args.port,), name="explorer-talk-warm", daemon=True).start()
    from streamlit.web import cli

    _quiet_streamlit()
    sys.argv = command
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
