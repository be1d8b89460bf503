"""Shapes of the REST API: request bodies (validated here) and responses.

The request serializers validate: each of the nine attributes is a field built from
:mod:`applicants.attributes` whose check is :func:`applicants.validation.attribute_field_errors`,
and ``dp`` < ``otr`` is :func:`applicants.validation.dp_otr_errors` — the rules and the wording the
file reader and the score form use (messages name the field by its label; the JSON keys stay the
field keys). :func:`clean_applicant_input` is how the services read one request item.

Two modes:

- **strict** (``/api/v1/...``): numbers must be JSON numbers (an integral float such as
  ``9295094.0`` counts as a whole number; ``"9295094"`` or ``true`` does not); unknown fields are
  errors (at most :data:`MAX_UNKNOWN_FIELD_MESSAGES` of them named).
- **lenient** (the deprecated ``/predict/``, as the original service behaved): numeric strings such
  as ``"9295094"`` or ``"9295094.0"`` — and rupiah spellings such as ``"Rp9.295.094"`` for the
  amounts — are read as numbers, and fields other than the nine are ignored.
"""

import re
from collections import defaultdict
from datetime import date, datetime
from pathlib import PurePath

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.functional import lazy
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from applicants.attributes import (
    ATTRIBUTE_FIELDS,
    ATTRIBUTES,
    CATEGORY_CHOICES,
    RUPIAH_ATTRIBUTE_FIELDS,
    Attribute,
    label,
    lazy_label,
)
from applicants.models import Applicant
from applicants.parsing import MAX_TEXT_CHARS, parse_rupiah, too_long_message
from applicants.validation import attribute_field_errors, dp_otr_errors, echo, required_message
from credit.scorecard import MAX_SCORE, MIN_SCORE
from reviews import selectors as review_selectors
from reviews.models import ReviewDecision
from scoring import selectors
from scoring.models import DecisionPolicy, Prediction
from scoring.policies import grade_band_rows, policy_parameters
from scoring.reason_wording import prediction_rule_text, worded_reasons
from scoring.services import ApplicantDataError
from training.models import ModelVersion
from web.api import examples as api_examples
from web.page_selectors.training import champion_comparison_summary, scorecard_points

APP_ID_FIELD = "app_id"
MAX_APP_ID = 2**63 - 1
MAX_UNKNOWN_FIELD_MESSAGES = 10
_NUMERIC_TEXT = re.compile(r"[-+]?\d{1,20}(?:\.\d{1,6})?")

# ---------------------------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------------------------


def object_error() -> str:
    return gettext("Expected a JSON object with the nine applicant attributes: %(fields)s.") % {
        "fields": ", ".join(ATTRIBUTE_FIELDS)
    }


def _lenient_number(name: str, value):
    """A numeric string as the number it spells (``/predict/`` only); anything else unchanged."""
    if not isinstance(value, str) or len(value) > MAX_TEXT_CHARS:
        return value
    if _NUMERIC_TEXT.fullmatch(value.strip()):
        number = float(value)
        return int(number) if number.is_integer() else number
    if name in RUPIAH_ATTRIBUTE_FIELDS:
        try:
            return parse_rupiah(value)
        except ValueError:
            return value
    return value


# Worded in the language of the request that reads it. Made lazy once: ``lazy()`` builds a class on every call.
lazy_required_message = lazy(required_message, str)


class AttributeFieldMixin:
    """One of the nine attributes, checked by the shared rule of :mod:`applicants.validation` (the field
    class it is mixed into only describes the attribute in the OpenAPI schema)."""

    def __init__(self, attribute: Attribute, **kwargs):
        self.attribute = attribute
        message = lazy_required_message(attribute.name)
        super().__init__(
            label=lazy_label(attribute.name), error_messages={"required": message, "null": message}, **kwargs
        )

    def to_internal_value(self, data):
        if isinstance(data, str) and len(data) > MAX_TEXT_CHARS:  # refused unread, in every mode
            raise serializers.ValidationError(f"{label(self.attribute.name)}: {too_long_message(len(data))}")
        if self.context.get("lenient") and not self.attribute.is_category:
            data = _lenient_number(self.attribute.name, data)
        errors = attribute_field_errors(self.attribute.name, data)
        if errors:
            raise serializers.ValidationError(errors)
        return str(data) if self.attribute.is_category else int(data)


