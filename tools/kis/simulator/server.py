"""`SimulatorServer`: the simulator on a loopback port, served by uvicorn in a background thread."""

from __future__ import annotations

import socket
import threading
from types import TracebackType

import uvicorn

from tools.kis.simulator.app import app_for_state
from tools.kis.simulator.config import SimulatorConfig
from tools.kis.simulator.faults import FaultInjector, SimulatorStats
from tools.kis.simulator.state import SimulatorState, build_state
from tools.kis.simulator.store import Order

STARTUP_TIMEOUT_S = 10.0


class SimulatorServer:
    """Run the simulator on 127.0.0.1 for the life of a ``with`` block (or start()/stop())."""

    def __init__(
        self, cfg: SimulatorConfig, port: int = 0, *, host: str = "127.0.0.1", reset: bool = False
    ) -> None:
        """Prepare the simulator; port 0 picks a free port when started."""
        self.cfg = cfg
        self.state: SimulatorState = build_state(cfg, reset=reset)
        self._host = host
        self._port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """Return the bound port (after start)."""
        return self._port

    @property
    def base_url(self) -> str:
        """Return the URL to give the client, e.g. ``http://127.0.0.1:54321``."""
        return f"http://{self._host}:{self._port}"

    @property
    def faults(self) -> FaultInjector:
        """Return the fault injector."""
        return self.state.faults

    @property
    def stats(self) -> SimulatorStats:
        """Return the request counters."""
        return self.state.stats

    def broker_orders(self) -> list[Order]:
        """Return every order the simulated broker holds."""
        return self.state.broker_orders()

    def start(self) -> None:
        """Bind the port and serve in a background thread; return once it accepts connections."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            app_for_state(self.state),
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="kis-sim", daemon=True
        )
        self._thread.start()
        started = threading.Event()
        for _ in range(int(STARTUP_TIMEOUT_S / 0.01)):
            if self._server.started or not self._thread.is_alive():
                started.set()
                break
            started.wait(0.01)
        if not self._server.started:
            raise RuntimeError("the KIS simulator did not start")

    def stop(self) -> None:
        """Stop serving (held 'timeout' answers are released) and close the store."""
        self.state.stopping.set()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.state.store.close()

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (the CLI)."""
        config = uvicorn.Config(
            app_for_state(self.state), host=self._host, port=self._port, log_level="info"
        )
        try:
            uvicorn.Server(config).run()
        finally:
            self.state.stopping.set()
            self.state.store.close()

    def __enter__(self) -> SimulatorServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
