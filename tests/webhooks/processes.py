"""``entente worker`` as a real process, for crash and scale-out tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from service.config import Settings


def environment(settings: Settings, data_dir: Path, **overrides: str) -> dict[str, str]:
    values = {
        "ENTENTE_DATABASE_URL": settings.resolved_database_url,
        "ENTENTE_DATA_DIR": str(data_dir),
        "ENTENTE_SECRETS_KEY": settings.secrets_key.get_secret_value(),
        "ENTENTE_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1",
        "ENTENTE_WEBHOOK_ALLOW_HTTP": "true",
        "ENTENTE_WEBHOOK_RETRY_SCHEDULE": "0.2,0.2,0.2,0.2,0.2",
        "ENTENTE_WEBHOOK_RETRY_JITTER": "0",
        "ENTENTE_WORKER_POLL_SECONDS": "0.2",
        "ENTENTE_WORKER_JOBS_INTERVAL_SECONDS": "0.3",
        "ENTENTE_WORKER_LEASE_SECONDS": "2",
        "ENTENTE_LOG_LEVEL": "WARNING",
        **overrides,
    }
    return {**os.environ, **values}


def start_worker(env: dict[str, str], name: str, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "service", "worker", "--name", name]
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
