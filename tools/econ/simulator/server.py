"""Run the economic-data simulator over real HTTP on the loopback interface.

`EconSimulatorServer` starts uvicorn in a background thread on 127.0.0.1 and a free port, and
stops it on exit. The access log is off: ECOS keys travel in the URL path.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Self

import uvicorn

from tools.econ.simulator.app import EconBaseUrls, EconSimulator

STARTUP_TIMEOUT_S = 10.0


class EconSimulatorServer:
    """A context manager serving an `EconSimulator` on ``http://127.0.0.1:<port>``."""

    def __init__(self, simulator: EconSimulator | None = None, port: int = 0) -> None:
        """Prepare the server; `port=0` asks the OS for a free port."""
        self.simulator = simulator or EconSimulator()
        config = uvicorn.Config(
            self.simulator.app(),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="econ-sim", daemon=True)
        self.port = port

    @property
    def root(self) -> str:
        """The server's origin, e.g. ``http://127.0.0.1:54321``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_urls(self) -> EconBaseUrls:
        """The base URLs for the three clients."""
        return self.simulator.base_urls(self.root)

    def start(self) -> None:
        """Start serving and wait until the socket listens."""
        self._thread.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the economic-data simulator did not start")
            time.sleep(0.01)
        sockets = [s for server in self._server.servers for s in server.sockets]
        self.port = int(sockets[0].getsockname()[1])

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for the thread."""
        self._server.should_exit = True
        self._thread.join(timeout=STARTUP_TIMEOUT_S)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