class CategoryAttributeField(AttributeFieldMixin, serializers.ChoiceField):
    def __init__(self, attribute: Attribute):
        super().__init__(attribute, choices=CATEGORY_CHOICES[attribute.name].choices)


class NumberAttributeField(AttributeFieldMixin, serializers.IntegerField):
    def __init__(self, attribute: Attribute):
        super().__init__(attribute, min_value=attribute.minimum, max_value=attribute.maximum)


class AppIdField(serializers.Field):
    """A positive whole number (a JSON number: ``"5"`` or ``true`` is refused)."""

    def to_internal_value(self, data):
        if (
            isinstance(data, bool)
            or not isinstance(data, int | float)
            or (isinstance(data, float) and not data.is_integer())
        ):
            raise serializers.ValidationError(
                gettext("Application id must be a whole number, got %(value)s") % {"value": echo(data)}
            )
        if not 1 <= data <= MAX_APP_ID:
            raise serializers.ValidationError(
                gettext("Application id must be between 1 and %(maximum)s, got %(value)s")
                % {"maximum": MAX_APP_ID, "value": echo(data)}
            )
        return int(data)

    def to_representation(self, value):
        return value


SchemaAppIdField = extend_schema_field({"type": "integer", "minimum": 1, "example": 1001})(AppIdField)


def _attribute_field(attribute: Attribute):
    """The serializer field of an attribute: an enum of its categories, or an integer with its range."""
    return CategoryAttributeField(attribute) if attribute.is_category else NumberAttributeField(attribute)


class ApplicantAttributesSerializer(serializers.Serializer):
    """The nine attributes. Unknown fields are errors unless the context says ``lenient``."""

    def get_fields(self):
        return {attribute.name: _attribute_field(attribute) for attribute in ATTRIBUTES}

    def to_internal_value(self, data):
        errors = {}
        if isinstance(data, dict) and not self.context.get("lenient"):
            unknown = [name for name in data if name not in self.fields]
            accepted = ", ".join(self.fields)
            for name in unknown[:MAX_UNKNOWN_FIELD_MESSAGES]:
                key = str(name) if len(str(name)) <= MAX_TEXT_CHARS else echo(str(name))
                errors[key] = [gettext("Unknown field; the accepted fields are: %(fields)s.") % {"fields": accepted}]
            if len(unknown) > MAX_UNKNOWN_FIELD_MESSAGES:
                errors["non_field_errors"] = [
                    gettext("%(count)s more unknown fields.") % {"count": len(unknown) - MAX_UNKNOWN_FIELD_MESSAGES}
                ]
        try:
            values = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({**exc.detail, **errors}) from None
        if errors:
            raise serializers.ValidationError(errors)
        return values

    def validate(self, attrs):
        problems = dp_otr_errors(attrs["dp"], attrs["otr"])
        if problems:
            raise serializers.ValidationError({"dp": problems})
        return attrs


@extend_schema_serializer(examples=api_examples.SCORE_REQUEST_EXAMPLES)
class ScoreRequestSerializer(ApplicantAttributesSerializer):
    def get_fields(self):
        fields = super().get_fields()
        fields[APP_ID_FIELD] = SchemaAppIdField(
            required=False,
            allow_null=True,
            help_text="Optional application id: links the prediction to the stored applicant (whose attributes must "
            "match), or stores a new applicant with these attributes.",
        )
        return {APP_ID_FIELD: fields.pop(APP_ID_FIELD), **fields}


@extend_schema_serializer(examples=api_examples.APPLICANT_CREATE_EXAMPLES)
class ApplicantCreateSerializer(ScoreRequestSerializer):
    def get_fields(self):
        fields = super().get_fields()
        fields[APP_ID_FIELD].required = True
        fields[APP_ID_FIELD].allow_null = False
        fields[APP_ID_FIELD].help_text = "Application id, unique."
        return fields


