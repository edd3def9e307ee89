"""Is the address ``jipiao serve`` / ``jipiao demo`` is about to listen on free?

Checked before anything is printed or issued: a taken port used to print every URL, the admin
token and the login codes and only then fail, the URLs leading to whatever program held the port
(and a first start's admin token, shown only once, was lost with it).
"""

import errno
import socket


def port_problem(host: str, port: int) -> str | None:
    """None if ``host:port`` can be bound now, else the one line (Chinese / English) saying why.

    The test binds as uvicorn does (``SO_REUSEADDR``: a port left in TIME_WAIT by the previous
    run is free, one another program listens on is not), then closes the socket again.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        return (
            f"无法解析地址 {host}：请用 --host 指定本机地址 / "
            f"cannot resolve host {host}: choose another with --host"
        )
    family, kind, proto, _name, address = infos[0]
    try:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return (
                f"端口 {port} 已被占用（{host}）：请用 --port 指定其他端口 / "
                f"port {port} on {host} is in use: choose another with --port"
            )
        if exc.errno == errno.EACCES:
            return (
                f"无权使用端口 {port}：请用 --port 指定 1024 以上的端口 / "
                f"no permission to use port {port}: choose one above 1024 with --port"
            )
        if exc.errno == errno.EADDRNOTAVAIL:
            return (
                f"地址 {host} 不属于本机：请用 --host 指定本机地址 / "
                f"{host} is not an address of this machine: choose another with --host"
            )
        return f"无法监听 {host}:{port} / cannot listen on {host}:{port}: {exc.strerror}"
    return None
