"""Simulated twin of ECOS, FRED and OpenDART (see `tools.econ.simulator.app`)."""

from tools.econ.simulator.app import EconBaseUrls, EconSimulator
from tools.econ.simulator.server import EconSimulatorServer
from tools.econ.simulator.state import (
    DART_SIM_KEY,
    ECOS_SIM_KEY,
    FRED_SIM_KEY,
    Service,
    SimulatorKeys,
    SimulatorState,
)

__all__ = [
    "DART_SIM_KEY",
    "ECOS_SIM_KEY",
    "FRED_SIM_KEY",
    "EconBaseUrls",
    "EconSimulator",
    "EconSimulatorServer",
    "Service",
    "SimulatorKeys",
    "SimulatorState",
]
