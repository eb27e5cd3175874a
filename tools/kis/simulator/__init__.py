"""A KIS Open API simulator: a real HTTP server speaking KIS's wire format for tests and demos.

It is an independent twin of the live client (it shares no code with it), built from
`../shared/reference/kis-api.md` and the sample bodies, so a disagreement between the two shows up
in contract tests.
"""

from tools.kis.simulator.app import create_app
from tools.kis.simulator.config import SimulatorConfig
from tools.kis.simulator.server import SimulatorServer

__all__ = ["SimulatorConfig", "SimulatorServer", "create_app"]
