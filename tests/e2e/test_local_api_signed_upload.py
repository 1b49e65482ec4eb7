"""A 10+ MB image through the signed upload: POST /v1/uploads, PUT to S3, cutout by upload_id.

moto does not check presigned URLs by itself (an expired or tampered link gets 200 from
it, and its IAM mode reads only the Authorization header), so these tests first check
what the link signs, then rely on the local stack's own SigV4 check in front of moto,
recognised by S3's error codes in its 403 answers.
"""

from __future__ import annotations

import io
import json
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from PIL import Image

TRANSIENT_BUCKET = "cutout-local-transient"


@pytest.fixture(scope="module")
def upload(local_api):
    """A fresh signed upload for the demo account."""
    response = requests.post(f"{local_api.base_url}/v1/uploads",
                             headers={"x-api-key": local_api.api_key}, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()


def test_the_upload_link_signs_one_object_key_a_short_lifetime_and_the_kms_headers(upload):
    # Given an upload the API handed out
    url = urlsplit(upload["upload_url"])
    query = {name: values[0] for name, values in parse_qs(url.query).items()}
    signed_headers = query["X-Amz-SignedHeaders"].split(";")
    # Then the link is SigV4, for one object under the account's uploads/ prefix
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert url.path == f"/{TRANSIENT_BUCKET}/uploads/demo/{upload['upload_id']}"
    # And it lives minutes, not days, as the API says
    assert int(query["X-Amz-Expires"]) == upload["expires_in"] <= 300
    # And the encryption headers it tells the client to send are part of the signature
    assert "host" in signed_headers
    for name in upload["headers"]:
        assert name.lower() in signed_headers
    assert upload["headers"]["x-amz-server-side-encryption"] == "aws:kms"


def test_a_link_used_for_another_object_or_without_its_headers_is_refused(upload):
    # Given a valid upload link
    url = upload["upload_url"]
    other_object = url.replace(f"/uploads/demo/{upload['upload_id']}", "/uploads/demo/guessed")
    # When it is used for another object key, or without the signed KMS headers
    moved = requests.put(other_object, data=b"x", headers=upload["headers"], timeout=30)
    bare = requests.put(url, data=b"x", timeout=30)
    # Then the local S3 refuses both, as S3 does (the signature no longer matches)
    assert moved.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in moved.text
    assert bare.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in bare.text


def test_a_large_image_goes_up_signed_and_its_cutout_comes_back_as_a_signed_link(
    local_api, upload, large_photo, moto_s3, moto_kms
):
    # Given an image over API Gateway's 10 MB limit and an upload link for it
    data = large_photo.read_bytes()
    assert len(data) > 10 * 1024 * 1024
    # When the client PUTs it with the headers the API gave, then names the upload
    put = requests.put(upload["upload_url"], data=data, headers=upload["headers"], timeout=300)
    removal = requests.post(
        f"{local_api.base_url}/v1/remove-background",
        headers={"x-api-key": local_api.api_key},
        json={"upload_id": upload["upload_id"]},
        timeout=600,
    )
    # Then the upload is stored SSE-KMS with the stack's key
    assert put.status_code == 200, put.text
    stored = moto_s3.head_object(Bucket=TRANSIENT_BUCKET,
                                 Key=f"uploads/demo/{upload['upload_id']}")
    key_arn = moto_kms.describe_key(KeyId="alias/cutout-local")["KeyMetadata"]["Arn"]
    assert stored["ServerSideEncryption"] == "aws:kms"
    assert stored["SSEKMSKeyId"] == key_arn
    assert stored["ContentLength"] == len(data)
    # And the answer is a short-lived signed link to a full-size PNG cutout
    assert removal.status_code == 200, removal.text
    answer = removal.json()
    assert (answer["width"], answer["height"]) == (4000, 3000)
    assert answer["expires_in"] <= 300
    result_url = urlsplit(answer["result_url"])
    assert result_url.path.startswith(f"/{TRANSIENT_BUCKET}/results/demo/")
    assert "X-Amz-Signature=" in result_url.query
    fetched = requests.get(answer["result_url"], timeout=300)
    assert fetched.status_code == 200
    cutout = Image.open(io.BytesIO(fetched.content))
    assert cutout.format == "PNG" and cutout.mode == "RGBA"
    assert cutout.size == (4000, 3000)
    # And the result is encrypted with the same key
    result = moto_s3.head_object(Bucket=TRANSIENT_BUCKET, Key=result_url.path.split("/", 2)[2])
    assert result["ServerSideEncryption"] == "aws:kms"
    assert result["SSEKMSKeyId"] == key_arn


def test_a_result_link_is_bound_to_its_object(local_api, photo_path):
    # Given a cutout that came back as a link (small photo, but through an upload)
    headers = {"x-api-key": local_api.api_key}
    upload = requests.post(f"{local_api.base_url}/v1/uploads", headers=headers, timeout=30).json()
    requests.put(upload["upload_url"], data=photo_path.read_bytes(), headers=upload["headers"],
                 timeout=60).raise_for_status()
    answer = requests.post(f"{local_api.base_url}/v1/remove-background", headers=headers,
                           json={"upload_id": upload["upload_id"]}, timeout=120).json()
    link = answer["result_url"]
    # When the link is changed to point at the upload instead of the result
    path = urlsplit(link).path
    tampered = link.replace(path, f"/{TRANSIENT_BUCKET}/uploads/demo/{upload['upload_id']}")
    # Then the original works and the tampered one is refused
    assert requests.get(link, timeout=60).status_code == 200
    refused = requests.get(tampered, timeout=60)
    assert refused.status_code == 403 and "SignatureDoesNotMatch" in refused.text


def test_another_accounts_upload_id_is_not_found(local_api):
    # Given an upload id that was never issued to this account
    headers = {"x-api-key": local_api.api_key}
    # When a removal names it
    response = requests.post(f"{local_api.base_url}/v1/remove-background", headers=headers,
                             json={"upload_id": "A" * 43}, timeout=60)
    # Then the answer is a clean 404 error, not a stack trace
    assert response.status_code == 404
    assert "error" in response.json()


def test_the_upload_flow_works_with_curl_as_the_docs_show(local_api, photo_path, tmp_path):
    # Given curl only (the README's client), and the demo key
    key_header = f"x-api-key: {local_api.api_key}"
    # When it asks for an upload, PUTs the photo with --data-binary (curl's default
    # form Content-Type) and the signed headers, then asks for the cutout by upload_id
    upload = json.loads(_curl("-X", "POST", f"{local_api.base_url}/v1/uploads",
                              "-H", key_header))
    signed = [arg for name, value in upload["headers"].items()
              for arg in ("-H", f"{name}: {value}")]
    put_status = _curl("-X", "PUT", upload["upload_url"], *signed,
                       "--data-binary", f"@{photo_path}", "-o", "/dev/null",
                       "-w", "%{http_code}")
    answer = json.loads(_curl(
        "-X", "POST", f"{local_api.base_url}/v1/remove-background", "-H", key_header,
        "-H", "Content-Type: application/json",
        "-d", json.dumps({"upload_id": upload["upload_id"]})))
    result_path = tmp_path / "cutout.png"
    get_status = _curl(answer["result_url"], "-o", str(result_path), "-w", "%{http_code}")
    # Then every step succeeds and the link gives the PNG cutout
    assert (put_status, get_status) == ("200", "200")
    cutout = Image.open(result_path)
    assert cutout.mode == "RGBA" and cutout.size == Image.open(photo_path).size


def _curl(*args: str) -> str:
    done = subprocess.run(["curl", "-sS", "--max-time", "300", *args], capture_output=True,
                          text=True, timeout=330)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_server_output_shows_no_signed_url_and_no_key_after_its_banner(local_api):
    # Given a server that has just issued upload links, result links and cutouts (above)
    output = local_api.log()
    banner, _, after_banner = output.partition("Ctrl-C stops the API and moto.")
    # Then the key appears only where the banner hands it to the user
    assert local_api.api_key in banner
    assert local_api.api_key not in after_banner
    # And no signed URL reached the logs (moto's access log is off, handlers log none)
    assert "X-Amz-Signature" not in output
    assert "X-Amz-Credential" not in output
