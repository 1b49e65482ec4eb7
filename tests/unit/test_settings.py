"""Runtime settings: one typed object; a missing or bad variable is named."""

import pytest

from cutout.errors import ConfigurationError
from cutout.settings import ENVIRONMENT_VARIABLES, Settings

REQUIRED = {
    "CUTOUT_ACCOUNTS_TABLE": "accounts",
    "CUTOUT_TRANSIENT_BUCKET": "transient",
    "CUTOUT_TRAINING_BUCKET": "training",
    "CUTOUT_KMS_KEY_ID": "alias/cutout",
}


def test_defaults_apply_when_only_the_required_variables_are_set():
    settings = Settings.from_env(REQUIRED)
    assert settings.model_name == "" and settings.max_pixels == 36_000_000
    assert settings.zero_retention is False


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_a_missing_variable_is_named(missing):
    env = {k: v for k, v in REQUIRED.items() if k != missing}
    with pytest.raises(ConfigurationError, match=missing):
        Settings.from_env(env)


@pytest.mark.parametrize(
    "name, value",
    [
        ("CUTOUT_MAX_PIXELS", "lots"),
        ("CUTOUT_MAX_PIXELS", "0"),
        ("CUTOUT_ZERO_RETENTION", "perhaps"),
        ("CUTOUT_UPLOAD_URL_TTL_SECONDS", "86400"),
        ("CUTOUT_INFERENCE_THREADS", "-1"),
    ],
)
def test_a_bad_value_is_named(name, value):
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env({**REQUIRED, name: value})


def test_every_field_has_its_variable():
    assert set(REQUIRED) < set(ENVIRONMENT_VARIABLES)
    assert all(name.startswith("CUTOUT_") for name in ENVIRONMENT_VARIABLES)