class BatchScoreRequestSerializer(serializers.Serializer):
    applicants = ScoreRequestSerializer(many=True, help_text="The applicants to score, at most SCORING_BATCH_MAX.")


def clean_applicant_input(
    item, *, allow_app_id: bool = True, require_app_id: bool = False, lenient: bool = False
) -> tuple[dict, int | None, dict[str, list[str]]]:
    """``(attributes, app_id, errors)`` of one request item, validated by the serializers above.

    ``attributes`` holds the nine attributes with amounts and counts as ``int`` (empty when there
    are errors); ``app_id`` is ``None`` unless given; ``errors`` is ``{field: [message, ...]}``,
    with ``non_field_errors`` when the item is not an object.
    """
    if not isinstance(item, dict):
        return {}, None, {"non_field_errors": [object_error()]}
    if not lenient:
        accepted = _accepted_as_sent(item, allow_app_id=allow_app_id or require_app_id, require_app_id=require_app_id)
        if accepted is not None:
            return accepted[0], accepted[1], {}
    if require_app_id:
        serializer_class = ApplicantCreateSerializer
    elif allow_app_id:
        serializer_class = ScoreRequestSerializer
    else:
        serializer_class = ApplicantAttributesSerializer
    serializer = serializer_class(data=item, context={"lenient": lenient})
    if not serializer.is_valid():
        return {}, None, {str(name): [str(m) for m in messages] for name, messages in serializer.errors.items()}
    values = dict(serializer.validated_data)
    app_id = values.pop(APP_ID_FIELD, None)
    return {name: values[name] for name in ATTRIBUTE_FIELDS}, app_id, {}


def _accepted_as_sent(item: dict, *, allow_app_id: bool, require_app_id: bool) -> tuple[dict, int | None] | None:
    """``(attributes, app_id)`` of a strict item that breaks no rule, exactly as the serializers above
    read it, found with the same rules without building them (a serializer makes its ten field
    objects anew for every item, which cost as much as the rules themselves); ``None`` when any rule
    is broken, so that the serializers word the errors. A test holds the two readings equal."""
    if not item.keys() <= (_FIELDS_WITH_APP_ID if allow_app_id else _ATTRIBUTE_FIELD_SET):
        return None
    attributes = {}
    for attribute in ATTRIBUTES:
        value = item.get(attribute.name)
        if attribute_field_errors(attribute.name, value):
            return None
        attributes[attribute.name] = str(value) if attribute.is_category else int(value)
    if dp_otr_errors(attributes["dp"], attributes["otr"]):
        return None
    app_id = item.get(APP_ID_FIELD)
    if app_id is None:
        return None if require_app_id else (attributes, None)
    if isinstance(app_id, bool) or not isinstance(app_id, int | float):
        return None
    if (isinstance(app_id, float) and not app_id.is_integer()) or not 1 <= app_id <= MAX_APP_ID:
        return None
    return attributes, int(app_id)


_ATTRIBUTE_FIELD_SET = frozenset(ATTRIBUTE_FIELDS)
_FIELDS_WITH_APP_ID = _ATTRIBUTE_FIELD_SET | {APP_ID_FIELD}


def cleaned_requests(items, **options) -> list[tuple[dict, int | None]]:
    """``[(attributes, app_id)]`` of request items read by :func:`clean_applicant_input` (``options``
    are its keywords); raises :class:`scoring.services.ApplicantDataError` with every bad item's
    errors (index → field → messages), so nothing is scored when any item is invalid."""
    cleaned, errors = [], {}
    for index, item in enumerate(items):
        attributes, app_id, item_errors = clean_applicant_input(item, **options)
        if item_errors:
            errors[index] = item_errors
        cleaned.append((attributes, app_id))
    if errors:
        raise ApplicantDataError(errors)
    return cleaned


# ---------------------------------------------------------------------------------------------
# Query parameters of the list endpoints
# ---------------------------------------------------------------------------------------------

