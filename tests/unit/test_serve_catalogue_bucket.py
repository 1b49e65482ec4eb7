"""`cutout serve --catalogue-bucket NAME`: the local stand-in for the customer's bucket that
image_url and batches may read is named by the user, but never as one of the stack's own
buckets (the functions would refuse an allow-list naming them) nor as a non-bucket name."""

from __future__ import annotations

import pytest

from cutout.cli.main import build_parser
from cutout.local.moto_stack import CATALOGUE_BUCKET, TRAINING_BUCKET, TRANSIENT_BUCKET


def test_the_catalogue_bucket_defaults_and_can_be_named():
    parser = build_parser()
    assert parser.parse_args(["serve"]).catalogue_bucket == CATALOGUE_BUCKET
    named = parser.parse_args(["serve", "--catalogue-bucket", "acme.photos-2"])
    assert named.catalogue_bucket == "acme.photos-2"


@pytest.mark.parametrize(("name", "why"), [
    (TRANSIENT_BUCKET, "own bucket"),
    (TRAINING_BUCKET, "own bucket"),
    ("Acme_Photos", "not an S3 bucket name"),
    ("ab", "not an S3 bucket name"),
    ("acme..photos", "not an S3 bucket name"),
    ("acme/photos", "not an S3 bucket name"),
])
def test_a_name_that_cannot_be_the_catalogue_bucket_is_refused_before_anything_starts(
        name, why, capsys):
    # When serve is given it, Then argparse stops with the reason (exit 2), nothing started
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(["serve", "--catalogue-bucket", name])
    assert stopped.value.code == 2
    assert why in capsys.readouterr().err
