"""A small HTTP client for the rehearsal, on the standard library's keep-alive connections.

``httpx`` is a test dependency only; the rehearsal is a command organizers run on an installation
without the test tools, so it speaks HTTP/1.1 through ``http.client``.
"""

import http.client
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

# uvicorn closes a keep-alive connection after 5 s idle; reusing one it may have closed could make
# a POST fail half-way (and retrying a POST is not safe), so an idle connection is reopened first.
_IDLE_SECONDS = 2.0


class RehearsalFailed(Exception):
    """The rehearsal found a problem; ``message_zh`` / ``message_en`` say which."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en


@dataclass(frozen=True, slots=True)
class Response:
    request: str  # "POST /api/…", to name it in a failure
    status: int
    content_type: str
    content: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.content)
        except ValueError as exc:
            raise RehearsalFailed(
                f"{self.request} 的答复不是 JSON：{exc}", f"{self.request}: not JSON: {exc}"
            ) from exc


class ApiError(RehearsalFailed):
    """A request did not get the answer the rehearsal expected."""

    def __init__(self, method: str, path: str, response: Response, expected: int) -> None:
        detail = response.content[:500].decode("utf-8", "replace")
        zh = en = ""
        if response.content_type.startswith("application/json"):
            try:
                body = json.loads(response.content)
            except ValueError:
                body = None
            if isinstance(body, dict) and "code" in body:
                detail = str(body["code"])
                zh = f"：{body.get('message_zh', '')}"
                en = f": {body.get('message_en', '')}"
        super().__init__(
            f"{method} {path} 返回 {response.status}（应为 {expected}）{detail}{zh}",
            f"{method} {path} answered {response.status} (expected {expected}) {detail}{en}",
        )
        self.status = response.status
        self.response = response


class Api:
    """One caller (a token, or none) on one connection: one per thread, like one tablet."""

    def __init__(self, host: str, port: int, token: str | None = None) -> None:
        self.host = host
        self.port = port
        self.token = token
        self._connection: http.client.HTTPConnection | None = None
        self._used_at = 0.0

    def as_token(self, token: str | None) -> "Api":
        return Api(self.host, self.port, token)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _send(self, method: str, path: str, body: bytes | None, content_type: str) -> Response:
        if self._connection is not None and time.monotonic() - self._used_at > _IDLE_SECONDS:
            self.close()
        if self._connection is None:
            self._connection = http.client.HTTPConnection(self.host, self.port, timeout=300)
        headers = {"Accept": "*/*"}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        if body is not None:
            headers["Content-Type"] = content_type
        try:
            self._connection.request(method, path, body=body, headers=headers)
            reply = self._connection.getresponse()
            content = reply.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise RehearsalFailed(
                f"{method} {path} 请求失败：{exc!r}", f"{method} {path} failed: {exc!r}"
            ) from exc
        finally:
            self._used_at = time.monotonic()
        if reply.will_close:
            self.close()
        return Response(
            f"{method} {path}", reply.status, reply.getheader("Content-Type") or "", content
        )

    def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        expect: int = 200,
        form_file: tuple[str, str, bytes] | None = None,
    ) -> Response:
        """Send one request; anything but ``expect`` raises ApiError naming the request."""
        body: bytes | None = None
        content_type = ""
        if form_file is not None:
            body, content_type = _multipart(*form_file)
        elif json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            content_type = "application/json"
        elif method == "POST":
            body = b""
            content_type = "application/json"
        response = self._send(method, path, body, content_type)
        if response.status != expect:
            raise ApiError(method, path, response, expect)
        return response

    def get(self, path: str, *, expect: int = 200) -> Any:
        return self.call("GET", path, expect=expect).json()

    def post(self, path: str, json_body: Any = None, *, expect: int = 200) -> Any:
        response = self.call("POST", path, json_body=json_body, expect=expect)
        return response.json() if response.content else None


def _multipart(field: str, filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = f"jipiao-{uuid.uuid4().hex}"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), (
        f"multipart/form-data; boundary={boundary}"
    )
