"""Decision policies and predictions: the rules that turn a probability into a decision, and every score
the platform gives, with its input, model version, policy and result — the audit trail; and the
batch-scoring jobs of uploaded loan files."""

import uuid
from pathlib import Path

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from credit.scorecard import (
    DECLINE,
    MAX_INSTALLMENT_TO_INCOME_RANGE,
    MAX_TENOR_RANGE,
    MIN_DP_SHARE_RANGE,
    MIN_MONTHLY_INCOME_RANGE,
    REVIEW,
)
from jobs.models import BackgroundJob
from nplsite.numbers import decimal_text


class DecisionPolicy(models.Model):
    """One version of the decision rules: score scaling, grade bands, cut-offs, LGD, the flag's recall target.

    A policy is never edited once stored: a change is a new version, so every prediction's
    ``policy`` says exactly which rules produced it. At most one policy is active, which the
    database enforces (``one_active_decision_policy``); ``scoring.policy_services`` creates and
    activates them, ``scoring.policies`` gives scoring the active one. ``credit/scorecard.py``
    explains what each figure does.
    """

    grade_bands = models.CharField(
        _("grade bands"),
        max_length=200,
        help_text=_("minimum score of each grade, best first, e.g. A:600,B:545,C:500,D:455 (lower scores: E)"),
    )
    decline_min_pd = models.FloatField(
        _("decline from NPL probability"),
        validators=[MinValueValidator(0.0001), MaxValueValidator(1.0)],
        help_text=_("recommendation decline when the NPL probability is at least this (0–1)"),
    )
    approve_min_score = models.FloatField(
        _("approve from credit score"),
        validators=[MinValueValidator(300), MaxValueValidator(850)],
        help_text=_("recommendation approve when the applicant is not flagged NPL and scores at least this"),
    )
    lgd = models.FloatField(
        _("loss given default"),
        validators=[MinValueValidator(0.0001), MaxValueValidator(1.0)],
        help_text=_("share of the amount financed lost when a loan becomes NPL (0–1)"),
    )
    base_points = models.FloatField(_("base points"), help_text=_("credit score at the base odds"))
    base_odds = models.FloatField(
        _("base odds"),
        validators=[MinValueValidator(0.0001)],
        help_text=_("good:bad odds that score the base points (50 means 50:1)"),
    )
    pdo = models.FloatField(
        _("points to double the odds"), validators=[MinValueValidator(0.0001)], help_text=_("PDO, e.g. 40")
    )
    recall_target = models.FloatField(
        _("NPL flag recall target"),
        validators=[MinValueValidator(0.01), MaxValueValidator(1.0)],
        help_text=_("share of NPL applicants the model's NPL flag must catch; training chooses its threshold by it"),
    )
    # Knock-out rules, read before the score (credit.scorecard.KnockoutRules); each optional (empty: off).
    min_monthly_income = models.BigIntegerField(
        _("minimum monthly income (Rp)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_MONTHLY_INCOME_RANGE[0]), MaxValueValidator(MIN_MONTHLY_INCOME_RANGE[1])],
        help_text=_("knock-out rule: applicants earning less are caught, whatever their score"),
    )
    min_dp_share = models.FloatField(
        _("minimum down payment share"),
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_DP_SHARE_RANGE[0]), MaxValueValidator(MIN_DP_SHARE_RANGE[1])],
        help_text=_("knock-out rule: a down payment below this share of the vehicle price is caught (0–1)"),
    )
    max_tenor = models.PositiveSmallIntegerField(
        _("maximum tenor (months)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(MAX_TENOR_RANGE[0]), MaxValueValidator(MAX_TENOR_RANGE[1])],
        help_text=_("knock-out rule: a longer tenor is caught"),
    )
    max_installment_to_income = models.FloatField(
        _("maximum instalment-to-income ratio"),
        null=True,
        blank=True,
        validators=[
            MinValueValidator(MAX_INSTALLMENT_TO_INCOME_RANGE[0]),
            MaxValueValidator(MAX_INSTALLMENT_TO_INCOME_RANGE[1]),
        ],
        help_text=_(
            "knock-out rule: an instalment (amount financed ÷ tenor) above this share of income is caught (0–2)"
        ),
    )
    knockout_action = models.CharField(
        _("what a knock-out rule does"),
        max_length=10,
        choices=[(DECLINE, _("Decline")), (REVIEW, _("Refer to review"))],
        default=DECLINE,
    )
    reason = models.TextField(_("reason"), help_text=_("why this policy: what changes and on what evidence"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="decision_policies",
        verbose_name=_("created by"),
        help_text=_("empty for the first policy, made from the environment variables"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    is_active = models.BooleanField(_("active"), default=False)
    activated_at = models.DateTimeField(_("last activated at"), null=True, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activated_decision_policies",
        verbose_name=_("last activated by"),
    )

    class Meta:
        verbose_name = _("decision policy")
        verbose_name_plural = _("decision policies")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="one_active_decision_policy"
            ),
        ]

    def __str__(self):
        return gettext("Policy #%(id)s") % {"id": self.pk}


class Prediction(models.Model):
    """One applicant scored by one model version, as it was answered to whoever asked."""

    class Channel(models.TextChoices):
        WEB = "web", _("Web form")
        API = "api", _("REST API")
        BATCH = "batch", _("Batch file")

    class Recommendation(models.TextChoices):
        APPROVE = "approve", _("Approve")
        REVIEW = "review", _("Review")
        DECLINE = "decline", _("Decline")

    applicant = models.ForeignKey(
        "applicants.Applicant",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="predictions",
        verbose_name=_("applicant"),
        help_text=_("empty for an ad hoc request that named no application"),
    )
    input_attributes = models.JSONField(_("input attributes"), help_text=_("the nine attributes as scored"))
    batch_job = models.ForeignKey(
        "BatchScoringJob",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="predictions",
        verbose_name=_("batch job"),
        help_text=_("the batch-scoring job that stored this prediction, if any"),
        # Found through prediction_once_per_batch_row (job, line): two more indexes on every insert for nothing.
        db_index=False,
    )
    batch_row = models.PositiveIntegerField(
        _("line in the batch file"),
        null=True,
        blank=True,
        help_text=_("the file line of the application this prediction scored (with the batch job: stored once)"),
    )
    model_version = models.ForeignKey(
        "training.ModelVersion", on_delete=models.PROTECT, related_name="predictions", verbose_name=_("model version")
    )
    policy = models.ForeignKey(
        DecisionPolicy,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="predictions",
        verbose_name=_("decision policy"),
        help_text=_("the rules that turned the probability into score, grade and recommendation"),
    )
    npl_probability = models.FloatField(_("NPL probability"))
    is_npl = models.BooleanField(_("predicted NPL"))
    threshold = models.FloatField(_("decision threshold used"))
    credit_score = models.SmallIntegerField(_("credit score"))
    risk_grade = models.CharField(_("risk grade"), max_length=4)
    expected_loss = models.BigIntegerField(_("expected loss (Rp)"))
    recommendation = models.CharField(_("recommendation"), max_length=10, choices=Recommendation.choices)
    reasons = models.JSONField(_("reasons"), default=list)
    knockout_rule = models.CharField(
        _("knock-out rule"),
        max_length=40,
        blank=True,
        default="",
        help_text=_("the policy's knock-out rule that decided the recommendation before the score (empty: none)"),
    )
    outside_training = models.JSONField(
        _("outside the training range"),
        default=list,
        blank=True,
        help_text=_("the attributes whose value is outside what the model saw in training (an extrapolation)"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="predictions",
        verbose_name=_("requested by"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    # Set when scoring stores the prediction (scoring.services): monitoring counts these rows as the
    # applications entering a period, so a report reads a flag instead of searching every applicant's
    # earlier predictions (docs/scaling.md, "Monitoring aggregation").
    first_of_version = models.BooleanField(
        _("first by this model version"),
        default=False,
        help_text=_(
            "the applicant's first prediction by this model version (always for a request that named no "
            "application); a re-score of a stored applicant is not"
        ),
    )
    created_at = models.DateTimeField(_("scored at"), auto_now_add=True)

    class Meta:
        verbose_name = _("prediction")
        verbose_name_plural = _("predictions")
        ordering = ["-created_at", "-id"]
        constraints = [
            # A batch application is stored once per job, however often its chunk is delivered or retried.
            models.UniqueConstraint(
                fields=["batch_job", "batch_row"],
                condition=Q(batch_job__isnull=False),
                name="prediction_once_per_batch_row",
            ),
            # One first prediction per stored applicant and version, even when two requests score the
            # same applicant at once (the later insert is refused and stored again as a re-score).
            models.UniqueConstraint(
                fields=["applicant", "model_version"],
                condition=Q(first_of_version=True),
                name="prediction_first_of_version_once",
            ),
        ]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="prediction_created_idx"),
            # The latest prediction of each applicant (the applicants page's score, grade and sort):
            # ordered by -created_at, -id within the applicant, as the page's subquery reads it.
            models.Index(fields=["applicant", "-created_at", "-id"], name="prediction_latest_idx"),
            models.Index(fields=["model_version", "-created_at"], name="prediction_version_idx"),
            models.Index(fields=["is_npl", "-created_at"], name="prediction_label_idx"),
            models.Index(fields=["channel", "-created_at"], name="prediction_channel_idx"),
            # The review desk's queue: the predictions recommended for review, oldest first (reviews.selectors).
            models.Index(
                fields=["created_at", "id"], condition=Q(recommendation="review"), name="prediction_review_queue_idx"
            ),
        ]

    def __str__(self):
        return gettext("Prediction #%(id)s (NPL probability %(probability)s %%)") % {
            "id": self.pk,
            "probability": decimal_text(self.npl_probability * 100, 1),
        }


def new_batch_job_id() -> str:
    return uuid.uuid4().hex


class BatchScoringJob(BackgroundJob):
    """An uploaded loan file, or a re-score of the stored applications, scored in the request (small
    ones) or by the workers (large ones).

    Its lifecycle is every background job's (``jobs/``). Everything a worker needs is in the
    database, so workers on any machine can take its chunks: the upload (:class:`BatchFilePart`,
    kind ``input``; none for a re-score, whose applications are read from the applicants table), the
    accepted applications split into :class:`BatchChunk` rows (each scored by its own task, with its
    results rows and figures), and the rejection report (parts of kind ``report``; a file's only).
    ``BATCH_UPLOAD_DIR/<id>/`` on the web server only caches the results and report files assembled
    from the database for the pages and downloads (``scoring.batch_jobs``).
    """

    class Source(models.TextChoices):
        FILE = "file", _("Uploaded loan file")
        STORED = "stored", _("Stored applications (re-score)")

    kind = "batch-scoring job"

    OUTPUT_NAME = "scored.csv"
    REPORT_NAME = "scored-errors.csv"
    #: ``original_name`` of a re-score (the downloads are named after it: stored-applications-scored.csv).
    STORED_NAME = "stored-applications"

    #: 32 random hex digits chosen by the server: the job's address and its cache folder's name.
    id = models.CharField(primary_key=True, max_length=32, default=new_batch_job_id, editable=False)
    source = models.CharField(
        _("applications from"),
        max_length=10,
        choices=Source.choices,
        default=Source.FILE,
        help_text=_("an uploaded loan file, or the stored applications (a re-score of the whole book)"),
    )
    original_name = models.CharField(_("file name"), max_length=200)
    size = models.BigIntegerField(_("size (bytes)"), default=0)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    in_worker = models.BooleanField(_("scored by the worker"), default=False)
    chunks = models.PositiveIntegerField(
        _("chunks"),
        null=True,
        blank=True,
        help_text=_("parts the accepted applications were split into (empty: the file is not read yet)"),
    )
    summary = models.JSONField(_("summary"), default=dict, blank=True)
    # The language of whoever started the job: the results file's reasons are worded in it.
    language = models.CharField(_("language of the results file"), max_length=10, default="en")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["started_by", "-created_at"], name="batch_job_user_recent")]

    def __str__(self):
        return gettext("Batch job %(id)s (%(status)s)") % {"id": self.id, "status": self.get_status_display()}

    @property
    def from_stored(self) -> bool:
        """A re-score of the stored applications (no uploaded file, no rejected rows)."""
        return self.source == self.Source.STORED

    @property
    def display_name(self) -> str:
        """What the pages call the job: the uploaded file's name, or what a re-score is (translated)."""
        return str(self.Source.STORED.label) if self.from_stored else self.original_name

    @property
    def directory(self) -> Path:
        """The web server's cache folder of this job's results and report files."""
        return Path(settings.BATCH_UPLOAD_DIR) / self.id

    @property
    def output_path(self) -> Path:
        return self.directory / self.OUTPUT_NAME

    @property
    def report_path(self) -> Path:
        return self.directory / self.REPORT_NAME

    @property
    def has_output(self) -> bool:
        return self.status == self.Status.SUCCEEDED

    @property
    def has_report(self) -> bool:
        return self.status == self.Status.SUCCEEDED and bool(self.summary.get("rejected_rows"))


class BatchFilePart(models.Model):
    """A piece (at most ``PART_BYTES``) of a batch job's uploaded file or of its rejection report,
    kept in the database so that a worker on any machine can read it."""

    PART_BYTES = 1024 * 1024

    class Kind(models.TextChoices):
        INPUT = "input", _("uploaded file")
        REPORT = "report", _("rejection report")

    job = models.ForeignKey(BatchScoringJob, on_delete=models.CASCADE, related_name="file_parts")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    number = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "kind", "number"], name="batch_file_part_once")]

    def __str__(self):
        return f"{self.job_id} {self.kind} #{self.number}"


class BatchChunk(models.Model):
    """One part of a batch job's accepted applications, scored by one Celery task
    (``scoring.score_batch_chunk``): its input rows, and once scored its results rows and figures."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DONE = "done", _("Scored")
        FAILED = "failed", _("Failed")

    job = models.ForeignKey(BatchScoringJob, on_delete=models.CASCADE, related_name="chunk_set")
    number = models.PositiveIntegerField()  # 1, 2, … in file order
    first_line = models.PositiveIntegerField()
    last_line = models.PositiveIntegerField()
    #: [[line, app_id, the nine attributes in ATTRIBUTE_FIELDS order], …] — checked by the file reader.
    rows = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    scored = models.PositiveIntegerField(default=0)
    statistics = models.JSONField(default=dict, blank=True)
    model_version = models.CharField(max_length=200, blank=True)
    #: The results file's rows of this chunk (CSV text without a header), in file order.
    output = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "number"]
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="batch_chunk_once")]
        indexes = [models.Index(fields=["job", "status"], name="batch_chunk_status_idx")]

    def __str__(self):
        return f"{self.job_id} chunk {self.number} ({self.status})"
