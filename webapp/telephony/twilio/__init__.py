"""TELEPHONY_PROVIDER=twilio: we place the call with Twilio and relay its audio to the
ElevenLabs agent conversation socket ourselves (the media bridge)."""
