"""The FastAPI application factory."""

from fastapi import FastAPI

from app.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(
        title="jipiao 计票",
        version="0.1.0",
        description="无记名投票选举计票服务 — secret-ballot election tallying for congresses.",
    )
    app.state.settings = settings

    @app.get("/api/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
