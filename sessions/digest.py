import hashlib


def sha256_hex(value: str) -> str:
    """The at-rest form of a session key or token: its SHA-256, hex-encoded.

    These values carry 160+ bits of randomness, so an unsalted fast hash is
    enough; a stolen table cannot be reversed into usable keys."""
    return hashlib.sha256(value.encode()).hexdigest()