EARLIEST_FILTER_DATE, LATEST_FILTER_DATE = date(1900, 1, 1), date(9000, 12, 31)


class MomentField(serializers.Field):
    """A date (``YYYY-MM-DD``: the whole day) or an ISO 8601 date-time (naive → the current time zone)."""

    def to_internal_value(self, data):
        text = str(data).strip()
        try:
            value = parse_datetime(text) if "T" in text or " " in text else parse_date(text)
        except ValueError:
            value = None
        if value is None:
            raise serializers.ValidationError(
                gettext("must be a date (YYYY-MM-DD) or an ISO 8601 date-time, got %(value)s") % {"value": echo(text)}
            )
        day = value.date() if isinstance(value, datetime) else value
        if not EARLIEST_FILTER_DATE <= day <= LATEST_FILTER_DATE:
            raise serializers.ValidationError(
                gettext("must be between %(earliest)s and %(latest)s")
                % {"earliest": EARLIEST_FILTER_DATE.isoformat(), "latest": LATEST_FILTER_DATE.isoformat()}
            )
        if isinstance(value, datetime) and value.tzinfo is None:
            value = timezone.make_aware(value)
        return value

    def to_representation(self, value):
        return value.isoformat()


def _optional_bool(help_text: str):
    return serializers.BooleanField(required=False, allow_null=True, default=None, help_text=help_text)


PAGE_SIZE_FIELD = serializers.IntegerField(
    required=False, min_value=1, max_value=500, help_text="Results per page (at most 500)."
)


class PredictionFilterSerializer(serializers.Serializer):
    """The query parameters of ``GET /api/v1/predictions``."""

    app_id = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_APP_ID, help_text="Only this application's predictions."
    )
    version = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_APP_ID, help_text="Only predictions of this model version id."
    )
    date_from = extend_schema_field({"type": "string", "example": "2026-12-01"})(MomentField)(
        required=False, help_text="From this date (YYYY-MM-DD) or date-time."
    )
    date_to = extend_schema_field({"type": "string", "example": "2026-12-31"})(MomentField)(
        required=False, help_text="Up to this date (inclusive) or date-time."
    )
    is_npl = _optional_bool("Only predictions with this label.")
    channel = serializers.ChoiceField(choices=Prediction.Channel.values, required=False)
    page_size = PAGE_SIZE_FIELD

    def selector_arguments(self) -> dict:
        data = self.validated_data
        return {
            "app_id": data.get("app_id"),
            "model_version_id": data.get("version"),
            "created_from": data.get("date_from"),
            "created_to": data.get("date_to"),
            "is_npl": data.get("is_npl"),
            "channel": data.get("channel"),
        }


class ApplicantFilterSerializer(serializers.Serializer):
    """The query parameters of ``GET /api/v1/applicants``."""

    is_npl = _optional_bool("Stored NPL label.")
    kolektibilitas = serializers.ChoiceField(choices=[1, 2, 3, 4, 5], required=False)
    pekerjaan = serializers.ChoiceField(choices=CATEGORY_CHOICES["pekerjaan"].choices, required=False)
    housing_type = serializers.ChoiceField(choices=CATEGORY_CHOICES["housing_type"].choices, required=False)
    source = serializers.CharField(required=False, max_length=255, help_text="Loan file name, or 'api'.")
    page_size = PAGE_SIZE_FIELD

    def selector_arguments(self) -> dict:
        data = self.validated_data
        return {name: data.get(name) for name in ("is_npl", "kolektibilitas", "pekerjaan", "housing_type", "source")}


class CompatPredictRequestSerializer(serializers.Serializer):
    monthly_income = serializers.FloatField()
    housing_type = serializers.CharField()
    num_of_dependent = serializers.FloatField()
    lama_bekerja = serializers.FloatField()
    otr = serializers.FloatField()
    status_pernikahan = serializers.CharField()
    pekerjaan = serializers.CharField()
    tenor = serializers.FloatField()
    dp = serializers.FloatField()


