"""The pages and assets over HTTP (no browser): served from the app, never a CDN."""

import re

from fastapi.testclient import TestClient

from app.web.router import PAGES


def test_every_page_is_chinese_html_with_local_assets(client: TestClient) -> None:
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert '<html lang="zh-CN">' in response.text
        # Static attributes only: `:src`/`:href` are Alpine bindings evaluated in the page.
        sources = re.findall(r'(?<![:\w-])(?:src|href)="([^"]+)"', response.text)
        assert sources
        for source in sources:
            assert source.startswith(("/", "data:", "#")), f"{path} loads {source} from elsewhere"
            assert not source.startswith("//"), f"{path} loads {source} from elsewhere"
            if source.startswith("/"):
                assert client.get(source).status_code == 200, source


def test_assets_and_the_service_worker(client: TestClient) -> None:
    jsqr = client.get("/web/static/jsQR.js")
    assert jsqr.status_code == 200
    assert jsqr.headers["content-type"].startswith("text/javascript")
    assert "jsQR" in jsqr.text
    assert "Apache License" in client.get("/web/static/jsQR.LICENSE.txt").text
    worker = client.get("/tablet-sw.js")
    assert worker.status_code == 200
    assert worker.headers["service-worker-allowed"] == "/"
    for shell in re.findall(r'"(/[^"]*)"', worker.text.split("];")[0]):
        assert client.get(shell).status_code == 200, shell


def test_only_listed_files_are_served(client: TestClient) -> None:
    for path in ("/web/static/router.py", "/web/static/..%2Frouter.py", "/web/static/VENDORED.md"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"
