"""The Docker engine the sandboxes run on: the local one, or a remote one (TCP + mutual TLS, SSH).

`sandbox.docker.host` (+ `tls`) names it in the run config; unset, the standard environment
decides (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH), else the local socket.  Every docker
client of the sandbox is made here, so the choice holds for the pool, the availability check and
the image check alike.
"""

from __future__ import annotations

import os

from sandbox.config import DockerOptions


def engine_address(opts: DockerOptions) -> str:
    """How the engine is named in messages."""
    return opts.host or os.environ.get("DOCKER_HOST") or "the local socket"


def engine_key(opts: DockerOptions) -> tuple:
    """Clients are shared per engine (and TLS identity), never across engines."""
    tls = opts.tls
    return (opts.host or os.environ.get("DOCKER_HOST", ""),
            (tls.ca_cert, tls.client_cert, tls.client_key) if tls else None)


def engine_client(opts: DockerOptions, timeout: float, **kwargs):
    """A docker SDK client on the configured engine (asks its API version: raises DockerException
    when it does not answer)."""
    import docker

    if opts.host is None:
        return docker.from_env(timeout=timeout, **kwargs)
    tls = False
    if opts.tls is not None:
        from docker.tls import TLSConfig

        tls = TLSConfig(client_cert=(opts.tls.client_cert, opts.tls.client_key),
                        ca_cert=opts.tls.ca_cert, verify=True)

    def client(version: str):
        c = docker.DockerClient(base_url=opts.host, tls=tls, timeout=timeout, version=version, **kwargs)
        # requests would let REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE replace the configured CA (and
        # proxy variables reroute the engine's traffic): the engine is named here, not there
        c.api.trust_env = False
        return c

    from docker.constants import MINIMUM_DOCKER_API_VERSION

    probe = client(MINIMUM_DOCKER_API_VERSION)  # the server's API version, like from_env's "auto"
    try:
        version = probe.version(api_version=False)["ApiVersion"]
    finally:
        probe.close()
    return client(version)
