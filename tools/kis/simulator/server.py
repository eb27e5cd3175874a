"""`SimulatorServer`: the simulator on a loopback port, served by uvicorn in a background thread."""

from __future__ import annotations

from types import TracebackType

import uvicorn

from tools.kis.masking import MASKER, install_log_masking
from tools.kis.simulator.app import app_for_state
from tools.kis.simulator.config import SimulatorConfig
from tools.kis.simulator.faults import FaultInjector, SimulatorStats
from tools.kis.simulator.state import SimulatorState, build_state
from tools.kis.simulator.store import Order
from tools.loopback import BackgroundServer

ACCESS_LOGGERS = ("uvicorn.access", "uvicorn.error")


class SimulatorServer:
    """Run the simulator on 127.0.0.1 for the life of a ``with`` block (or start()/stop())."""

    def __init__(
        self, cfg: SimulatorConfig, port: int = 0, *, host: str = "127.0.0.1", reset: bool = False
    ) -> None:
        """Prepare the simulator; port 0 picks a free port when started."""
        self.cfg = cfg
        # Its access log carries request URLs, whose query strings name the account.
        MASKER.add(cfg.account_no, cfg.app_key, cfg.app_secret)
        install_log_masking(*ACCESS_LOGGERS)
        self.state: SimulatorState = build_state(cfg, reset=reset)
        self._host = host
        self._port = port
        self._background: BackgroundServer | None = None

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
        self._background = BackgroundServer(
            app_for_state(self.state), host=self._host, port=self._port, name="kis-sim"
        )
        self._port = self._background.start()

    def stop(self) -> None:
        """Stop serving (held 'timeout' answers are released) and close the store."""
        self.state.stopping.set()
        if self._background is not None:
            self._background.stop()
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
