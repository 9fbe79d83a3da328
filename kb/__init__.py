"""kb: a regulatory-readiness knowledge base with cited, extractive answers."""

__version__ = "0.1.0"
