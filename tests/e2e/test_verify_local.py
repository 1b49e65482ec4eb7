"""`cutout verify --local` against a real `cutout serve`: the live probes pass, what cannot
apply on loopback is not_applicable, a wrong key fails the round trip, and neither the key
nor image bytes reach the output."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from e2e_local_api import LocalApi, cutout_console_script


def run_verify(local_api: LocalApi, key: str, report: Path) -> tuple[int, str]:
    done = subprocess.run(
        [cutout_console_script(), "verify", "--local", local_api.base_url, "--api-key", key,
         "--moto-endpoint", local_api.moto_endpoint, "--json", str(report)],
        capture_output=True, text=True, timeout=300, check=False)
    return done.returncode, done.stdout + done.stderr


def test_the_live_probes_pass_against_cutout_serve(local_api, tmp_path):
    # Given the local API and its key
    report = tmp_path / "verify.json"
    # When verify probes it
    code, output = run_verify(local_api, local_api.api_key, report)
    document = json.loads(report.read_text())
    found = {item["id"]: item["status"] for item in document["checks"]}
    # Then no key is refused, the cutout has no colour under alpha 0, nothing stays behind,
    # and the TLS versions are not_applicable on loopback
    assert code == 0, output
    assert document["ok"] is True
    assert found == {"probe.no_key": "pass", "probe.tls": "not_applicable",
                     "probe.round_trip": "pass", "probe.nothing_left": "pass"}
    assert local_api.api_key not in output + report.read_text()
    evidence = {item["property"]: item["value"] for check in document["checks"]
                for item in check["evidence"]}
    assert evidence["pixels with alpha 0"] > 0  # the probe really had background to clear
    assert evidence["answered"] == "inline"


def test_a_key_the_deployment_does_not_know_fails_the_round_trip(local_api, tmp_path):
    # Given a key nobody issued
    report = tmp_path / "verify.json"
    # When verify probes with it
    code, output = run_verify(local_api, "co_live_not-a-key-of-this-deployment", report)
    found = {item["id"]: item for item in json.loads(report.read_text())["checks"]}
    # Then the round trip fails with the status it got, and the exit code says so
    assert code == 1, output
    assert found["probe.round_trip"]["status"] == "fail"
    assert "401" in found["probe.round_trip"]["detail"] or "403" in found[
        "probe.round_trip"]["detail"]
