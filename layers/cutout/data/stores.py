"""Build the data-layer objects a function needs from the typed settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cutout.data.accounts import AccountStore
from cutout.data.training import TrainingStore
from cutout.data.transient import TransientStore
from cutout.settings import Settings


@dataclass(frozen=True)
class Stores:
    """The accounts table, the transient bucket and the training store of one deployment."""

    accounts: AccountStore
    transient: TransientStore
    training: TrainingStore

    @classmethod
    def from_clients(cls, settings: Settings, s3: Any, dynamodb: Any) -> Stores:
        """The stores over clients the caller built (`cutout.data.aws`): the fault tests
        register failures on exactly these clients' events."""
        return cls(
            accounts=AccountStore(dynamodb.Table(settings.accounts_table)),
            transient=TransientStore(s3, settings.transient_bucket, settings.kms_key_id),
            training=TrainingStore(s3, settings.training_bucket, settings.kms_key_id),
        )
