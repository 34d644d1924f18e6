"""The worker service of the monorepo example."""


def handle(message: str) -> str:
    """Acknowledges one message."""
    return f"ack {message}"