class CompatPredictResponseSerializer(serializers.Serializer):
    res = serializers.JSONField(help_text='"Ya" when predicted NPL, "Tidak" otherwise; [] on an error.')
    prob = serializers.FloatField(
        required=False, help_text="100 × the probability of NOT becoming NPL, 2 decimals (customer quality)."
    )
    error_msg = serializers.CharField(help_text='"" on success, otherwise what was wrong.')


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.DictField(required=False, help_text="field → messages (batch: item index → field → messages)")


# ---------------------------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------------------------


class ReasonSerializer(serializers.Serializer):
    attribute = serializers.CharField(help_text="The attribute group compared, e.g. dp.")
    label = serializers.CharField()
    value = serializers.JSONField(help_text="The applicant's value of the attribute, as sent.")
    typical_value = serializers.JSONField(
        help_text="The typical value it was compared with, in the same unit (dp: the down payment the typical "
        "share of the price gives at the applicant's price); null when compared with the average of all categories."
    )
    value_text = serializers.CharField(help_text="The applicant's value, worded (dp: share of price).")
    typical_text = serializers.CharField(help_text="The typical value, worded.")
    direction = serializers.ChoiceField(choices=["raises", "lowers"])
    effect = serializers.FloatField(help_text="Change in NPL probability against a typical applicant.")
    text = serializers.CharField(help_text="The reason as a sentence.")


