"""A tiny process supervisor: runs one service, restarts it when it dies, stops it on SIGTERM.

`python -m streaming.runtime.supervise --name kafka --child-pid-file F -- CMD...` is what the local runtime
starts for every service. Restarts back off (1 s, 2 s, 4 s ... 30 s) and give up after too many within a
window, so that a service that cannot start does not spin; the log says why.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path

_stopping = False
_child: subprocess.Popen | None = None


def _log(name: str, message: str) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
    print(f"[{stamp}] [f1-supervisor:{name}] {message}", flush=True)


def _on_stop(signum, _frame) -> None:
    global _stopping
    _stopping = True
    if _child is not None and _child.poll() is None:
        _child.send_signal(signal.SIGTERM)


def supervise(name: str, cmd: list[str], child_pid_file: Path, max_restarts: int, window_s: float) -> int:
    global _child
    signal.signal(signal.SIGTERM, _on_stop)
    signal.signal(signal.SIGINT, _on_stop)
    restarts: list[float] = []
    while True:
        _log(name, "starting: " + " ".join(cmd))
        _child = subprocess.Popen(cmd)
        child_pid_file.write_text(str(_child.pid))
        code = _child.wait()
        if _stopping:
            _log(name, f"stopped (exit code {code})")
            return 0
        now = time.monotonic()
        restarts = [t for t in restarts if now - t < window_s] + [now]
        if len(restarts) > max_restarts:
            _log(
                name, f"exited with code {code}; {len(restarts)} failures within {window_s:.0f} s, giving up"
            )
            return 1
        backoff = min(30.0, 2.0 ** (len(restarts) - 1))
        _log(name, f"exited with code {code}; restarting in {backoff:.0f} s")
        deadline = time.monotonic() + backoff
        while time.monotonic() < deadline and not _stopping:
            time.sleep(0.2)
        if _stopping:
            return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--name", required=True)
    parser.add_argument("--child-pid-file", required=True, type=Path)
    parser.add_argument("--max-restarts", type=int, default=5)
    parser.add_argument("--window", type=float, default=300.0, help="seconds over which restarts are counted")
    parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        parser.error("no command given after --")
    return supervise(args.name, cmd, args.child_pid_file, args.max_restarts, args.window)


if __name__ == "__main__":
    sys.exit(main())
