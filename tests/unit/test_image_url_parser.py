"""`image_url` is parsed strictly into an S3 bucket and key, and anything shaped otherwise,
however close to an S3 URL it looks, is refused with a message naming what is accepted;
then the domain's rule admits only this account's objects on the allow-list, or its upload."""

from __future__ import annotations

import pytest

from cutout.api.image_url import parse_image_url
from cutout.errors import ImageUrlNotAllowed
from cutout.service.image_url import ImageUrls
from cutout.service.requests import BucketObject, UploadedImage

ACCOUNT = "acc_1"
UPLOAD = "A" * 43


@pytest.mark.parametrize(("url", "bucket", "key", "region"), [
    ("s3://catalogue/acc_1/a.jpg", "catalogue", "acc_1/a.jpg", None),
    ("s3://my.catalogue-2/acc_1/shoes/red shoe?.png", "my.catalogue-2",
     "acc_1/shoes/red shoe?.png", None),  # s3:// keys are literal, as the AWS CLI reads them
    ("https://catalogue.s3.eu-west-1.amazonaws.com/acc_1/a.jpg", "catalogue", "acc_1/a.jpg",
     "eu-west-1"),
    ("https://catalogue.s3.amazonaws.com/acc_1/a%20b.jpg", "catalogue", "acc_1/a b.jpg", None),
    ("https://s3.us-east-1.amazonaws.com/catalogue/acc_1/a.jpg", "catalogue", "acc_1/a.jpg",
     "us-east-1"),
    ("https://s3.amazonaws.com/my.bucket/acc_1/%E2%82%AC.jpg", "my.bucket", "acc_1/\u20ac.jpg",
     None),
])
def test_s3_locations_parse_to_their_bucket_and_key(url, bucket, key, region):
    assert parse_image_url(url) == BucketObject(bucket, key, region)


HOSTILE = {
    "public http": "http://example.com/a.jpg",
    "public https": "https://example.com/a.jpg",
    "metadata service": "http://169.254.169.254/latest/meta-data/",
    "metadata over https": "https://169.254.169.254/latest/meta-data/",
    "userinfo before the host": "https://catalogue.s3.amazonaws.com@evil.example/acc_1/a.jpg",
    "userinfo with a password": "https://u:p@catalogue.s3.amazonaws.com/acc_1/a.jpg",
    "a port": "https://catalogue.s3.amazonaws.com:443/acc_1/a.jpg",
    "another port": "https://catalogue.s3.amazonaws.com:8080/acc_1/a.jpg",
    "a query": "https://catalogue.s3.amazonaws.com/acc_1/a.jpg?X-Amz-Signature=x",
    "an empty query": "https://catalogue.s3.amazonaws.com/acc_1/a.jpg?",
    "a fragment": "https://catalogue.s3.amazonaws.com/acc_1/a.jpg#x",
    "a suffix domain": "https://catalogue.s3.amazonaws.com.evil.example/acc_1/a.jpg",
    "the host in the path": "https://evil.example/catalogue.s3.amazonaws.com/acc_1/a.jpg",
    "a trailing dot": "https://catalogue.s3.amazonaws.com./acc_1/a.jpg",
    "upper-case scheme": "HTTPS://catalogue.s3.amazonaws.com/acc_1/a.jpg",
    "upper-case host": "https://Catalogue.S3.amazonaws.com/acc_1/a.jpg",
    "a backslash host": "https://catalogue.s3.amazonaws.com\\@evil.example/acc_1/a.jpg",
    "a tab urllib drops": "https://catalogue.s3.amazon\taws.com/acc_1/a.jpg",
    "a newline urllib drops": "s3://catalogue/acc_1/a.jpg\nhttp://evil.example/",
    "leading space": " s3://catalogue/acc_1/a.jpg",
    "an escaped host": "https://catalogue%2es3.amazonaws.com/acc_1/a.jpg",
    "a homoglyph host": "https://catalogue.s3.amazonaws.c\u043em/acc_1/a.jpg",
    "an ip-shaped bucket": "s3://192.168.0.1/acc_1/a.jpg",
    "an xn-- bucket": "s3://xn--catalogue/acc_1/a.jpg",
    "an access point alias": "s3://cat-abc-s3alias/acc_1/a.jpg",
    "dualstack": "https://catalogue.s3.dualstack.us-east-1.amazonaws.com/acc_1/a.jpg",
    "fips": "https://catalogue.s3-fips.us-east-1.amazonaws.com/acc_1/a.jpg",
    "website endpoint": "http://catalogue.s3-website-us-east-1.amazonaws.com/acc_1/a.jpg",
    "access point host": "https://ap-123456789012.s3-accesspoint.us-east-1.amazonaws.com/a",
    "file scheme": "file:///etc/passwd",
    "gopher": "gopher://127.0.0.1:6379/_FLUSHALL",
    "data url": "data:image/png;base64,AAAA",
    "no key": "s3://catalogue",
    "a folder": "s3://catalogue/acc_1/",
    "only a slash": "s3://catalogue/",
    "dot segments": "s3://catalogue/acc_1/../acc_2/a.jpg",
    "escaped dot segments": "https://catalogue.s3.amazonaws.com/acc_1/%2e%2e/acc_2/a.jpg",
    "an empty segment": "s3://catalogue/acc_1//a.jpg",
    "a bare percent": "https://catalogue.s3.amazonaws.com/acc_1/100%.jpg",
    "an escaped NUL": "https://catalogue.s3.amazonaws.com/acc_1/a%00.jpg",
    "bad utf-8": "https://catalogue.s3.amazonaws.com/acc_1/%ff.jpg",
    "a backslash key": "s3://catalogue/acc_1\\..\\acc_2/a.jpg",
    "a long key": "s3://catalogue/acc_1/" + "a" * 1100,
    "a short bucket": "s3://ab/acc_1/a.jpg",
    "a bucket with ..": "s3://cat..alogue/acc_1/a.jpg",
    "s3a scheme": "s3a://catalogue/acc_1/a.jpg",
    "arn": "arn:aws:s3:::catalogue/acc_1/a.jpg",
    "empty": "",
}