@extend_schema_field(ReasonSerializer(many=True))
class WordedReasonsField(serializers.Field):
    """A prediction's reasons: stored as data, worded here in the request's language (``label``,
    ``value_text``, ``typical_text``, ``text``; :mod:`scoring.reason_wording`)."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, prediction):
        return worded_reasons(prediction.reasons, prediction.input_attributes)


class ModelVersionRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True, help_text="e.g. XGBClassifier-oversampling")


class PolicyRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)


class ReasonCodeRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField(help_text="In the language of the request (Accept-Language).")


class ReviewDecisionSerializer(serializers.Serializer):
    """A review decision, beside the prediction it decides, with what the decider saw copied."""

    id = serializers.IntegerField(read_only=True)
    prediction = serializers.IntegerField(source="prediction_id", read_only=True)
    outcome = serializers.ChoiceField(choices=ReviewDecision.Outcome.choices, read_only=True)
    reason_code = serializers.SerializerMethodField()
    note = serializers.CharField(read_only=True)
    decided_by = serializers.SerializerMethodField()
    decided_at = serializers.DateTimeField(read_only=True)
    recommendation = serializers.ChoiceField(
        choices=Prediction.Recommendation.choices, read_only=True, help_text="The recommendation when decided."
    )
    credit_score = serializers.IntegerField(read_only=True, min_value=MIN_SCORE, max_value=MAX_SCORE)
    risk_grade = serializers.CharField(read_only=True)
    financed_amount = serializers.IntegerField(read_only=True, min_value=0, help_text="otr − dp, in rupiah.")
    override = serializers.ChoiceField(
        choices=ReviewDecision.Override.choices,
        read_only=True,
        help_text="high_side: declined or referred up despite approve; low_side: approved despite decline.",
    )
    is_final = serializers.BooleanField(
        read_only=True,
        help_text="False for a referral, or an approval above the decider's limit that awaits a second decision.",
    )

    @extend_schema_field(ReasonCodeRefSerializer(allow_null=True))
    def get_reason_code(self, decision) -> dict | None:
        reason = decision.reason_code
        return {"code": reason.code, "label": reason.label} if reason is not None else None

    def get_decided_by(self, decision) -> str:
        return decision.decided_by.get_username()


class PredictionListSerializer(serializers.ListSerializer):
    """Predictions with their review decisions read in one query for the whole list."""

    def to_representation(self, data):
        predictions = list(data.all() if hasattr(data, "all") else data)
        found = defaultdict(list)
        for decision in review_selectors.decisions(prediction_ids=[prediction.pk for prediction in predictions]):
            found[decision.prediction_id].append(decision)
        for prediction in predictions:
            prediction.review_decisions_read = found.get(prediction.pk, [])
        return super().to_representation(predictions)


@extend_schema_serializer(examples=api_examples.SCORE_RESPONSE_EXAMPLES)
class PredictionSerializer(serializers.Serializer):
    # Declared field by field, not a ModelSerializer: every scoring answer is one of these, and a
    # ModelSerializer derives its fields from the model again for each answer.
    id = serializers.IntegerField(read_only=True)
    app_id = serializers.SerializerMethodField()
    attributes = serializers.JSONField(source="input_attributes", read_only=True)
    npl_probability = serializers.FloatField(read_only=True, min_value=0.0, max_value=1.0)
    is_npl = serializers.BooleanField(read_only=True, label="Predicted NPL")
    threshold = serializers.FloatField(read_only=True, min_value=0.0, max_value=1.0, label="Decision threshold used")
    credit_score = serializers.IntegerField(read_only=True, min_value=MIN_SCORE, max_value=MAX_SCORE)
    risk_grade = serializers.CharField(read_only=True, max_length=4)
    expected_loss = serializers.IntegerField(read_only=True, min_value=0, label="Expected loss (Rp)")
    recommendation = serializers.ChoiceField(choices=Prediction.Recommendation.choices, read_only=True)
    # The reasons worded in the request's language and the version as {id, name}: nested serializers
    # would copy their fields again for every answer.
    reasons = WordedReasonsField()
    knockout_rule = serializers.CharField(
        read_only=True,
        help_text=(
            'The decision policy\'s knock-out rule that decided the recommendation before the score: "monthly_income", '
            '"dp_share", "tenor" or "installment_to_income"; "" when the score decided.'
        ),
    )
    knockout_rule_text = serializers.SerializerMethodField(
        help_text="The knock-out rule in words, with the policy's limit, in the request's language (\"\" when none)."
    )
    outside_training = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text=(
            "The attributes whose value is outside what the model saw in training (below the smallest or above "
            "the largest number, or a category never seen): the probability is an extrapolation; review it."
        ),
    )
    model_version = serializers.SerializerMethodField()
    policy = serializers.SerializerMethodField(help_text="The decision policy of score, grade and recommendation.")
    channel = serializers.ChoiceField(choices=Prediction.Channel.choices, read_only=True)
    user = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True, label="Scored at")
    decisions = serializers.SerializerMethodField(
        help_text="The review decisions recorded on this prediction, newest first (empty until someone decides)."
    )

    class Meta:
        list_serializer_class = PredictionListSerializer

    def get_app_id(self, prediction) -> int | None:
        return prediction.applicant.app_id if prediction.applicant_id else None

    def get_knockout_rule_text(self, prediction) -> str:
        return prediction_rule_text(prediction)

    def get_user(self, prediction) -> str | None:
        return prediction.user.get_username() if prediction.user_id else None

    @extend_schema_field(ModelVersionRefSerializer)
    def get_model_version(self, prediction) -> dict:
        return {"id": prediction.model_version_id, "name": prediction.model_version.name}

    @extend_schema_field(PolicyRefSerializer(allow_null=True))
    def get_policy(self, prediction) -> dict | None:
        # From the id alone: the policy's row is not read for every answer.
        return {"id": prediction.policy_id} if prediction.policy_id is not None else None

    @extend_schema_field(ReviewDecisionSerializer(many=True))
    def get_decisions(self, prediction) -> list:
        # A list reads every prediction's decisions in one query (PredictionListSerializer); one
        # prediction in one indexed query.
        decisions = getattr(prediction, "review_decisions_read", None)
        if decisions is None:
            decisions = list(review_selectors.decisions(prediction_ids=[prediction.pk]))
        return ReviewDecisionSerializer(decisions, many=True).data if decisions else []

    def to_representation(self, prediction) -> dict:
        """What the declared fields above give (a test holds the two equal), without DRF's deep copy of
        the nineteen field objects that reading them takes for every answer (a tenth of a scoring
        request's time beyond the model). The declared fields still describe the answer in the schema."""
        return {
            "id": int(prediction.pk),
            "app_id": self.get_app_id(prediction),
            "attributes": prediction.input_attributes,
            "npl_probability": float(prediction.npl_probability),
            "is_npl": bool(prediction.is_npl),
            "threshold": float(prediction.threshold),
            "credit_score": int(prediction.credit_score),
            "risk_grade": str(prediction.risk_grade),
            "expected_loss": int(prediction.expected_loss),
            "recommendation": _RECOMMENDATION.to_representation(prediction.recommendation),
            "reasons": worded_reasons(prediction.reasons, prediction.input_attributes),
            "knockout_rule": str(prediction.knockout_rule),
            "knockout_rule_text": self.get_knockout_rule_text(prediction),
            "outside_training": [str(name) if name is not None else None for name in prediction.outside_training],
            "model_version": self.get_model_version(prediction),
            "policy": self.get_policy(prediction),
            "channel": _CHANNEL.to_representation(prediction.channel),
            "user": self.get_user(prediction),
            "created_at": _DATE_TIME.to_representation(prediction.created_at),
            "decisions": self.get_decisions(prediction),
        }


# Unbound fields whose to_representation PredictionSerializer.to_representation uses as its fields do.
_RECOMMENDATION = serializers.ChoiceField(choices=Prediction.Recommendation.choices)
_CHANNEL = serializers.ChoiceField(choices=Prediction.Channel.choices)
_DATE_TIME = serializers.DateTimeField()


@extend_schema_serializer(examples=api_examples.APPLICANT_EXAMPLES)
class ApplicantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Applicant
        fields = [
            "app_id",
            "monthly_income",
            "housing_type",
            "num_of_dependent",
            "lama_bekerja",
            "otr",
            "status_pernikahan",
            "pekerjaan",
            "tenor",
            "dp",
            "source",
            "max_dpd",
            "kolektibilitas",
            "is_npl",
            "labelled_as_of",
            "created_at",
        ]


class PaymentSummarySerializer(serializers.Serializer):
    kolektibilitas = serializers.IntegerField(allow_null=True)
    kolektibilitas_name = serializers.CharField(allow_null=True)
    max_dpd = serializers.IntegerField(allow_null=True)
    is_npl = serializers.BooleanField(allow_null=True)
    labelled_as_of = serializers.DateField(allow_null=True)
    installments = serializers.IntegerField()
    paid_installments = serializers.IntegerField()
    unpaid_installments = serializers.IntegerField()
    overdue_installments = serializers.IntegerField(allow_null=True)
    outstanding_amount = serializers.IntegerField()
    first_due_date = serializers.DateField(allow_null=True)
    last_due_date = serializers.DateField(allow_null=True)


@extend_schema_serializer(examples=api_examples.APPLICANT_DETAIL_EXAMPLES)
class ApplicantDetailSerializer(ApplicantSerializer):
    payment_summary = serializers.SerializerMethodField()
    latest_prediction = serializers.SerializerMethodField()

    class Meta(ApplicantSerializer.Meta):
        fields = [*ApplicantSerializer.Meta.fields, "payment_summary", "latest_prediction"]

    def get_payment_summary(self, applicant) -> PaymentSummarySerializer:
        return PaymentSummarySerializer(selectors.payment_summary(applicant)).data

    def get_latest_prediction(self, applicant) -> PredictionSerializer(allow_null=True):
        prediction = selectors.latest_prediction(applicant)
        return PredictionSerializer(prediction).data if prediction else None


class ModelVersionSummarySerializer(serializers.ModelSerializer):
    """What an Analyst may see of the active version."""

    test_metrics = serializers.SerializerMethodField(help_text="Headline metrics on the untouched test applicants.")
    test_intervals = serializers.SerializerMethodField(
        help_text="Bootstrap 95 % interval [low, high] of each headline metric on the test applicants."
    )
    uncertain = serializers.SerializerMethodField(
        help_text="True when the training book had fewer than 200 NPL applicants: every figure is uncertain."
    )

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "name",
            "algorithm",
            "threshold",
            "trained_at",
            "activated_at",
            "is_active",
            "test_metrics",
            "test_intervals",
            "uncertain",
        ]

    def get_test_metrics(self, version) -> dict:
        return selectors.headline_metrics(version)

    def get_test_intervals(self, version) -> dict:
        intervals = (version.metrics or {}).get("intervals") or {}
        return {name: intervals[name] for name in selectors.headline_metrics(version) if intervals.get(name)}

    def get_uncertain(self, version) -> bool:
        return bool((version.metrics or {}).get("uncertain"))


