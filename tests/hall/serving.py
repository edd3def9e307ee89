"""``jipiao serve --hall`` / ``jipiao demo --hall`` started as a real command for the tests.

It listens on a non-loopback address of this machine (the one hall mode itself would choose,
``app.hall.address``); only a machine with no such address falls back to 127.0.0.1, where the
certificate still has to verify but a browser would count the page as secure without https.
"""

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from app.hall.address import lan_addresses

JIPIAO = Path(sys.executable).parent / "jipiao"
READY = "Uvicorn running on"


def hall_address() -> str:
    found = lan_addresses()
    return found[0].address if found else "127.0.0.1"


def free_port_pair(address: str) -> int:
    """A port free on ``address`` whose next port (hall mode's plain http) is free as well."""
    for _attempt in range(50):
        with socket.socket() as sock:
            sock.bind((address, 0))
            port: int = sock.getsockname()[1]
        if port >= 65535:
            continue
        try:
            with socket.socket() as neighbour:
                neighbour.bind((address, port + 1))
        except OSError:
            continue
        return port
    raise AssertionError(f"no two free neighbouring ports on {address}")


@dataclass
class HallRun:
    process: "subprocess.Popen[str]"
    address: str
    port: int
    lines: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"https://{self.address}:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://{self.address}:{self.port + 1}"

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, seconds: float = 60) -> str:
        deadline = time.monotonic() + seconds
        while text not in self.output:
            if self.process.poll() is not None:
                time.sleep(0.2)  # the reader may still be draining the last lines
                raise AssertionError(f"the command ended before {text!r}:\n{self.output}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} in time:\n{self.output}")
            time.sleep(0.05)
        return self.output

    def fingerprint(self) -> str:
        found = re.search(r"CA fingerprint \(SHA-256\): ([0-9A-F:]{95})", self.output)
        assert found is not None, self.output
        return found.group(1)


@contextmanager
def hall_command(
    command: str, data_dir: Path, *, address: str | None = None, port: int | None = None
) -> Iterator[HallRun]:
    """``jipiao <command> --hall --host ADDRESS --port PORT`` on ``data_dir``, until it serves."""
    address = address or hall_address()
    port = port or free_port_pair(address)
    env = os.environ | {"JIPIAO_DATA_DIR": str(data_dir)}
    for name in ("JIPIAO_HOST", "JIPIAO_PORT", "JIPIAO_PUBLIC_URL", "JIPIAO_HALL_HTTP_PORT"):
        env.pop(name, None)
    process = subprocess.Popen(
        [str(JIPIAO), command, "--hall", "--host", address, "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    run = HallRun(process, address, port)

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            run.lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        run.wait_for(READY)
        yield run
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(timeout=5)
        assert process.stdout is not None
        process.stdout.close()
