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


def _stat_fields(pid: int) -> list[str] | None:
    """Fields 3.. of /proc/<pid>/stat (state, ppid, pgrp, ...), or None for no process or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces; it ends at the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    return None if fields[0] in ("Z", "X") else fields


def process_start_time(pid: int) -> str | None:
    """Start time of a live process in clock ticks (field 22), or None: with the pid, its identity."""
    fields = _stat_fields(pid)
    return fields[19] if fields else None


def is_same_process(pid: int, start_time: str | None) -> bool:
    """Whether `pid` is still the process that had `start_time` (a reused pid is another process)."""
    return start_time is not None and process_start_time(pid) == start_time


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """CPU time a live process has used so far (user + system), in seconds; 0 for no process."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") if fields else 0.0


def rss_kib(pid: int) -> int:
    """Resident memory of one process, KiB."""
    return _rss_kib(pid)


def command_line(pid: int) -> list[str]:
    """A process's arguments (empty when it is gone or a kernel thread)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        return [arg for arg in raw.decode(errors="replace").split("\0") if arg]
    except OSError:
        return []


def _group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in process group `pgid`."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields and fields[2] == str(pgid):
                members.append(int(entry.name))
    return members


def _wait_until(done, timeout_s: float, reap: int) -> None:
    deadline = time.monotonic() + timeout_s
    while not done() and time.monotonic() < deadline:
        _reap(reap)
        time.sleep(0.1)
    _reap(reap)


def _reap(pid: int) -> None:
    """Collect the exit status if `pid` is our own child, so that it leaves no zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


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
        if process_start_time(int(pid_text)) == started:
            return int(pid_text)
        self.pid_file.unlink(missing_ok=True)
        return None

    def last_child_pid(self) -> int | None:
        """The pid of the child the supervisor started last, alive or not: it changes on every restart."""
        try:
            return int(self.child_pid_file.read_text())
        except (OSError, ValueError):
            return None

    def child_pid(self) -> int | None:
        """The service's own pid while it runs."""
        if self.pid() is None:
            return None
        pid = self.last_child_pid()
        return pid if pid and process_start_time(pid) else None

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
        self.pid_file.write_text(f"{proc.pid} {process_start_time(proc.pid)}")
        return True

    def stop(self, timeout_s: float = 30.0) -> bool:
        """SIGTERM the supervisor, which stops its child; then end whatever the child left behind.

        Processes still in the group once the supervisor is gone get SIGTERM, then SIGKILL after a
        short grace, so that `down` never leaves a service's helper processes running.
        """
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        _wait_until(lambda: process_start_time(pid) is None, timeout_s, reap=pid)
        for sig, grace_s in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            members = _group_members(pid)
            if not members:
                break
            for member in members:
                with contextlib.suppress(OSError):
                    os.kill(member, sig)
            _wait_until(lambda: not _group_members(pid), grace_s, reap=pid)
        self.pid_file.unlink(missing_ok=True)
        self.child_pid_file.unlink(missing_ok=True)
        return True

    def members(self) -> list[int]:
        """The service's processes: every process in its group but the supervisor itself."""
        pid = self.pid()
        return [] if pid is None else [member for member in _group_members(pid) if member != pid]

    def rss_kib(self) -> int:
        """Resident memory of the service: every process in its group but the supervisor itself."""
        return sum(_rss_kib(member) for member in self.members())

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log yet)"
