"""``cutover serve`` starts the dashboard on the host and port asked for."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from cutover.commands.workspace import write_workspace


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_serve_answers_with_the_sign_in_page_and_sends_strangers_there(tmp_path: Path) -> None:
    write_workspace(tmp_path / "ws", name="served", documents=None)
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cutover",
            "serve",
            "--port",
            str(port),
            "--workspace",
            str(tmp_path / "ws"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as page:
                    body = page.read().decode()
                    final_url = page.geturl()
                break
            except (ConnectionError, urllib.error.URLError):
                assert server.poll() is None, "the server exited"
                assert time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.1)
        assert final_url == f"http://127.0.0.1:{port}/login?next=/"
        assert "Sign in" in body
        assert "served" in body
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stdout is not None:
            server.stdout.close()
