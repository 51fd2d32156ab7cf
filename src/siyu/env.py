"""Reading settings from the environment, with safe defaults (the healthchecks idiom)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def envbool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def envstr(name: str, default: str = "") -> str:
    """A string setting; `NAME_FILE` (a path) wins over `NAME`, for secrets mounted as files."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        return Path(file_path).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


def data_dir() -> Path:
    path = Path(os.environ.get("SIYU_DATA_DIR") or Path.cwd() / "data").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def persistent_secret_key(directory: Path) -> str:
    """SECRET_KEY from the environment, else one generated on first run and kept in the data dir."""
    configured = envstr("SECRET_KEY")
    if configured:
        return configured
    key_file = directory / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        key_file.chmod(0o600)
    return key_file.read_text(encoding="utf-8").strip()


def encryption_keys(directory: Path) -> list[str]:
    """Fernet keys for secrets at rest: `SIYU_ENCRYPTION_KEYS` (comma-separated, newest first),
    else one generated on first run and kept in the data dir."""
    configured = envstr("SIYU_ENCRYPTION_KEYS")
    if configured:
        return [k.strip() for k in configured.split(",") if k.strip()]
    key_file = directory / "encryption_key"
    if not key_file.exists():
        from cryptography.fernet import Fernet

        key_file.write_text(Fernet.generate_key().decode(), encoding="utf-8")
        key_file.chmod(0o600)
    return [key_file.read_text(encoding="utf-8").strip()]
