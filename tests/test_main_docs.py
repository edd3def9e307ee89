"""/docs works offline (local Swagger assets) and the OpenAPI documents every endpoint with
examples."""

import re
from typing import Any

import pytest

from tests.builders import Api


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_reference_only_local_assets_that_are_served(api: Api, page: str) -> None:
    anonymous = api.as_token(None)
    html = anonymous.get(page)
    assert html.status_code == 200
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html.text)
    urls += re.findall(r"""url:\s*['"]([^'"]+)['"]""", html.text)
    assert urls, html.text
    assert not [u for u in urls if re.match(r"^(https?:)?//", u)], urls
    for url in urls:
        response = anonymous.get(url)
        assert response.status_code == 200, url
        assert len(response.content) > 100, url


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        resolved: dict[str, Any] = spec["components"]["schemas"][name]
        return resolved
    if schema.get("type") == "array":
        return _resolve(spec, schema["items"])
    return schema


def test_every_operation_is_documented_with_examples(api: Api) -> None:
    spec = api.as_token(None).get("/openapi.json").json()
    missing: list[str] = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            if not operation.get("summary"):
                missing.append(f"{where}: summary")
            body = operation.get("requestBody", {}).get("content", {})
            if "application/json" in body:
                schema = _resolve(spec, body["application/json"]["schema"])
                if not schema.get("examples"):
                    missing.append(f"{where}: request example")
            for status, response in operation["responses"].items():
                content = response.get("content", {}).get("application/json")
                if content is None or not content.get("schema"):
                    continue
                schema = _resolve(spec, content["schema"])
                if status.startswith("2") and path != "/api/health" and not schema.get("examples"):
                    missing.append(f"{where}: {status} example")
                if status.startswith("4"):
                    assert content["schema"]["$ref"].endswith("/ErrorRead"), where
    assert missing == []
