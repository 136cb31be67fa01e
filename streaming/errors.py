"""Errors that users see: each says what is wrong and what to do about it."""

from __future__ import annotations


class F1Error(Exception):
    """Base of the platform's user-facing errors; the CLI prints them without a traceback."""


class ConfigError(F1Error):
    """One or more environment variables have bad values; the message names each one."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            "Invalid configuration:\n  - "
            + "\n  - ".join(problems)
            + "\nFix these in the environment or in .env (.env.example lists every variable and its default)."
        )


class ServiceUnavailable(F1Error):
    """A service the platform needs is not reachable; the message says how to start it."""

    def __init__(self, service: str, where: str, variable: str, detail: str = ""):
        self.service = service
        super().__init__(
            f"{service} is not reachable at {where} ({variable}){': ' + detail if detail else ''}.\n"
            f"Start the local platform with `make up` (or `uv run f1 up {service}`), "
            f"or point {variable} at a running {service}."
        )


class InstallError(F1Error):
    """Something `make install` provides is missing."""
