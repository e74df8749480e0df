"""A stand-in for a running MLflow server's experiment search, serving a real store's contents.

Starting a real MLflow server takes many seconds on a small machine; the server-side tests do
that already (tests/server/stores/test_experiments.py). The UI tests need the same answers,
quickly and with a delay they control: this serves ``ajax-api/2.0/mlflow/experiments/search``
from the experiments of a real store (read with the core's own store reader), as MLflow returns
them.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from launcher.model.naming import Experiment
from launcher.model.project import Project
from launcher.server.stores.experiments import read_store


class RestStub:
    def __init__(self, experiments: list[Experiment], *, delay: float = 0.0) -> None:
        self.experiments = experiments
        self.delay = delay
        self.requests = 0
        self.fail = False
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stub.requests += 1
                time.sleep(stub.delay)
                parts = urllib.parse.urlsplit(self.path)
                if stub.fail or parts.path != "/ajax-api/2.0/mlflow/experiments/search":
                    self.send_error(500 if stub.fail else 404)
                    return
                view = urllib.parse.parse_qs(parts.query).get("view_type", ["ACTIVE_ONLY"])[0]
                body = json.dumps({"experiments": stub.payload(view)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    @classmethod
    def of_store(cls, store: Path, *, delay: float = 0.0) -> RestStub:
        return cls(read_store(Project("stub", str(store)).parsed_store()), delay=delay)

    def payload(self, view: str) -> list[dict[str, object]]:
        chosen = [
            e
            for e in self.experiments
            if view == "ALL" or (e.active if view == "ACTIVE_ONLY" else not e.active)
        ]
        return [
            {
                "experiment_id": e.id,
                "name": e.name,
                "creation_time": e.creation_time,
                "last_update_time": e.last_update_time,
                "lifecycle_stage": e.lifecycle_stage,
            }
            for e in chosen
        ]

    def ids(self) -> dict[str, str]:
        return {e.name: e.id for e in self.experiments}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
