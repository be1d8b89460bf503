"""Reasons in words, in the reader's language.

A prediction stores its reasons as **data** (:data:`STORED_KEYS`: the attribute group, the
applicant's value, the typical value it was compared with, the direction and the effect in
probability points; see :mod:`scoring.engine`), whoever scored it — the score form, the API, the
worker or a batch of a million rows. They are worded only when shown: on a page or in an API
answer in the language of that request, in a batch's results file in the language of the person
who started the job. Wording needs the applicant's vehicle price and down payment (the down
payment is shown as a share of the price, the price beside the amount financed), which every
prediction stores with its input attributes.

Predictions stored before reasons were stored as data also carry the words of the language they
were scored in (``label``, ``value_text``, ``typical_text``, ``text``); those are ignored and the
reason is worded again from its data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.utils import translation
from django.utils.formats import get_format, number_format
from django.utils.translation import get_language, gettext, gettext_noop

from credit.reasons import REASON_LABELS
from credit.scorecard import RULE_FIGURES, KnockoutRules
from scoring.policies import rules_of_policy

# What a stored reason holds (the engine writes exactly these).
STORED_KEYS = ("attribute", "value", "typical_value", "direction", "effect")


class ReasonWording:
    """One language's translations and number formats for reasons, kept per process.

    Django looks the language up again on every ``gettext`` and ``number_format`` call; for a
    batch's results file that was most of the time spent on reasons (seven translated strings a
    reason, three reasons an applicant). The compiled catalogues are read once per process anyway,
    so :meth:`of` keeps one instance per language (a changed catalogue is used after a restart, as
    Django's own are in production), which translates each string once, in its own language
    whatever is active later, and groups rupiah amounts with the language's thousands separator
    directly (``number_format(..., force_grouping=True)`` gives the same text; a test holds them
    equal in both languages). Percentages are one decimal at most, so their cache stays small.
    """

    _by_language: dict[str | None, ReasonWording] = {}
    _MAX_PERCENTAGES = 10_000

    @classmethod
    def of(cls, language: str | None = None) -> ReasonWording:
        """The wording of ``language`` (default: the active language)."""
        language = language or get_language()
        wording = cls._by_language.get(language)
        if wording is None:
            wording = cls._by_language[language] = cls(language)
        return wording

    def __init__(self, language: str | None):
        self.language = language
        self.thousands_separator = get_format("THOUSAND_SEPARATOR", language)
        self._translations: dict[str, str] = {}
        self._percentages: dict[tuple[float, int], str] = {}

    def gettext(self, text: str) -> str:
        translated = self._translations.get(text)
        if translated is None:
            with translation.override(self.language):
                translated = self._translations[text] = gettext(text)
        return translated

    def percent(self, ratio: float) -> str:
        """``0.2`` → ``"20"``, ``0.125`` → ``"12.5"`` (``"12,5"`` in Indonesian)."""
        percentage = round(ratio * 100, 1)
        decimals = 0 if abs(ratio * 100 - round(ratio * 100)) < 0.05 else 1
        text = self._percentages.get((percentage, decimals))
        if text is None:
            with translation.override(self.language):
                text = number_format(percentage, decimal_pos=decimals)
            if len(self._percentages) >= self._MAX_PERCENTAGES:
                self._percentages.clear()
            self._percentages[percentage, decimals] = text
        return text

    def integer(self, value: int) -> str:
        return f"{int(value):,}".replace(",", self.thousands_separator)

    def rupiah(self, value: int) -> str:
        return "Rp " + self.integer(value)

    def share_of_price(self, ratio: float) -> str:
        return self.gettext("%(percent)s %% of the vehicle price") % {"percent": self.percent(ratio)}

    def months(self, months: int) -> str:
        return self.gettext("%(months)s months") % {"months": self.integer(months)}


def _value_text(group: str, value, otr: int, dp: int, wording: ReasonWording) -> str:
    """The applicant's value (``typical=False``) in words."""
    if group == "dp":
        return wording.share_of_price(dp / otr if otr > 0 else 0.0)
    if group == "otr":
        return wording.gettext("%(price)s, %(financed)s financed") % {
            "price": wording.rupiah(otr),
            "financed": wording.rupiah(max(otr - dp, 0)),
        }
    if group == "monthly_income":
        return wording.rupiah(value)
    if group == "tenor":
        return wording.months(value)
    if group in ("num_of_dependent", "lama_bekerja"):
        return wording.integer(value)
    return str(value)


def _typical_text(group: str, typical_value, otr: int, wording: ReasonWording) -> str:
    if group == "dp":  # the typical down payment at this price: shown as the typical share of the price
        return wording.share_of_price(typical_value / otr if otr > 0 and typical_value is not None else 0.0)
    if group in ("otr", "monthly_income"):
        return wording.rupiah(typical_value)
    if group == "tenor":
        return wording.months(typical_value)
    if group in ("num_of_dependent", "lama_bekerja"):
        return wording.integer(typical_value)
    if typical_value is None:  # compared with every category the model knows, equally weighted
        return wording.gettext("the average of all categories")
    return str(typical_value)


def word_reason(reason: Mapping, attributes: Mapping, wording: ReasonWording) -> dict:
    """A stored reason with its words: the data (:data:`STORED_KEYS`) plus ``label``,
    ``value_text``, ``typical_text`` and the sentence ``text``."""
    group = reason["attribute"]
    otr, dp = int(attributes.get("otr") or 0), int(attributes.get("dp") or 0)
    label = wording.gettext(REASON_LABELS[group])
    value_text = _value_text(group, reason["value"], otr, dp, wording)
    typical_text = _typical_text(group, reason["typical_value"], otr, wording)
    raises = reason["direction"] == "raises"
    consequence = wording.gettext("raises risk") if raises else wording.gettext("lowers risk")
    return {
        **{key: reason.get(key) for key in STORED_KEYS},
        "label": label,
        "value_text": value_text,
        "typical_text": typical_text,
        "text": wording.gettext("%(label)s: %(value)s; typical %(typical)s — %(consequence)s")
        % {"label": label, "value": value_text, "typical": typical_text, "consequence": consequence},
    }


def worded_reasons(reasons: Iterable[Mapping], attributes: Mapping, language: str | None = None) -> list[dict]:
    """A prediction's stored reasons, worded in ``language`` (default: the active language)."""
    wording = ReasonWording.of(language)
    return [word_reason(reason, attributes, wording) for reason in reasons or ()]


# Each knock-out rule's name, and the rule as a sentence with its limit (marked with gettext_noop,
# translated when shown).
RULE_NAMES = {
    "monthly_income": gettext_noop("Income floor"),
    "dp_share": gettext_noop("Minimum down payment"),
    "tenor": gettext_noop("Maximum tenor"),
    "installment_to_income": gettext_noop("Affordability: instalment-to-income cap"),
}
RULE_SENTENCES = {
    "monthly_income": gettext_noop("Monthly income below the policy's minimum of %(limit)s"),
    "dp_share": gettext_noop("Down payment below %(limit)s of the vehicle price"),
    "tenor": gettext_noop("Tenor above the policy's maximum of %(limit)s"),
    "installment_to_income": gettext_noop("Instalment (amount financed ÷ tenor) above %(limit)s of monthly income"),
}


def knockout_rule_text(rule: str, rules: KnockoutRules, language: str | None = None) -> str:
    """The knock-out rule that decided a prediction, in words with the policy's limit (``""``: none)."""
    if not rule:
        return ""
    wording = ReasonWording.of(language)
    limit = getattr(rules, RULE_FIGURES[rule])
    if limit is None:  # the policy no longer has this rule: its name without a figure
        return wording.gettext(RULE_NAMES[rule])
    if rule == "monthly_income":
        text = wording.rupiah(int(limit))
    elif rule == "tenor":
        text = wording.months(int(limit))
    else:
        text = wording.percent(float(limit)) + " %"
    return wording.gettext(RULE_SENTENCES[rule]) % {"limit": text}


def prediction_rule_text(prediction, language: str | None = None) -> str:
    """The knock-out rule that decided ``prediction`` (a stored Prediction), in words (``""``: none)."""
    if not prediction.knockout_rule:
        return ""
    return knockout_rule_text(prediction.knockout_rule, rules_of_policy(prediction.policy_id), language)
