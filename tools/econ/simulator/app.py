"""The simulated twin of ECOS, FRED and OpenDART: one ASGI app with three mounts.

    /ecos/...  answers like https://ecos.bok.or.kr/api/...
    /fred/...  answers like https://api.stlouisfed.org/fred/...
    /dart/...  answers like https://opendart.fss.or.kr/api/...

Use it in-process (`EconSimulator.transport()`, an `httpx.ASGITransport`) or over real HTTP
(`tools.econ.simulator.server.EconSimulatorServer`). Point the clients at it with
`EconSimulator.base_urls(root)`, or with the settings ECOS_BASE_URL / FRED_BASE_URL /
DART_BASE_URL when it runs as a server.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from tools.econ.simulator.dart_app import DartSimulator
from tools.econ.simulator.ecos_app import EcosSimulator
from tools.econ.simulator.fred_app import FredSimulator
from tools.econ.simulator.state import SimulatorState

IN_PROCESS_ROOT = "http://econ-simulator.invalid"
"""The origin used with the in-process transport (never resolved)."""


@dataclass(frozen=True)
class EconBaseUrls:
    """Where each client should send its requests."""

    ecos: str
    fred: str
    dart: str


class EconSimulator:
    """The three simulated services over one shared state (keys, today, faults)."""

    def __init__(self, state: SimulatorState | None = None) -> None:
        """Build the services; a default state accepts the `SimulatorKeys` default keys."""
        self.state = state or SimulatorState()
        self.ecos = EcosSimulator(self.state)
        self.fred = FredSimulator(self.state)
        self.dart = DartSimulator(self.state)

    def app(self) -> Starlette:
        """One ASGI app serving the three services under /ecos, /fred and /dart."""
        return Starlette(
            routes=[
                Mount("/ecos", app=self.ecos.app()),
                Mount("/fred", app=self.fred.app()),
                Mount("/dart", app=self.dart.app()),
            ]
        )

    def transport(self) -> httpx.ASGITransport:
        """An in-process transport to the app (use with `base_urls()`)."""
        return httpx.ASGITransport(app=self.app())

    @staticmethod
    def base_urls(root: str = IN_PROCESS_ROOT) -> EconBaseUrls:
        """The base URLs of the three services under `root`."""
        root = root.rstrip("/")
        return EconBaseUrls(ecos=f"{root}/ecos", fred=f"{root}/fred", dart=f"{root}/dart")
