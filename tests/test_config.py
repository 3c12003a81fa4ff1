"""Settings come from the environment and .env, and never show the key."""

from __future__ import annotations

import datetime as dt

import pytest

from comedy.config import DEFAULT_REALTIME_URL, PUBLIC_DAY_USD, PUBLIC_SET_USD, Settings
from comedy.realtime.redaction import redact

KEY = "sk-proj-SECRETSECRET1234567890"


def test_defaults_mean_rehearsal_mode() -> None:
    settings = Settings.from_env({}, dotenv_path=None)
    assert settings.rehearsal and settings.realtime_url == DEFAULT_REALTIME_URL
    assert settings.model == "gpt-realtime-2.1"
    assert settings.reasoning_effort == "low" and settings.max_output_tokens == 1200
    assert settings.prompt_id is None


def test_reasoning_effort_and_output_limit_are_settings() -> None:
    env = {"COMEDY_REASONING_EFFORT": "Minimal", "COMEDY_MAX_OUTPUT_TOKENS": "400"}
    settings = Settings.from_env(env, dotenv_path=None)
    assert settings.reasoning_effort == "minimal" and settings.max_output_tokens == 400
    with pytest.raises(ValueError, match="COMEDY_REASONING_EFFORT must be one of minimal, low"):
        Settings.from_env({"COMEDY_REASONING_EFFORT": "extreme"}, dotenv_path=None)
    for bad in ("0", "5000", "12.5"):
        with pytest.raises(
            ValueError, match="COMEDY_MAX_OUTPUT_TOKENS must be a whole number from 1 to 4096"
        ):
            Settings.from_env({"COMEDY_MAX_OUTPUT_TOKENS": bad}, dotenv_path=None)


def test_a_configured_model_past_its_shutdown_gives_way_to_the_default(caplog) -> None:
    env = {"OPENAI_REALTIME_MODEL": "gpt-realtime-mini"}
    before = Settings.from_env(env, dotenv_path=None, today=dt.date(2027, 1, 19))
    after = Settings.from_env(env, dotenv_path=None, today=dt.date(2027, 1, 20))
    assert before.model == "gpt-realtime-mini" and after.model == "gpt-realtime-2.1"
    assert "gpt-realtime-mini is shut down; using gpt-realtime-2.1" in caplog.text


def test_environment_wins_over_dotenv(tmp_path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        f"OPENAI_API_KEY={KEY}\nOPENAI_REALTIME_MODEL=gpt-realtime-mini\nCOMEDY_PROMPT_ID=pmpt_1\n"
    )
    settings = Settings.from_env({"OPENAI_REALTIME_MODEL": "gpt-realtime-2.1"}, dotenv_path=str(dotenv))
    assert not settings.rehearsal and settings.model == "gpt-realtime-2.1"
    assert settings.prompt_id == "pmpt_1"
    assert settings.api_key.get_secret_value() == KEY


def test_repr_and_str_never_show_the_key() -> None:
    settings = Settings.from_env({"OPENAI_API_KEY": KEY}, dotenv_path=None)
    assert KEY not in repr(settings) and KEY not in str(settings)


def test_redact_masks_given_secrets_and_key_shapes() -> None:
    text = f"failed with {KEY} and Bearer abc.def and sk-other-1234567"
    cleaned = redact(text, "abc.def")
    assert KEY not in cleaned and "abc.def" not in cleaned and "sk-other" not in cleaned


def test_bad_number_is_named() -> None:
    with pytest.raises(ValueError, match="COMEDY_MAX_SETS"):
        Settings.from_env({"COMEDY_MAX_SETS": "lots"}, dotenv_path=None)


def test_turn_detection_and_noise_reduction_are_settings_that_reach_the_session() -> None:
    from comedy import prompts

    env = {
        "COMEDY_TURN_DETECTION": "semantic_vad",
        "COMEDY_VAD_EAGERNESS": "low",
        "COMEDY_NOISE_STRENGTH": "0.6",
    }
    listening = Settings.from_env(env, dotenv_path=None).listening
    tuning = prompts.Tuning(listening=listening)
    update = prompts.session_update(prompts.SetUp(microphone="headset"), tuning)["session"]["audio"]["input"]
    assert update["turn_detection"] == {
        "type": "semantic_vad",
        "eagerness": "low",
        "create_response": False,
        "interrupt_response": False,
    }
    assert update["noise_reduction"] == {"type": "near_field", "strength": 0.6}
    off = prompts.session_update(prompts.SetUp(microphone="off"), tuning)["session"]["audio"]["input"]
    assert off["noise_reduction"] is None
    for name, bad in (("COMEDY_VAD_THRESHOLD", "1.5"), ("COMEDY_VAD_EAGERNESS", "eager")):
        with pytest.raises(ValueError, match=name):
            Settings.from_env({name: bad}, dotenv_path=None)


def test_a_public_space_gets_spend_caps_unless_the_owner_sets_them() -> None:
    local = Settings.from_env({}, dotenv_path=None)
    assert local.max_set_usd == 0 and local.max_day_usd == 0
    space = Settings.from_env({"SPACE_ID": "someone/comedy"}, dotenv_path=None)
    assert (space.max_set_usd, space.max_day_usd) == (PUBLIC_SET_USD, PUBLIC_DAY_USD)
    assert space.max_set_usd > 0
    owned = Settings.from_env(
        {"SPACE_ID": "someone/comedy", "COMEDY_MAX_SET_USD": "2", "COMEDY_MAX_DAY_USD": "0"}, dotenv_path=None
    )
    assert (owned.max_set_usd, owned.max_day_usd) == (2.0, 0.0)
