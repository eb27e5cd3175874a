"""Run the economic-data simulator over real HTTP on the loopback interface.

`EconSimulatorServer` starts uvicorn in a background thread on 127.0.0.1 and a free port, and
stops it on exit. The access log is off: ECOS keys travel in the URL path.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from tools.econ.simulator.app import EconBaseUrls, EconSimulator
from tools.loopback import BackgroundServer


class EconSimulatorServer:
    """A context manager serving an `EconSimulator` on ``http://127.0.0.1:<port>``."""

    def __init__(self, simulator: EconSimulator | None = None, port: int = 0) -> None:
        """Prepare the server; `port=0` asks the OS for a free port."""
        self.simulator = simulator or EconSimulator()
        self._background = BackgroundServer(
            self.simulator.app(), port=port, name="econ-sim", access_log=False
        )

    @property
    def port(self) -> int:
        """The bound port (after start)."""
        return self._background.port

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
        self._background.start()

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for the thread."""
        self._background.stop()

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
