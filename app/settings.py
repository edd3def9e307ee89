"""Settings from the environment (prefix ``JIPIAO_``); nothing is built at import time."""

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JIPIAO_")

    data_dir: Path = Path("var")
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000

    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file in ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'jipiao.sqlite3').resolve()}"
