"""The ElevenLabs Agents provider (outbound calls through ElevenLabs' Twilio integration)."""

from .provider import ElevenLabsProvider, HangUpUnsupported

__all__ = ["ElevenLabsProvider", "HangUpUnsupported"]
