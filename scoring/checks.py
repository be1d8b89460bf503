"""System check: the scorecard settings are usable (reported by ``manage.py check`` and at startup)."""

from django.core.checks import Error, register

from credit.scorecard import ScorecardConfigurationError
from scoring.policies import environment_parameters


@register()
def check_scorecard_settings(app_configs, **kwargs):
    try:
        environment_parameters()
    except ScorecardConfigurationError as exc:
        return [
            Error(str(exc), hint="Fix the variable in the environment (see README, Configuration).", id="scoring.E001")
        ]
    return []
