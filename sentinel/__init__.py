"""sentinel: security monitoring for file-exchange servers."""

__version__ = "0.1.0"
