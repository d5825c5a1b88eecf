"""The ceiling: a bare Starlette app on uvicorn answering a small JSON, with the same server stack
and options as ``cordee serve`` (uvloop, httptools, no access log). What Cordée does per request
comes on top of this; the benchmark reports Cordée's throughput as a fraction of it."""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODY = b'{"uri":"127.0.0.1","title":"ceiling","version":"4.5.0","languages":["en","fr"]}'


async def small_json(request: Request) -> Response:
    return Response(BODY, media_type="application/json")


app = Starlette(
    routes=[
        Route("/", small_json),
        Route("/api/v1/instance", small_json),
        Route("/api/v1/streaming/health", small_json),
    ]
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--granian", action="store_true", help="on granian, as `cordee serve --server granian`"
    )
    args = parser.parse_args()
    if args.granian:
        from granian import Granian
        from granian.constants import Interfaces, Loops
        from granian.log import LogLevels

        Granian(
            "bench.mix.ceiling:app",
            address="127.0.0.1",
            port=args.port,
            interface=Interfaces.ASGI,
            loop=Loops.uvloop,
            log_level=LogLevels.warning,
        ).serve()
        return
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        access_log=False,
        log_level="warning",
        loop="uvloop",
        http="httptools",
    )


if __name__ == "__main__":
    main()
