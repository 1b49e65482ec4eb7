"""`cutout serve` as a process: links expire, and SIGTERM stops everything and frees the ports."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time

import pytest
import requests
from e2e_local_api import cutout_console_script, free_port, port_is_free, start_local_api

from cutout.local.moto_stack import ACCESS_KEY_ID, SECRET_ACCESS_KEY

API_KEY = "co_live_e2e-lifecycle-key"


@pytest.fixture(scope="module")
def short_lived_api(tmp_path_factory):
    """Upload links that live one second, and no authorizer cache (revocations count at once)."""
    api = start_local_api(tmp_path_factory.mktemp("short"), API_KEY,
                          {"CUTOUT_UPLOAD_URL_TTL_SECONDS": "1"}, ("--authorizer-ttl", "0"))
    yield api
    api.terminate()


def test_an_upload_link_is_refused_once_it_has_expired(short_lived_api):
    # Given an upload link signed for one second
    upload = requests.post(f"{short_lived_api.base_url}/v1/uploads",
                           headers={"x-api-key": API_KEY}, timeout=30).json()
    assert upload["expires_in"] == 1
    # When it is used after its lifetime
    time.sleep(2.5)
    response = requests.put(upload["upload_url"], data=b"late", headers=upload["headers"],
                            timeout=30)
    # Then S3 (the local stack's check in front of moto) says it has expired
    assert response.status_code == 403
    assert "Request has expired" in response.text


def test_a_key_made_with_the_admin_cli_works_until_it_is_revoked(short_lived_api):
    # Given the admin CLI pointed at the local stack's moto, as the banner shows
    admin = [cutout_console_script(), "--endpoint-url", short_lived_api.moto_endpoint,
             "--table", "cutout-local-accounts", "--training-bucket", "cutout-local-training",
             "--region", "us-east-1"]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,  # the banner's export line
           "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY}

    def run(*command: str) -> str:
        done = subprocess.run([admin[0], *command, *admin[1:]], capture_output=True,
                              text=True, timeout=120, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout

    created = json.loads(run("accounts", "create", "--with-key"))
    key = created["key"]["api_key"]
    account_url = f"{short_lived_api.base_url}/v1/account"
    # When the new key reads its account, then is revoked and tries again
    before = requests.get(account_url, headers={"x-api-key": key}, timeout=30)
    run("keys", "revoke", "--account", created["account"]["account_id"],
        created["key"]["key_prefix"])
    after = requests.get(account_url, headers={"x-api-key": key}, timeout=30)
    # Then it saw its own account, and is refused once revoked (cache off here)
    assert before.status_code == 200
    assert before.json()["account_id"] == created["account"]["account_id"]
    assert after.status_code == 403
    assert after.json()["error"]["code"] == "forbidden"
    assert after.json()["error"]["reason"] == "revoked_api_key"


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT],
                         ids=["SIGTERM", "Ctrl-C"])
def test_a_stop_signal_ends_the_api_and_moto_and_frees_both_ports(tmp_path, stop_signal):
    # Given a running local stack
    api = start_local_api(tmp_path, API_KEY)
    assert requests.get(f"{api.base_url}/v1/account", headers={"x-api-key": API_KEY},
                        timeout=30).status_code == 200
    # When it receives SIGTERM (a service manager, `kill`) or SIGINT (Ctrl-C)
    code = api.terminate(stop_signal)
    # Then it exits cleanly, saying so, and both ports can be bound again
    assert code == 0, api.log()
    assert "stopped" in api.log()
    assert port_is_free(api.port)
    assert port_is_free(api.moto_port)


@pytest.mark.parametrize("option", ["--port", "--moto-port"])
def test_a_busy_port_is_reported_plainly(tmp_path, option):
    # Given a port that something else is listening on
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        # When `cutout serve` is asked to use it for the API or for moto
        other = "--moto-port" if option == "--port" else "--port"
        done = subprocess.run([cutout_console_script(), "serve", option, str(port),
                               other, str(free_port())],
                              capture_output=True, text=True, timeout=120)
    # Then it says so in one line and exits non-zero, without a traceback
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr
