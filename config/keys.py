"""Creates the local key file for ``make serve`` once: ``python -m config.keys var/keys.env``.

SECRET_KEY and FIELD_ENCRYPTION_KEY are random, written with mode 0600, and never replaced: the field
key encrypts personal data at rest, so a new one would make every stored ID and phone unreadable.
A real deployment puts both in its secret store instead (README, "Deploying").
"""

import os
import secrets
import sys
from pathlib import Path


def ensure_key_file(path: Path) -> bool:
    """Write a new key file unless one exists; True when it was created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    content = f"SECRET_KEY={secrets.token_urlsafe(50)}\nFIELD_ENCRYPTION_KEY={secrets.token_urlsafe(50)}\n"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as handle:
        handle.write(content)
    return True


def main(argv: list[str]) -> int:
    path = Path(argv[1] if len(argv) > 1 else "var/keys.env")
    if ensure_key_file(path):
        print(f"created {path} (mode 0600): keep it, it decrypts the personal data stored so far")
    elif path.stat().st_mode & 0o077:
        print(f"{path} is readable by others: chmod 600 {path}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
