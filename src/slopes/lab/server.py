"""Serving the lab with uvicorn on 127.0.0.1: in the foreground (:func:`serve`) or in a thread (:class:`LabServer`).

The socket is bound here, before uvicorn starts, so that port 0 (any free port) gives a
known URL to print and open.

Examples
--------
>>> with LabServer() as server:
...     server.url.startswith("http://127.0.0.1:")
True
"""

from __future__ import annotations

import socket
import threading
import time
import webbrowser

from .workers import WORKERS

__all__ = ["HOST", "LabServer", "bind", "serve"]

#: The lab listens on the loopback interface only.
HOST = "127.0.0.1"


def bind(port: int = 0) -> socket.socket:
    """A listening TCP socket on 127.0.0.1:``port`` (0: a free port chosen by the system).

    Raises
    ------
    OSError
        With a message naming the port when it is taken.

    Examples
    --------
    >>> sock = bind(0); port = sock.getsockname()[1]; sock.close()
    >>> 0 < port < 65536
    True
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((HOST, port))
    except OSError as e:
        sock.close()
        raise OSError(f"cannot listen on {HOST}:{port} ({e.strerror or e}); choose another --port or 0 for any") from None
    sock.listen(128)
    return sock


def _server(sock: socket.socket, workers: int = 0):
    import uvicorn

    from .app import create_app

    config = uvicorn.Config(create_app(workers=workers), log_level="warning", access_log=False, lifespan="off")
    return uvicorn.Server(config)


def _close_pool(server) -> None:
    app = getattr(getattr(server, "config", None), "app", None)
    pool = getattr(getattr(app, "state", None), "pool", None)
    if pool is not None:
        pool.close()


def serve(port: int = 0, *, open_browser: bool = True, echo=print, workers: int = WORKERS) -> None:
    """Serve the lab on 127.0.0.1 until interrupted (Ctrl-C); print its URL and open it.

    Parameters
    ----------
    port : int
        0 for a free port.
    open_browser : bool
        Open the URL with :mod:`webbrowser` once the server listens.
    echo : callable
        Where the URL line goes.
    workers : int
        Processes computing the pages (:class:`~slopes.lab.workers.PagePool`); 0 for the
        server's own threads.

    Examples
    --------
    >>> serve(port=-1)
    Traceback (most recent call last):
    ...
    OverflowError: bind(): port must be 0-65535.
    """
    sock = bind(port)
    url = f"http://{HOST}:{sock.getsockname()[1]}/"
    server = _server(sock, workers=workers)
    echo(f"slopes lab running at {url} (Ctrl-C to stop)")
    if open_browser:  # the socket already listens: the browser's request waits in its queue
        webbrowser.open(url)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        _close_pool(server)


class LabServer:
    """The lab served by uvicorn in a background thread, for tests and notebooks.

    Use it as a context manager (the server stops at the end of the block) or call
    :meth:`start` / :meth:`stop`. :attr:`url` is ``http://127.0.0.1:<port>/``.

    Examples
    --------
    >>> server = LabServer().start()
    >>> server.url.endswith("/")
    True
    >>> server.stop()
    """

    def __init__(self, port: int = 0):
        self.port = port
        self.url = ""
        self._server = None
        self._thread = None
        self._sock = None

    def start(self) -> LabServer:
        self._sock = bind(self.port)
        self.url = f"http://{HOST}:{self._sock.getsockname()[1]}/"
        self._server = _server(self._sock)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="slopes-lab-server", daemon=True
        )
        self._thread.start()
        for _ in range(500):  # up to 5 s for uvicorn to start
            if self._server.started or not self._thread.is_alive():
                break
            time.sleep(0.01)
        if not self._server.started:
            self.stop()
            raise RuntimeError("the lab server did not start")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        if self._sock is not None:
            self._sock.close()

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