@pytest.mark.parametrize("url", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_urls_are_refused_with_what_is_accepted(url):
    with pytest.raises(ImageUrlNotAllowed) as refused:
        parse_image_url(url)
    assert "s3://<bucket>/<key>" in refused.value.message
    assert refused.value.status == 400 and refused.value.code == "image_url_not_allowed"


@pytest.mark.parametrize("value", [None, 3, ["s3://catalogue/acc_1/a.jpg"], {"url": "x"}])
def test_a_url_that_is_not_a_string_is_refused(value):
    with pytest.raises(ImageUrlNotAllowed):
        parse_image_url(value)


class Reader:
    def __init__(self) -> None:
        self.reads: list[tuple[str, str]] = []

    def read(self, account_id, request_id, bucket, key, max_bytes):
        self.reads.append((bucket, key))
        return b"image"


@pytest.fixture
def rule() -> ImageUrls:
    return ImageUrls(frozenset({"catalogue"}), "cutout-transient", "us-east-1", Reader())


def test_the_accounts_object_on_the_allow_list_is_admitted(rule):
    location = parse_image_url("https://catalogue.s3.us-east-1.amazonaws.com/acc_1/a.jpg")
    assert rule.resolve(location, ACCOUNT) == location


def test_the_accounts_upload_is_admitted_as_an_upload(rule):
    location = parse_image_url(f"s3://cutout-transient/uploads/acc_1/{UPLOAD}")
    assert rule.resolve(location, ACCOUNT) == UploadedImage(UPLOAD)


REFUSED = {
    "a bucket off the list": ("s3://other-bucket/acc_1/a.jpg", "not on the source allow-list"),
    "another account's folder": ("s3://catalogue/acc_2/a.jpg", "outside this account's folder"),
    "a folder sharing the prefix": ("s3://catalogue/acc_10/a.jpg", "outside this account"),
    "the bucket root": ("s3://catalogue/a.jpg", "outside this account's folder"),
    "another account's upload": (f"s3://cutout-transient/uploads/acc_2/{UPLOAD}",
                                 "only this account's uploads"),
    "a result, not an upload": ("s3://cutout-transient/results/acc_1/r.png",
                                "only this account's uploads"),
    "an upload id of the wrong shape": ("s3://cutout-transient/uploads/acc_1/x/y",
                                        "only this account's uploads"),
    "another region": ("https://catalogue.s3.eu-west-1.amazonaws.com/acc_1/a.jpg",
                       "region eu-west-1"),
    "the training bucket": ("s3://cutout-training/training/acc_1/r/input",
                            "not on the source allow-list"),
}


@pytest.mark.parametrize(("url", "reason"), REFUSED.values(), ids=REFUSED.keys())
def test_locations_that_are_not_the_accounts_are_refused_before_any_read(rule, url, reason):
    with pytest.raises(ImageUrlNotAllowed) as refused:
        rule.resolve(parse_image_url(url), ACCOUNT)
    assert reason in refused.value.message
    assert "s3://catalogue/acc_1/..." in refused.value.message  # what would be accepted
    assert rule._reader.reads == []


def test_with_no_allow_list_the_refusal_says_so():
    rule = ImageUrls(frozenset(), "cutout-transient", "us-east-1", None)
    with pytest.raises(ImageUrlNotAllowed) as refused:
        rule.resolve(parse_image_url("s3://catalogue/acc_1/a.jpg"), ACCOUNT)
    assert "allow-list (cutout:batch_source_buckets) is empty" in refused.value.message
