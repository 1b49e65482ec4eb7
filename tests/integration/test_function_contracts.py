"""What the other parts of the project rely on: zip functions load no engine, handlers import
without configuration and read their settings from the environment on first use."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import fields

import pytest
from integration_support import FUNCTIONS, ROOT, LocalContext, answer_of, load_function

from cutout.local.events import proxy_event
from cutout.settings import Settings, env_name

ZIP_FUNCTIONS = ("authorizer", "account", "uploads", "sweeper")


@pytest.mark.parametrize("name", ZIP_FUNCTIONS)
def test_zip_functions_load_neither_the_engine_nor_its_libraries(name):
    # Given a fresh interpreter with no CUTOUT_* configuration
    path = str(FUNCTIONS / name / "handler.py")
    script = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('h', {path!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "heavy = [n for n in sys.modules if n.split('.')[0] in ('numpy', 'PIL', 'onnxruntime')"
        " or n.startswith('cutout.engine')]\n"
        "print(json.dumps(heavy))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "layers")}
    # When the handler module is imported, Then nothing of the engine came with it
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, check=True, cwd=ROOT)
    assert json.loads(done.stdout) == []


def test_the_default_entry_point_reads_settings_from_the_environment(settings, caller,
                                                                     monkeypatch):
    # Given the CUTOUT_* variables the stack sets
    for field in fields(Settings):
        monkeypatch.setenv(env_name(field.name), str(getattr(settings, field.name)))
    module = load_function("account", cold=True)
    event = proxy_event("GET", "/v1/account", authorizer={"account_id": caller.account_id,
                                                          "key_prefix": caller.key_prefix})
    # When the Lambda entry point is called
    answer = answer_of(module.handler(event, LocalContext()))
    # Then it found the table on its own
    assert answer.status == 200
    assert answer.json()["account_id"] == caller.account_id


def test_a_missing_setting_is_a_500_named_in_the_logs_not_to_the_client(aws, monkeypatch,
                                                                        logs):
    # Given a function deployed without its CUTOUT_* variables
    for field in fields(Settings):
        monkeypatch.delenv(env_name(field.name), raising=False)
    handler = load_function("uploads").make_handler()
    event = proxy_event("POST", "/v1/uploads", authorizer={"account_id": "acct_x",
                                                           "key_prefix": "p"})
    # When it is called
    answer = answer_of(handler(event, LocalContext()))
    # Then the client gets a 500 with its code and the request id, but no server detail;
    # the operator finds the missing variable named in the logs
    assert answer.status == 500
    assert answer.json()["error"]["code"] == "configuration_error"
    assert "CUTOUT_" not in answer.json()["error"]["message"]
    assert answer.json()["error"]["request_id"]
    assert "CUTOUT_ACCOUNTS_TABLE" in logs.text()
