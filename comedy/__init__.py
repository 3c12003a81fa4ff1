"""An AI stand-up comedian that performs live over the OpenAI Realtime API."""

__version__ = "0.1.0"
