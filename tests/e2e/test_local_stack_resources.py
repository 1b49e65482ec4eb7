"""What `cutout serve` creates in moto matches what the CDK stack creates in AWS."""

from __future__ import annotations

import boto3
import pytest

from cutout.local.moto_stack import ACCESS_KEY_ID, SECRET_ACCESS_KEY

TRANSIENT_BUCKET = "cutout-local-transient"
TRAINING_BUCKET = "cutout-local-training"


@pytest.fixture(scope="module")
def key_arn(moto_kms):
    return moto_kms.describe_key(KeyId="alias/cutout-local")["KeyMetadata"]["Arn"]


def test_the_key_is_customer_managed_with_rotation_on(moto_kms, key_arn):
    # Given the stack's key, found by its alias
    # When its metadata and rotation are read
    metadata = moto_kms.describe_key(KeyId=key_arn)["KeyMetadata"]
    rotation = moto_kms.get_key_rotation_status(KeyId=key_arn)
    # Then it is a customer-managed symmetric key that rotates
    assert metadata["KeyManager"] == "CUSTOMER"
    assert metadata["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert rotation["KeyRotationEnabled"] is True


@pytest.mark.parametrize("bucket", [TRANSIENT_BUCKET, TRAINING_BUCKET])
def test_both_buckets_are_private_and_kms_encrypted_with_a_bucket_key(moto_s3, key_arn, bucket):
    # Given one of the stack's buckets
    # When its encryption and public access settings are read
    rule = moto_s3.get_bucket_encryption(Bucket=bucket)[
        "ServerSideEncryptionConfiguration"]["Rules"][0]
    public = moto_s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    # Then objects are SSE-KMS with the stack's key and a bucket key, and nothing is public
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms",
                                                          "KMSMasterKeyID": key_arn}
    assert rule["BucketKeyEnabled"] is True
    assert all(public.values()) and len(public) == 4


def test_the_transient_bucket_expires_everything_after_one_day(moto_s3):
    # Given the transient bucket
    # When its lifecycle is read
    rules = moto_s3.get_bucket_lifecycle_configuration(Bucket=TRANSIENT_BUCKET)["Rules"]
    # Then one enabled rule on every object expires it after a day and aborts stale uploads
    assert len(rules) == 1
    assert rules[0]["Status"] == "Enabled" and rules[0]["Filter"] == {"Prefix": ""}
    assert rules[0]["Expiration"] == {"Days": 1}
    assert rules[0]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}


def test_the_accounts_table_is_on_demand_kms_encrypted_with_pitr_and_the_account_index(
    local_api, key_arn
):
    # Given the accounts table in the stack's moto
    dynamodb = boto3.client("dynamodb", endpoint_url=local_api.moto_endpoint,
                            region_name="us-east-1", aws_access_key_id=ACCESS_KEY_ID,
                            aws_secret_access_key=SECRET_ACCESS_KEY)
    # When it is described
    table = dynamodb.describe_table(TableName="cutout-local-accounts")["Table"]
    backups = dynamodb.describe_continuous_backups(TableName="cutout-local-accounts")
    # Then it matches the stack: pk/sk, GSI by_account, on demand, the KMS key, PITR on
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {
        "pk": "HASH", "sk": "RANGE"}
    index = {i["IndexName"]: i for i in table["GlobalSecondaryIndexes"]}["by_account"]
    assert {k["AttributeName"] for k in index["KeySchema"]} == {"gsi1pk", "gsi1sk"}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSEDescription"]["SSEType"] == "KMS"
    assert table["SSEDescription"]["KMSMasterKeyArn"] == key_arn
    pitr = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"
