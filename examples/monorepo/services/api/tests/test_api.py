"""The api service reports its own version."""

from api import served_version


def test_served_version_is_the_package_version() -> None:
    """The installed package knows its version."""
    assert served_version()
