"""Site-wide background tasks."""

import os
import socket

from celery import shared_task


@shared_task(name="nplsite.health_ping")
def health_ping(token: str) -> dict:
    """Echo a token with the worker's identity: proves broker → worker → result backend works."""
    return {"token": token, "worker_pid": os.getpid(), "hostname": socket.gethostname()}
