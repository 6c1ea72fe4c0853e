"""A tiny EKS cluster endpoint for kubectl: HTTPS, bearer tokens checked by the emulator's authenticator.

Just enough of the Kubernetes API for ``kubectl get --raw /version``,
``kubectl version`` and ``kubectl get pods``/``namespaces``: ``/version``,
discovery (``/api``, ``/apis``, ``/api/v1``) and two resource lists
(``/api/v1/namespaces``, ``/api/v1/namespaces/<ns>/pods``, as a ``List`` or, when
kubectl asks, a ``Table``). Every request must carry ``Authorization: Bearer
<token>``; the token goes to the emulator's TokenReview webhook (``POST
/authenticate?clusterID=<cluster>``, see :mod:`._eks`) exactly as an EKS API server
hands it to aws-iam-authenticator, and a refusal is the API server's 401
``Status``. Unlike a real API server, no review is cached: every request is one
verification, so tests can count them. Who was authenticated, request by
request, is in :attr:`KubernetesAPI.users`.

It serves HTTPS only, with the certificate and key it is given (tests make a
throwaway one with ``openssl``): kubectl sends bearer tokens over TLS.
"""

from __future__ import annotations

import json
import ssl
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["KubernetesAPI", "run_kubernetes_api"]

VERSION = {"major": "1", "minor": "33", "gitVersion": "v1.33.0-eks-emulator",
           "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
           "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.24.0", "compiler": "gc",
           "platform": "linux/amd64"}
PODS = ("api-7d4b9c6f5-x2x9k", "worker-5f6d8b7c9-k8s2p")
NAMESPACES = ("default", "kube-system")
_CREATED = "2025-01-01T00:00:00Z"


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


def _object(kind: str, name: str, namespace: str | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "uid": f"{kind.lower()}-{name}",
                                "resourceVersion": "1", "creationTimestamp": _CREATED}
    if namespace is not None:
        metadata["namespace"] = namespace
    body: dict[str, Any] = {"kind": kind, "apiVersion": "v1", "metadata": metadata}
    if kind == "Pod":
        body["spec"] = {"containers": [{"name": "main", "image": "public.ecr.aws/docker/library/busybox"}]}
        body["status"] = {"phase": "Running"}
    else:
        body["status"] = {"phase": "Active"}
    return body


def _listing(kind: str, names: tuple[str, ...], namespace: str | None, accept: str) -> dict[str, Any]:
    items = [_object(kind, name, namespace) for name in names]
    if "as=Table" in accept:
        return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": "1"},
                "columnDefinitions": [
                    {"name": "Name", "type": "string", "format": "name", "description": "", "priority": 0},
                    {"name": "Status", "type": "string", "format": "", "description": "", "priority": 0},
                ],
                "rows": [{"cells": [item["metadata"]["name"], item["status"]["phase"]],
                          "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                     "metadata": item["metadata"]}} for item in items]}
    return {"kind": f"{kind}List", "apiVersion": "v1", "metadata": {"resourceVersion": "1"},
            "items": items}


_RESOURCES = {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
    {"name": "namespaces", "singularName": "namespace", "namespaced": False, "kind": "Namespace",
     "verbs": ["get", "list"], "shortNames": ["ns"]},
    {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod",
     "verbs": ["get", "list"], "shortNames": ["po"], "categories": ["all"]},
]}


class KubernetesAPI:
    """A running fake cluster endpoint (see the module docstring); use :func:`run_kubernetes_api`."""

    def __init__(self, *, emulator_url: str, cluster: str, certfile: str, keyfile: str,
                 host: str = "127.0.0.1", port: int = 0, emulator_cafile: str | None = None) -> None:
        self.cluster = cluster
        self.users: list[str | None] = []
        """The username of each request's token, in order (None: refused)."""
        self._lock = threading.Lock()
        self._review_url = (f"{emulator_url.rstrip('/')}/authenticate?"
                            f"{urllib.parse.urlencode({'clusterID': cluster})}")
        self._review_context = ssl.create_default_context(cafile=emulator_cafile) \
            if emulator_url.startswith("https") else None
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(certfile, keyfile)
        self._server = _Server((host, port), self, tls)
        self.url = f"https://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name="kubernetes-api")

    def review(self, token: str) -> tuple[str | None, str]:
        """The username the authenticator gives ``token`` (None if refused) and its reason."""
        body = json.dumps({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                           "spec": {"token": token}}).encode()
        request = urllib.request.Request(self._review_url, data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30, context=self._review_context) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as error:
            answer = json.loads(error.read() or b"{}")
        status = answer.get("status", {})
        username = status.get("user", {}).get("username") if status.get("authenticated") else None
        self.record(username)
        return username, str(status.get("error", ""))

    def record(self, username: str | None) -> None:
        with self._lock:
            self.users.append(username)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], api: KubernetesAPI, tls: ssl.SSLContext) -> None:
        self.api = api
        self.tls = tls
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[Any, Any]:
        connection, address = super().get_request()
        # The handshake happens in the handler's thread, on first read: a slow client holds no one up.
        return self.tls.wrap_socket(connection, server_side=True, do_handshake_on_connect=False), address


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 30
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base signature
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        api = self.server.api
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            api.record(None)
            self._send(401, _status(401, "Unauthorized", "Unauthorized"))
            return
        username, _reason = api.review(token.strip())
        if username is None:
            self._send(401, _status(401, "Unauthorized", "Unauthorized"))
            return
        path = urllib.parse.urlsplit(self.path).path.rstrip("/") or "/"
        accept = self.headers.get("Accept", "")
        parts = path.strip("/").split("/")
        if path == "/version":
            self._send(200, VERSION)
        elif path == "/api":
            self._send(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": self.headers.get("Host", "")}]})
        elif path == "/apis":
            self._send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": []})
        elif path == "/api/v1":
            self._send(200, _RESOURCES)
        elif path == "/api/v1/namespaces":
            self._send(200, _listing("Namespace", NAMESPACES, None, accept))
        elif path == "/api/v1/pods":
            self._send(200, _listing("Pod", PODS, "default", accept))
        elif len(parts) == 5 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "pods":
            self._send(200, _listing("Pod", PODS if parts[3] == "default" else (), parts[3], accept))
        else:
            self._send(404, _status(404, "NotFound", "the server could not find the requested resource"))


@contextmanager
def run_kubernetes_api(*, emulator_url: str, cluster: str, certfile: str, keyfile: str,
                       emulator_cafile: str | None = None) -> Iterator[KubernetesAPI]:
    """A fake EKS cluster endpoint for ``cluster`` on a free loopback port, for the ``with`` block."""
    api = KubernetesAPI(emulator_url=emulator_url, cluster=cluster, certfile=certfile, keyfile=keyfile,
                        emulator_cafile=emulator_cafile)
    api.start()
    try:
        yield api
    finally:
        api.close()
