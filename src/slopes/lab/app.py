"""The lab's ASGI app (Starlette): the static pages and one JSON endpoint per page.

Endpoints
---------
``GET /<page>.html``
    The pages, assembled at startup (:mod:`slopes.lab.layout`); their scripts and style are static files.
``POST /api/<page>`` (derivative, landscape, race, sampling, lr_range)
    A JSON object of parameters in, the page's numbers and code out (:mod:`slopes.lab.compute`).
``POST /api/train``, ``GET /api/train/<id>/events``, ``POST /api/train/<id>/<pause|resume|stop>``
    Start a training run, follow it as server-sent events, stop and resume it.

A refused request gets status 413 (too large) or 422 with ``{"error": message}``, the message
naming what to change; the page shows it. Every response carries a strict
Content-Security-Policy (scripts, styles and connections from this origin only; no inline
code), ``X-Content-Type-Options: nosniff`` and no caching of computed data; requests for
another host name (DNS rebinding) are refused, and a POST must be ``application/json`` (a
cross-site form cannot send that without the browser asking first).

Examples
--------
>>> [route.path for route in create_app().routes if route.path.startswith("/api/")][:3]
['/api/derivative', '/api/landscape', '/api/race']
"""

from __future__ import annotations

import asyncio
import json
from importlib import resources

import anyio
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import HTMLResponse, JSONResponse, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .compute import PAGES, TrainingRun
from .inputs import LabInputError
from .layout import assemble_pages
from .limits import LIMITS
from .workers import PagePool, refusal, run_page

__all__ = ["COMPUTING_THREADS", "CSP", "HOSTS", "create_app"]

#: Page computations running at once; the others wait their turn. Python runs one thread at a
#: time, so more would only interleave them: each would finish later, none sooner, and each
#: thread would hold memory of its own.
COMPUTING_THREADS = 2

#: The Content-Security-Policy of every response.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
#: Host names the lab answers to (it listens on 127.0.0.1 only).
HOSTS = ("127.0.0.1", "localhost")
_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
_STATIC = resources.files("slopes.lab") / "static"


class _SecurityHeaders:
    """ASGI middleware adding the security headers (and no-store on the API) to every response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        api = scope["path"].startswith("/api/")

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", [])) + _HEADERS
                if api:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def _error(message: str, status: int = 422) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _read_body(request) -> dict:
    """The request's JSON object, or a LabInputError naming what is wrong with it."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise LabInputError("send the parameters as JSON (Content-Type: application/json)")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > LIMITS.max_body:
        raise _TooLarge()
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > LIMITS.max_body:
            raise _TooLarge()
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise LabInputError("the request is not valid JSON") from None
    if not isinstance(body, dict):
        raise LabInputError("send the parameters as a JSON object")
    return body


class _TooLarge(Exception):
    pass


async def _guarded(work):
    """Run ``work()`` and turn a refusal into a JSON error the page shows."""
    try:
        return await work()
    except _TooLarge:
        return _error(f"the request is over the lab's limit of {LIMITS.max_body} bytes; send less", 413)
    except Exception as e:
        message = refusal(e)
        if message is None:
            raise
        return _error(message)


def _page_endpoint(name: str, computing: list, pool: PagePool | None):
    async def endpoint(request):
        async def work():
            body = await _read_body(request)
            if pool is not None:
                return JSONResponse(await pool.run(name, body))
            if not computing:  # made in the event loop that serves the app
                computing.append(anyio.CapacityLimiter(COMPUTING_THREADS))
            return JSONResponse(await anyio.to_thread.run_sync(run_page, name, body, limiter=computing[0]))

        return await _guarded(work)

    return endpoint


