"""The api service of the monorepo example."""

from importlib.metadata import version


def served_version() -> str:
    """The version /version reports (PEP 440, as the package knows it)."""
    return version("api")
