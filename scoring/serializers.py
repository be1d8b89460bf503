"""Shapes of the REST API: request bodies (for the OpenAPI schema) and responses.

Request bodies are *checked* by :mod:`scoring.inputs` and the services (one set of rules, with
per-field messages); the request serializers here describe them for the schema and Swagger UI.
"""

from pathlib import PurePath

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from applicants.models import Applicant
from applicants.validation import (
    INTEGER_LIMITS,
    HousingType,
    Pekerjaan,
    StatusPernikahan,
)
from training.models import ModelVersion
from training.page_selectors import scorecard_points

from . import api_examples, selectors
from .models import DecisionPolicy, Prediction
from .policies import grade_band_rows, policy_parameters

# ---------------------------------------------------------------------------------------------
# Requests (documentation of the bodies the services validate)
# ---------------------------------------------------------------------------------------------


def _integer(name: str, help_text: str):
    minimum, maximum, _ = INTEGER_LIMITS[name]
    return serializers.IntegerField(min_value=minimum, max_value=maximum, help_text=help_text)


class ApplicantAttributesSerializer(serializers.Serializer):
    monthly_income = _integer("monthly_income", "Monthly income in whole rupiah, e.g. 9295094.")
    housing_type = serializers.ChoiceField(choices=HousingType.choices)
    num_of_dependent = _integer("num_of_dependent", "Number of dependants.")
    lama_bekerja = _integer("lama_bekerja", "Years in the current job.")
    otr = _integer("otr", "On-the-road price of the vehicle in rupiah.")
    status_pernikahan = serializers.ChoiceField(choices=StatusPernikahan.choices)
    pekerjaan = serializers.ChoiceField(choices=Pekerjaan.choices)
    tenor = _integer("tenor", "Loan term in months.")
    dp = _integer("dp", "Down payment in rupiah; at most otr.")


@extend_schema_serializer(examples=api_examples.SCORE_REQUEST_EXAMPLES)
class ScoreRequestSerializer(ApplicantAttributesSerializer):
    app_id = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Optional application id: links the prediction to the stored applicant (whose attributes must "
        "match), or stores a new applicant with these attributes.",
    )


class BatchScoreRequestSerializer(serializers.Serializer):
    applicants = ScoreRequestSerializer(many=True, help_text="The applicants to score, at most SCORING_BATCH_MAX.")


@extend_schema_serializer(examples=api_examples.APPLICANT_CREATE_EXAMPLES)
class ApplicantCreateSerializer(ApplicantAttributesSerializer):
    app_id = serializers.IntegerField(min_value=1, help_text="Application id, unique.")


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
    value_text = serializers.CharField(required=False, help_text="The applicant's value, worded (dp: share of price).")
    typical_text = serializers.CharField(required=False, help_text="The typical value, worded.")
    direction = serializers.ChoiceField(choices=["raises", "lowers"])
    effect = serializers.FloatField(help_text="Change in NPL probability against a typical applicant.")
    text = serializers.CharField()


class ModelVersionRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelVersion
        fields = ["id", "name"]


class PolicyRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = DecisionPolicy
        fields = ["id"]


@extend_schema_serializer(examples=api_examples.SCORE_RESPONSE_EXAMPLES)
class PredictionSerializer(serializers.ModelSerializer):
    app_id = serializers.SerializerMethodField()
    attributes = serializers.JSONField(source="input_attributes")
    model_version = ModelVersionRefSerializer()
    policy = serializers.SerializerMethodField(help_text="The decision policy of score, grade and recommendation.")
    reasons = ReasonSerializer(many=True)
    user = serializers.SerializerMethodField()

    class Meta:
        model = Prediction
        fields = [
            "id",
            "app_id",
            "attributes",
            "npl_probability",
            "is_npl",
            "threshold",
            "credit_score",
            "risk_grade",
            "expected_loss",
            "recommendation",
            "reasons",
            "model_version",
            "policy",
            "channel",
            "user",
            "created_at",
        ]

    def get_app_id(self, prediction) -> int | None:
        return prediction.applicant.app_id if prediction.applicant_id else None

    def get_user(self, prediction) -> str | None:
        return prediction.user.get_username() if prediction.user_id else None

    @extend_schema_field(PolicyRefSerializer(allow_null=True))
    def get_policy(self, prediction) -> dict | None:
        # From the id alone: the policy's row is not read for every answer.
        return {"id": prediction.policy_id} if prediction.policy_id is not None else None


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
        ]

    def get_leaderboard(self, version) -> list:
        return selectors.leaderboard(version)

    def get_points_table(self, version) -> list:
        return scorecard_points(version)

    def get_artifact_file(self, version) -> str:
        return PurePath(version.artifact_path).name


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
        fields = ["id", "grade_bands", "approve_min_score", "decline_min_pd", "activated_at"]

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
