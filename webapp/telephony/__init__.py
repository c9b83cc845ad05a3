"""Picks the telephony provider named by TELEPHONY_PROVIDER; the engine never imports one itself."""

from .base import Provider, ProviderError

_providers: dict[tuple, Provider] = {}


def _build(config) -> Provider:
    name = config["TELEPHONY_PROVIDER"]
    if name == "simulated":
        from .simulated import SimulatedProvider

        return SimulatedProvider(time_scale=config["SIMULATOR_TIME_SCALE"])
    if name == "elevenlabs":
        from .elevenlabs import ElevenLabsProvider

        missing = [k for k in ("ELEVENLABS_API_KEY", "ELEVENLABS_AGENT_PHONE_NUMBER_ID") if not config.get(k)]
        if missing:
            raise ProviderError(f"TELEPHONY_PROVIDER=elevenlabs needs {', '.join(missing)}")
        return ElevenLabsProvider(
            api_key=config["ELEVENLABS_API_KEY"],
            api_base_url=config.get("ELEVENLABS_API_BASE_URL"),
            agent_phone_number_id=config["ELEVENLABS_AGENT_PHONE_NUMBER_ID"],
            twilio_account_sid=config.get("TWILIO_ACCOUNT_SID"),
            twilio_auth_token=config.get("TWILIO_AUTH_TOKEN"),
            twilio_api_base_url=config.get("TWILIO_API_BASE_URL"),
            twilio_region=config.get("TWILIO_REGION"),
            twilio_edge=config.get("TWILIO_EDGE"),
            timeout=config.get("PROVIDER_TIMEOUT_SECONDS") or 10.0,
        )
    if name == "twilio":
        from .twilio.provider import TwilioProvider

        needed = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER", "PUBLIC_BASE_URL",
                  "ELEVENLABS_API_KEY")  # fmt: skip
        missing = [k for k in needed if not config.get(k)]
        if missing:
            raise ProviderError(f"TELEPHONY_PROVIDER=twilio needs {', '.join(missing)}")
        return TwilioProvider(
            account_sid=config["TWILIO_ACCOUNT_SID"],
            auth_token=config["TWILIO_AUTH_TOKEN"],
            from_number=config["TWILIO_FROM_NUMBER"],
            public_base_url=config["PUBLIC_BASE_URL"],
            elevenlabs_api_key=config["ELEVENLABS_API_KEY"],
            elevenlabs_api_base_url=config.get("ELEVENLABS_API_BASE_URL"),
            twilio_api_base_url=config.get("TWILIO_API_BASE_URL"),
            timeout=config.get("PROVIDER_TIMEOUT_SECONDS") or 10.0,
        )
    raise ProviderError(
        f"Unknown TELEPHONY_PROVIDER {name!r}: use 'simulated', 'elevenlabs' (ElevenLabs places the calls "
        "through your Twilio number) or 'twilio' (we place them and bridge the audio to ElevenLabs)"
    )


def get_provider(config) -> Provider:
    """One provider object per process and configuration."""
    key = tuple(
        config.get(k)
        for k in (
            "TELEPHONY_PROVIDER",
            "SIMULATOR_TIME_SCALE",
            "ELEVENLABS_API_KEY",
            "ELEVENLABS_API_BASE_URL",
            "TWILIO_ACCOUNT_SID",
            "TWILIO_API_BASE_URL",
            "TWILIO_REGION",
            "TWILIO_EDGE",
            "TWILIO_FROM_NUMBER",
            "PUBLIC_BASE_URL",
            "PROVIDER_TIMEOUT_SECONDS",
        )  # fmt: skip
    )
    if key not in _providers:
        _providers[key] = _build(config)
    return _providers[key]
