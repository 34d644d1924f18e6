"""The worker acknowledges what it handles."""

from worker import handle


def test_handle_acknowledges() -> None:
    """Every message is acknowledged by name."""
    assert handle("m1") == "ack m1"
