"""Bridge between a Blink camera account and an MQTT broker."""

__version__ = "0.1.0"
