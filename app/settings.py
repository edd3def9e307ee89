"""Settings from the environment (prefix ``JIPIAO_``); nothing is built at import time."""

from pathlib import Path

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JIPIAO_")

    data_dir: Path = Path("var")
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    # uvicorn worker processes of ``jipiao serve``; more than one needs PostgreSQL (the live
    # streams of every worker are woken through LISTEN/NOTIFY; SQLite wakes only its own process).
    workers: int = 1
    # Where tablets reach the service; the login QR codes point here (default http://host:port).
    public_url: str = ""
    # Hall mode (``jipiao serve --hall``, app.hall): the plain-http port next to the https one,
    # which serves the CA page and redirects everything else to https; 0 when not in hall mode.
    hall_http_port: int = 0
    # An official's session lasts this long after logging in with a one-time code.
    session_hours: int = 14
    # SQLite: how long a request waits for the write lock before failing (milliseconds).
    sqlite_busy_timeout_ms: int = 30_000
    # Largest roster file accepted (bytes).
    max_upload_bytes: int = 5_000_000
    # Failed logins (wrong one-time codes) allowed within the window, per client address and in
    # total, before 429 (``app.loginguard`` explains the three limits).
    login_failures_per_client: int = 10
    login_failures_total: int = 100
    login_failure_window_seconds: int = 300

    @field_validator("data_dir")
    @classmethod
    def _absolute_data_dir(cls, value: Path) -> Path:
        # Resolved once, when the settings are read: the folder printed at start is the one used
        # (``var`` relative to wherever the service happened to be started is how keys got lost).
        return value.expanduser().resolve()

    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file in ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'jipiao.sqlite3').resolve()}"

    def resolved_public_url(self) -> str:
        """The base URL printed and encoded in login QR codes, without a trailing slash."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"