class _Trainings:
    """The training runs of this app, at most ``LIMITS.max_trainings`` alive at once."""

    def __init__(self):
        self.runs: dict[str, TrainingRun] = {}

    def add(self, run: TrainingRun) -> None:
        alive = [r for r in self.runs.values() if not r.done]
        if len(alive) >= LIMITS.max_trainings:
            raise LabInputError(
                f"{len(alive)} training runs are already going (the lab's limit is {LIMITS.max_trainings}); "
                "stop one or wait for it to end"
            )
        finished = [k for k, r in self.runs.items() if r.done]
        for k in finished[: max(0, len(finished) - 8)]:  # keep the last few finished runs readable
            del self.runs[k]
        self.runs[run.id] = run

    def get(self, run_id: str) -> TrainingRun:
        run = self.runs.get(run_id)
        if run is None:
            raise LabInputError(f"no training run {run_id!r} (it ended long ago, or the lab restarted); start one")
        return run


def create_app(*, hosts=HOSTS, workers: int = 0) -> Starlette:
    """The lab as an ASGI app.

    Parameters
    ----------
    hosts : sequence of str
        Host names it answers to (others get 400, against DNS rebinding).
    workers : int
        0: pages are computed in the server's threads (:data:`COMPUTING_THREADS` at once);
        more: in that many worker processes (:class:`~slopes.lab.workers.PagePool`, at
        ``app.state.pool``; close it when done).

    Returns
    -------
    starlette.applications.Starlette

    Examples
    --------
    >>> app = create_app()
    >>> "/api/train/{run_id}/events" in [route.path for route in app.routes]
    True
    """
    trainings = _Trainings()
    computing: list = []
    pool = PagePool(workers).start() if workers else None

    async def train_start(request):
        async def work():
            body = await _read_body(request)
            run = await run_in_threadpool(TrainingRun, body)
            trainings.add(run)
            run.start()
            return JSONResponse({"id": run.id, "steps": run.setup.steps})

        return await _guarded(work)

    async def train_control(request):
        async def work():
            run = trainings.get(request.path_params["run_id"])
            action = request.path_params["action"]
            {"pause": run.pause, "resume": run.resume, "stop": run.cancel}[action]()
            return JSONResponse({"id": run.id, "paused": run.paused, "done": run.done})

        return await _guarded(work)

    async def train_events(request):
        try:
            run = trainings.get(request.path_params["run_id"])
        except LabInputError as e:
            return _error(str(e), 404)
        last = request.headers.get("last-event-id", "")
        start = int(last) + 1 if last.isdigit() else 0
        return StreamingResponse(_event_stream(run, start), media_type="text/event-stream")

    pages = assemble_pages()  # once: each page is then a fixed string, like a static file

    def page_endpoint(html: str):
        async def endpoint(request):
            return HTMLResponse(html)

        return endpoint

    routes = [
        Route("/", page_endpoint(pages["index.html"]), methods=["GET", "HEAD"]),
        *(Route(f"/{name}", page_endpoint(html), methods=["GET", "HEAD"]) for name, html in pages.items()),
        *(Route(f"/api/{name}", _page_endpoint(name, computing, pool), methods=["POST"]) for name in PAGES),
        Route("/api/train", train_start, methods=["POST"]),
        Route("/api/train/{run_id}/events", train_events, methods=["GET"]),
        Route("/api/train/{run_id}/{action:str}", train_control, methods=["POST"]),
        Mount("/", StaticFiles(directory=str(_STATIC)), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(_SecurityHeaders), Middleware(TrustedHostMiddleware, allowed_hosts=list(hosts))],
    )
    app.state.pool = pool
    return app


async def _event_stream(run: TrainingRun, index: int):
    """Server-sent events of ``run`` from ``index``: one ``data:`` JSON object each, until its end.

    A client that goes away before the end stops the run (its thread is freed for others).
    """
    quiet = 0.0
    try:
        while True:
            events = run.events_since(index)
            for event in events:
                yield f"id: {index}\ndata: {json.dumps(event, allow_nan=False)}\n\n"
                index += 1
                if event["event"] == "end":
                    return
            if events:
                quiet = 0.0
            elif quiet > 15.0:
                yield ": still here\n\n"  # a comment line keeps proxies and the browser from timing out
                quiet = 0.0
            await asyncio.sleep(0.1)
            quiet += 0.1
    finally:
        if not run.done:  # the page went away: nobody is watching this run any more
            run.cancel()
