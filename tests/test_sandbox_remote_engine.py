"""Sandboxes on a Docker engine reached over TCP with mutual TLS (`sandbox.docker.host` + `tls`),
as a remote engine is: the containers run there, frames travel over the TLS attach stream."""

from __future__ import annotations

import os

import pytest

from sandbox.api import Sandbox
from sandbox.config import DockerOptions, DockerTLS, SandboxConfig
from sandbox.isolation import SandboxUnavailable
from tests.fixtures.tls_engine import DOCKER_SOCKET, make_certs, start_tls_engine
from tests.scripted_mutator import MENU, fizz_problem

docker = pytest.importorskip("docker")
pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    if not os.path.exists(DOCKER_SOCKET):
        msg = f"no local Docker engine socket at {DOCKER_SOCKET}"
        if os.environ.get("VPO_REQUIRE_DOCKER") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    root = tmp_path_factory.mktemp("certs")
    return make_certs(root / "good"), make_certs(root / "other", "other-ca")


@pytest.fixture
def engine(certs):
    eng, stop = start_tls_engine(certs[0])
    yield eng
    stop()


def _config(eng, certs) -> SandboxConfig:
    tls = DockerTLS(ca_cert=str(certs["ca"]), client_cert=str(certs["client"]),
                    client_key=str(certs["client-key"]))
    return SandboxConfig(backend="docker", slots=1, docker=DockerOptions(host=eng.host, tls=tls))


def test_candidates_run_on_a_tls_engine(engine, certs, monkeypatch):
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    problem = fizz_problem().search_view()
    program = problem.initial_program.replace("def solve(n):\n    return ''\n", MENU[5])
    with Sandbox(_config(engine, certs[0])) as box:
        box.start()
        res = box.evaluate(problem, program)
        bad = box.evaluate(problem, problem.initial_program)
    assert res.backend == "docker" and all(t.status == "passed" for t in res.outcomes), res
    assert not all(t.status == "passed" for t in bad.outcomes)
    assert engine.connections >= 2 and engine.bytes_in > 0  # everything went over TLS


def test_an_engine_with_an_untrusted_certificate_is_refused(engine, certs, monkeypatch):
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    wrong = {**certs[1], "client": certs[0]["client"], "client-key": certs[0]["client-key"]}
    with pytest.raises(SandboxUnavailable) as err:
        Sandbox(_config(engine, wrong))
    msg = str(err.value)
    assert "\n" not in msg and engine.host in msg and engine.connections == 0


def test_tls_needs_a_tcp_host():
    with pytest.raises(ValueError, match="tls: needs a tcp://HOST:PORT host"):
        DockerOptions(tls=DockerTLS(ca_cert="a", client_cert="b", client_key="c"))
