"""Running the server: ``jipiao serve`` and ``jipiao demo``."""

import uvicorn

from app.main import create_app
from app.settings import Settings


def serve(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    base = f"http://{settings.host}:{settings.port}"
    print(f"jipiao 计票 服务已启动 / service running: {base}/docs  (health: {base}/api/health)")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")


def demo(settings: Settings) -> None:
    serve(settings)


def db_upgrade(settings: Settings) -> None:
    raise SystemExit("database migrations are not set up yet")