class ModelVersionDetailSerializer(serializers.ModelSerializer):
    """Everything about a version, for Model admins."""

    leaderboard = serializers.SerializerMethodField(
        help_text=(
            "Every candidate: cross-validated mean ± standard error of the selection metric, "
            "the chosen and the best-mean candidate marked."
        )
    )
    points_table = serializers.SerializerMethodField(
        help_text="For a scorecard version: every attribute's bins with their points; empty otherwise."
    )
    artifact_file = serializers.SerializerMethodField(help_text="The artifact's file name (never a server path).")
    champion_comparison_summary = serializers.SerializerMethodField(
        help_text=(
            "What the champion/challenger comparison at training decided, in the reader's language (empty when "
            "there was none). metrics.champion_comparison.judged is false when too few test applicants were "
            "unseen by the active version to judge both: then there is no verdict."
        )
    )

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "name",
            "algorithm",
            "balancing",
            "hyperparameters",
            "threshold",
            "metrics",
            "training_data",
            "trained_at",
            "status",
            "is_active",
            "activated_at",
            "artifact_file",
            "artifact_sha256",
            "artifact_size",
            "leaderboard",
            "points_table",
            "champion_comparison_summary",
        ]

    def get_leaderboard(self, version) -> list:
        return selectors.leaderboard(version)

    def get_points_table(self, version) -> list:
        return scorecard_points(version)

    def get_artifact_file(self, version) -> str:
        return PurePath(version.artifact_path).name

    def get_champion_comparison_summary(self, version) -> str:
        return champion_comparison_summary((version.metrics or {}).get("champion_comparison") or {})


