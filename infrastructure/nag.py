"""cdk-nag acknowledgements: one helper, called beside the resource each one excuses."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Suppress one AwsSolutions finding on `construct` (and its children), with the reason."""
    Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=reason))
