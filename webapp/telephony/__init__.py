"""Picks the telephony provider named by TELEPHONY_PROVIDER; the engine never imports one itself."""

from .base import Provider, ProviderError

_providers: dict[tuple, Provider] = {}
_registered: dict[str, Provider] = {}


def register(provider: Provider) -> None:
    """Make an extra provider object selectable as TELEPHONY_PROVIDER=provider.name (the fast
    state-machine tests plug in a scripted provider this way)."""
    _registered[provider.name] = provider


def provider_class(name: str) -> type:
    """The class of the provider named `name`, for its capabilities (no credentials needed)."""
    if name in _registered:
        return type(_registered[name])
    if name == "simulated":
        from .simulated import SimulatedProvider

        return SimulatedProvider
    if name == "elevenlabs":
        from .elevenlabs import ElevenLabsProvider

        return ElevenLabsProvider
    if name == "twilio":
        from .twilio.provider import TwilioProvider

        return TwilioProvider
    raise ProviderError(
        f"Unknown TELEPHONY_PROVIDER {name!r}: use 'simulated', 'elevenlabs' (ElevenLabs places the calls "
        "through your Twilio number) or 'twilio' (we place them and bridge the audio to ElevenLabs)"
    )


def _build(config) -> Provider:
    name = config["TELEPHONY_PROVIDER"]
    if name in _registered:
        return _registered[name]
    cls = provider_class(name)
    if name == "simulated":
        return cls(time_scale=config["SIMULATOR_TIME_SCALE"])
    if name == "elevenlabs":
        missing = [k for k in ("ELEVENLABS_API_KEY", "ELEVENLABS_AGENT_PHONE_NUMBER_ID") if not config.get(k)]
        if missing:
            raise ProviderError(f"TELEPHONY_PROVIDER=elevenlabs needs {', '.join(missing)}")
        return cls(
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
        needed = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER", "PUBLIC_BASE_URL",
                  "ELEVENLABS_API_KEY")  # fmt: skip
        missing = [k for k in needed if not config.get(k)]
        if missing:
            raise ProviderError(f"TELEPHONY_PROVIDER=twilio needs {', '.join(missing)}")
        return cls(
            account_sid=config["TWILIO_ACCOUNT_SID"],
            auth_token=config["TWILIO_AUTH_TOKEN"],
            from_number=config["TWILIO_FROM_NUMBER"],
            public_base_url=config["PUBLIC_BASE_URL"],
            elevenlabs_api_key=config["ELEVENLABS_API_KEY"],
            elevenlabs_api_base_url=config.get("ELEVENLABS_API_BASE_URL"),
            twilio_api_base_url=config.get("TWILIO_API_BASE_URL"),
            timeout=config.get("PROVIDER_TIMEOUT_SECONDS") or 10.0,
        )
    return cls()


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
    if key[0] in _registered:
        return _registered[key[0]]
    if key not in _providers:
        _providers[key] = _build(config)
    return _providers[key]