class GradeBandSerializer(serializers.Serializer):
    grade = serializers.CharField()
    min_score = serializers.FloatField(
        allow_null=True, help_text="Lowest credit score of the grade; null: below the others."
    )
    max_npl_probability = serializers.FloatField(help_text="Highest NPL probability that still reaches the grade.")


class PolicySummarySerializer(serializers.ModelSerializer):
    """What an Analyst may see of the policy in force: the bands and cut-offs that apply."""

    grade_bands = serializers.SerializerMethodField()

    class Meta:
        model = DecisionPolicy
        fields = [
            "id",
            "grade_bands",
            "approve_min_score",
            "decline_min_pd",
            "min_monthly_income",
            "min_dp_share",
            "max_tenor",
            "max_installment_to_income",
            "knockout_action",
            "activated_at",
        ]

    def get_grade_bands(self, policy) -> GradeBandSerializer(many=True):
        return grade_band_rows(policy_parameters(policy))


class PolicyDetailSerializer(PolicySummarySerializer):
    """Everything about a policy, for Model admins."""

    grade_bands_text = serializers.CharField(source="grade_bands", help_text="The bands as written, e.g. A:600,B:545.")
    created_by = serializers.SerializerMethodField()
    activated_by = serializers.SerializerMethodField()

    class Meta(PolicySummarySerializer.Meta):
        fields = [
            "id",
            "is_active",
            "grade_bands",
            "grade_bands_text",
            "approve_min_score",
            "decline_min_pd",
            "min_monthly_income",
            "min_dp_share",
            "max_tenor",
            "max_installment_to_income",
            "knockout_action",
            "lgd",
            "base_points",
            "base_odds",
            "pdo",
            "recall_target",
            "reason",
            "created_by",
            "created_at",
            "activated_by",
            "activated_at",
        ]

    def get_created_by(self, policy) -> str | None:
        return policy.created_by.get_username() if policy.created_by_id else None

    def get_activated_by(self, policy) -> str | None:
        return policy.activated_by.get_username() if policy.activated_by_id else None
