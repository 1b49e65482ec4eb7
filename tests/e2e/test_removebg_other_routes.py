"""remove.bg's other calls against `cutout serve`, over real HTTP: `GET /v1.0/account`,
`POST /v1.0/improve` and `bg_image_file`. Neither remove.bg client library has them (PyPI
`removebg` 0.04 and npm `remove.bg` 1.3.0 offer only the three removal calls), so they are
sent as remove.bg's own documentation shows them, with `requests`; the removals counted are
made by the PyPI client itself."""

from __future__ import annotations

import io

import pytest
import removebg
import removebg.removebg as removebg_module
import requests
from PIL import Image

from cutout.local.moto_stack import TRAINING_BUCKET

SECONDS = 120  # a bound, never asserted


def keys_of(s3, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def credits_total(local_api) -> float:
    answer = requests.get(f"{local_api.base_url}/v1.0/account", timeout=SECONDS,
                          headers={"X-Api-Key": local_api.api_key})
    assert answer.status_code == 200
    return answer.json()["data"]["attributes"]["credits"]["total"]


def set_opt_in(local_api, on: bool) -> None:
    answer = requests.put(f"{local_api.base_url}/v1/account/training-opt-in", json={"opt_in": on},
                          headers={"x-api-key": local_api.api_key}, timeout=SECONDS)
    assert answer.status_code == 200


@pytest.fixture
def training_switch_off(local_api):
    """The demo account with its AI Training Data switch off again after the test."""
    yield
    set_opt_in(local_api, False)


def test_the_account_counts_the_python_clients_removals_as_credits(local_api, monkeypatch,
                                                                   photo_path, tmp_path):
    # Given the account's credits, and the PyPI client pointed at the local API
    before = credits_total(local_api)
    monkeypatch.setattr(removebg_module, "API_ENDPOINT", f"{local_api.base_url}/v1.0/removebg")
    client = removebg.RemoveBg(local_api.api_key, str(tmp_path / "removebg-errors.log"))
    # When the client removes one background (of a copy: the client writes its result beside
    # the file it is given)
    copy = tmp_path / photo_path.name
    copy.write_bytes(photo_path.read_bytes())
    client.remove_background_from_img_file(str(copy))
    # Then the account, read as remove.bg's docs read it, counts one more
    answer = requests.get(f"{local_api.base_url}/v1.0/account", timeout=SECONDS,
                          headers={"X-Api-Key": local_api.api_key})
    attributes = answer.json()["data"]["attributes"]
    assert attributes["credits"]["total"] == before + 1
    assert attributes["api"]["sizes"] == "all"


def test_the_account_refuses_a_wrong_key_in_remove_bgs_shape(local_api):
    answer = requests.get(f"{local_api.base_url}/v1.0/account", timeout=SECONDS,
                          headers={"X-Api-Key": "co_live_" + "x" * 43})
    assert answer.status_code == 403
    assert answer.json()["errors"][0]["title"] == "API Key invalid"


def test_improve_keeps_nothing_until_the_switch_is_on_then_keeps_the_image(
        local_api, moto_s3, photo_path, training_switch_off):
    # Given the demo account with its AI Training Data switch off
    set_opt_in(local_api, False)
    url = f"{local_api.base_url}/v1.0/improve"
    photo = photo_path.read_bytes()

    def submit() -> requests.Response:  # as remove.bg's documentation sends it
        return requests.post(url, files={"image_file": photo}, data={"tag": "e2e"},
                             headers={"X-Api-Key": local_api.api_key}, timeout=SECONDS)

    # When the image is submitted to the improvement program
    refused = submit()
    # Then 403 in remove.bg's shape, pointing at the switch, and the training store is empty
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "training_opt_in_required"
    assert "AI Training Data" in refused.json()["errors"][0]["detail"]
    assert keys_of(moto_s3, TRAINING_BUCKET) == []
    # When the switch is turned on and the image submitted again
    set_opt_in(local_api, True)
    kept = submit()
    # Then it is kept, as sent, under the id the answer gives
    assert kept.status_code == 200
    submission_id = kept.json()["id"]
    stored = [key for key in keys_of(moto_s3, TRAINING_BUCKET) if submission_id in key]
    assert len(stored) == 2
    body = moto_s3.get_object(Bucket=TRAINING_BUCKET,
                              Key=next(k for k in stored if k.endswith("/input")))["Body"]
    assert body.read() == photo
    # And turning the switch off deletes it
    set_opt_in(local_api, False)
    assert keys_of(moto_s3, TRAINING_BUCKET) == []


def test_bg_image_file_lays_the_cutout_on_a_picture(local_api, photo_path):
    # Given a plain green picture as the background, sent as remove.bg's bg_image_file
    background = io.BytesIO()
    Image.new("RGB", (64, 48), (0, 255, 0)).save(background, "PNG")
    answer = requests.post(f"{local_api.base_url}/v1.0/removebg", timeout=SECONDS,
                           headers={"X-Api-Key": local_api.api_key},
                           files={"image_file": photo_path.read_bytes(),
                                  "bg_image_file": background.getvalue()},
                           data={"size": "regular"})
    # Then the answer is an opaque JPEG (format auto) whose corners are the new background
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "image/jpeg"
    image = Image.open(io.BytesIO(answer.content))
    assert image.size == (451, 300)
    red, green, blue = image.getpixel((2, 2))
    assert green > 200 and red < 60 and blue < 60
