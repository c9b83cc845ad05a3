"""The simulated telephony provider: scripted, time-driven calls for demos, tests and benchmarks."""

from .provider import SimulatedProvider
from .scenarios import TEST_NUMBERS

__all__ = ["TEST_NUMBERS", "SimulatedProvider"]
