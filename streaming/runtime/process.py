"""Supervised background processes with pid files and logs under the state folder.

Each service runs as `streaming.runtime.supervise` (the supervisor, whose pid is in `run/<name>.pid`) with
the real service as its child (`run/<name>.child.pid`), in a process group of its own, logging to
`logs/<name>.log`. The pid file also records the process start time, so that a reused pid is never
mistaken for a live service.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


def _start_time(pid: int) -> str | None:
    """Field 22 of /proc/<pid>/stat (start time in clock ticks), or None if no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces; it ends at the last ')'.
    after_name = stat[stat.rindex(")") + 2 :].split()
    if after_name[0] == "Z":  # a zombie is not alive
        return None
    return after_name[19]


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    members.append(int(entry.name))
            except OSError:
                continue
    return members


@dataclass(frozen=True)
class ManagedProcess:
    name: str
    run_dir: Path
    logs_dir: Path

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.pid"

    @property
    def child_pid_file(self) -> Path:
        return self.run_dir / f"{self.name}.child.pid"

    @property
    def log_file(self) -> Path:
        return self.logs_dir / f"{self.name}.log"

    def pid(self) -> int | None:
        """The supervisor's pid if it is running, else None (a stale pid file is removed)."""
        try:
            pid_text, started = self.pid_file.read_text().split()
        except (OSError, ValueError):
            return None
        if _start_time(int(pid_text)) == started:
            return int(pid_text)
        self.pid_file.unlink(missing_ok=True)
        return None

    def child_pid(self) -> int | None:
        if self.pid() is None:
            return None
        try:
            pid = int(self.child_pid_file.read_text())
        except (OSError, ValueError):
            return None
        return pid if _start_time(pid) else None

    def is_running(self) -> bool:
        return self.pid() is not None

    def start(self, cmd: list[str], env: dict[str, str], cwd: Path) -> bool:
        """Start the service under a supervisor; False if it was already running."""
        if self.is_running():
            return False
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.child_pid_file.unlink(missing_ok=True)
        supervisor = [
            sys.executable,
            "-m",
            "streaming.runtime.supervise",
            "--name",
            self.name,
            "--child-pid-file",
            str(self.child_pid_file),
            "--",
            *cmd,
        ]
        with open(self.log_file, "ab") as log:
            proc = subprocess.Popen(
                supervisor,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=cwd,
                env=env,
                start_new_session=True,
            )
        self.pid_file.write_text(f"{proc.pid} {_start_time(proc.pid)}")
        return True

    def stop(self, timeout_s: float = 30.0) -> bool:
        """SIGTERM the supervisor (which stops its child), then SIGKILL the group if it lingers."""
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and (_group_members(pid) or _start_time(pid)):
            time.sleep(0.2)
        for member in _group_members(pid):
            with contextlib.suppress(OSError):
                os.kill(member, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        self.child_pid_file.unlink(missing_ok=True)
        return True

    def rss_kib(self) -> int:
        """Resident memory of the service: every process in its group but the supervisor itself."""
        pid = self.pid()
        if pid is None:
            return 0
        return sum(_rss_kib(member) for member in _group_members(pid) if member != pid)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log yet)"
