"""Data access: the only layer that talks to DynamoDB, S3 and KMS (through boto3)."""
