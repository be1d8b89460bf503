"""Examples for the OpenAPI schema and Swagger UI: two realistic applicants and what the API answered.

Without them Swagger UI makes examples up from each field's limits (an income of Rp 10 billion, a
down payment equal to the price, 20 dependants, a credit score of 9223372036854776000). The answers
below were produced by ``POST /api/v1/score`` and ``POST /predict/`` with the demo model of ``make run``
(quick profile, as of 30 Jun 2026); another model gives other figures in the same shape.
``tests/scoring/test_schema.py`` checks that they have exactly the fields a real answer has and that
the requests pass validation.
"""

from drf_spectacular.utils import OpenApiExample

TYPICAL_APPLICANT = {
    "monthly_income": 9_500_000,
    "housing_type": "milik sendiri",
    "num_of_dependent": 1,
    "lama_bekerja": 6,
    "otr": 150_000_000,
    "status_pernikahan": "Nikah",
    "pekerjaan": "Karyawan Swasta",
    "tenor": 36,
    "dp": 45_000_000,
}

RISKIER_APPLICANT = {
    "monthly_income": 9_500_000,
    "housing_type": "milik sendiri",
    "num_of_dependent": 2,
    "lama_bekerja": 6,
    "otr": 250_000_000,
    "status_pernikahan": "Nikah",
    "pekerjaan": "Karyawan Swasta",
    "tenor": 36,
    "dp": 50_000_000,
}

_MODEL_VERSION = {"id": 1, "name": "LogisticRegression-class_weight"}

TYPICAL_ANSWER = {
    "id": 1,
    "app_id": None,
    "attributes": TYPICAL_APPLICANT,
    "npl_probability": 0.0441160701136309,
    "is_npl": False,
    "threshold": 0.05152822431707878,
    "credit_score": 552,
    "risk_grade": "B",
    "expected_loss": 2084484,
    "recommendation": "approve",
    "reasons": [
        {
            "attribute": "lama_bekerja",
            "label": "Years in current job",
            "value": 6,
            "typical_value": 5,
            "value_text": "6",
            "typical_text": "5",
            "direction": "lowers",
            "effect": -0.0094,
            "text": "Years in current job: 6; typical 5 — lowers risk",
        },
        {
            "attribute": "dp",
            "label": "Down payment",
            "value": 45000000,
            "typical_value": 43135500,
            "value_text": "30 % of the vehicle price",
            "typical_text": "28.8 % of the vehicle price",
            "direction": "lowers",
            "effect": -0.0047,
            "text": "Down payment: 30 % of the vehicle price; typical 28.8 % of the vehicle price — lowers risk",
        },
    ],
    "knockout_rule": "",
    "knockout_rule_text": "",
    "outside_training": [],
    "model_version": _MODEL_VERSION,
    "policy": {"id": 1},
    "channel": "api",
    "user": "ana",
    "created_at": "2026-12-06T09:57:17.971825+07:00",
    "decisions": [],
}

RISKIER_ANSWER = {
    "id": 2,
    "app_id": None,
    "attributes": RISKIER_APPLICANT,
    "npl_probability": 0.3888999149302509,
    "is_npl": True,
    "threshold": 0.05152822431707878,
    "credit_score": 400,
    "risk_grade": "E",
    "expected_loss": 35000992,
    "recommendation": "decline",
    "reasons": [
        {
            "attribute": "otr",
            "label": "Vehicle price",
            "value": 250000000,
            "typical_value": 102000000,
            "value_text": "Rp 250,000,000, Rp 200,000,000 financed",
            "typical_text": "Rp 102,000,000",
            "direction": "raises",
            "effect": 0.3361,
            "text": "Vehicle price: Rp 250,000,000, Rp 200,000,000 financed; typical Rp 102,000,000 — raises risk",
        },
        {
            "attribute": "dp",
            "label": "Down payment",
            "value": 50000000,
            "typical_value": 71892500,
            "value_text": "20 % of the vehicle price",
            "typical_text": "28.8 % of the vehicle price",
            "direction": "raises",
            "effect": 0.1869,
            "text": "Down payment: 20 % of the vehicle price; typical 28.8 % of the vehicle price — raises risk",
        },
        {
            "attribute": "monthly_income",
            "label": "Monthly income",
            "value": 9500000,
            "typical_value": 9828318,
            "value_text": "Rp 9,500,000",
            "typical_text": "Rp 9,828,318",
            "direction": "raises",
            "effect": 0.0328,
            "text": "Monthly income: Rp 9,500,000; typical Rp 9,828,318 — raises risk",
        },
    ],
    "knockout_rule": "",
    "knockout_rule_text": "",
    "outside_training": [],
    "model_version": _MODEL_VERSION,
    "policy": {"id": 1},
    "channel": "api",
    "user": "ana",
    "created_at": "2026-12-06T09:57:17.980226+07:00",
    "decisions": [],
}

STORED_APPLICANT = {
    "app_id": 4,
    "monthly_income": 11_665_376,
    "housing_type": "milik orang tua",
    "num_of_dependent": 0,
    "lama_bekerja": 9,
    "otr": 135_300_000,
    "status_pernikahan": "Belum Nikah",
    "pekerjaan": "Karyawan Swasta",
    "tenor": 60,
    "dp": 27_700_000,
    "source": "demo book",
    "max_dpd": 392,
    "kolektibilitas": 5,
    "is_npl": True,
    "labelled_as_of": "2026-06-30",
    "created_at": "2026-12-06T07:44:11.416159+07:00",
}
STORED_APPLICANT_DETAIL = {
    **STORED_APPLICANT,
    "payment_summary": {
        "kolektibilitas": 5,
        "kolektibilitas_name": "Macet",
        "max_dpd": 392,
        "is_npl": True,
        "labelled_as_of": "2026-06-30",
        "installments": 27,
        "paid_installments": 14,
        "unpaid_installments": 13,
        "overdue_installments": 13,
        "outstanding_amount": 35_255_000,
        "first_due_date": "2024-04-03",
        "last_due_date": "2026-06-03",
    },
    "latest_prediction": {
        "id": 19,
        "app_id": 4,
        "attributes": {key: STORED_APPLICANT[key] for key in TYPICAL_APPLICANT},
        "npl_probability": 0.04061016977627853,
        "is_npl": False,
        "threshold": 0.06978951623625695,
        "credit_score": 557,
        "risk_grade": "B",
        "expected_loss": 1_966_344,
        "recommendation": "approve",
        "reasons": [
            {
                "attribute": "housing_type",
                "label": "Housing",
                "value": "milik orang tua",
                "typical_value": "milik sendiri",
                "value_text": "milik orang tua",
                "typical_text": "milik sendiri",
                "direction": "raises",
                "effect": 0.02,
                "text": "Housing: milik orang tua; typical milik sendiri — raises risk",
            },
            {
                "attribute": "status_pernikahan",
                "label": "Marital status",
                "value": "Belum Nikah",
                "typical_value": "Nikah",
                "value_text": "Belum Nikah",
                "typical_text": "Nikah",
                "direction": "raises",
                "effect": 0.0169,
                "text": "Marital status: Belum Nikah; typical Nikah — raises risk",
            },
            {
                "attribute": "dp",
                "label": "Down payment",
                "value": 27_700_000,
                "typical_value": 38_831_100,
                "value_text": "20.5 % of the vehicle price",
                "typical_text": "28.7 % of the vehicle price",
                "direction": "raises",
                "effect": 0.0154,
                "text": "Down payment: 20.5 % of the vehicle price; typical 28.7 % of the vehicle price — raises risk",
            },
        ],
        "knockout_rule": "",
        "knockout_rule_text": "",
        "outside_training": [],
        "model_version": _MODEL_VERSION,
        "policy": {"id": 1},
        "channel": "web",
        "user": "analyst",
        "created_at": "2026-12-06T07:44:51.374490+07:00",
        "decisions": [],
    },
}
APPLICANT_EXAMPLES = [
    OpenApiExample("A stored applicant (NPL: 392 days past due)", value=STORED_APPLICANT, response_only=True)
]
APPLICANT_DETAIL_EXAMPLES = [
    OpenApiExample(
        "A stored applicant with its payments and latest score", value=STORED_APPLICANT_DETAIL, response_only=True
    )
]

SCORE_REQUEST_EXAMPLES = [
    OpenApiExample("Typical applicant", value=TYPICAL_APPLICANT, request_only=True),
    OpenApiExample("Riskier applicant (expensive car, 20 % down)", value=RISKIER_APPLICANT, request_only=True),
]
SCORE_RESPONSE_EXAMPLES = [
    OpenApiExample(
        "Typical applicant: grade B, approve", value=TYPICAL_ANSWER, response_only=True, status_codes=["200"]
    ),
    OpenApiExample(
        "Riskier applicant: grade E, decline", value=RISKIER_ANSWER, response_only=True, status_codes=["200"]
    ),
]
BATCH_EXAMPLES = [
    OpenApiExample("Two applicants", value={"applicants": [TYPICAL_APPLICANT, RISKIER_APPLICANT]}, request_only=True),
    OpenApiExample(
        "Two applicants scored",
        value={"count": 2, "results": [TYPICAL_ANSWER, RISKIER_ANSWER]},
        response_only=True,
        status_codes=["200"],
    ),
]
APPLICANT_CREATE_EXAMPLES = [
    OpenApiExample("A new applicant", value={"app_id": 50001, **TYPICAL_APPLICANT}, request_only=True),
]
COMPAT_EXAMPLES = [
    OpenApiExample(
        "Original client's body (numbers as floats or strings)",
        value={**TYPICAL_APPLICANT, "monthly_income": 9500000.0, "otr": "150000000", "dp": 45000000.0},
        request_only=True,
        media_type="*/*",  # the endpoint reads JSON whatever the Content-Type says
    ),
    OpenApiExample(
        "Not predicted NPL",
        value={"res": "Tidak", "prob": 97.89, "error_msg": ""},
        response_only=True,
        status_codes=["200"],
    ),
    OpenApiExample(
        "Invalid input (a down payment above the price)",
        value={
            "res": [],
            "error_msg": "dp: dp (down payment) of 450,000,000 is larger than otr (vehicle price) of 150,000,000",
        },
        response_only=True,
        status_codes=["400"],
    ),
]


# The review desk (web/api/reviews.py): a case of the queue, a low-side override recorded on it, and the
# override report, as the API answered them on the demo setup (tests/reviews/test_api.py checks their shape).
REVIEW_QUEUE_ITEM = {
    "id": 2,
    "app_id": None,
    "credit_score": 400,
    "risk_grade": "E",
    "recommendation": "decline",
    "npl_probability": 0.3888999149302509,
    "financed_amount": 200_000_000,
    "channel": "api",
    "scored_at": "2026-12-06T09:57:17.980226+07:00",
    "entered_at": "2026-12-06T10:02:41.118305+07:00",
    "sent_to_review": True,
    "age_working_days": 1,
    "aging": "on_time",
    "target_working_days": 2,
    "status": "open",
    "assignee": "ana",
    "pending_decision": None,
}
REVIEW_QUEUE_EXAMPLES = [
    OpenApiExample(
        "One case: a decline sent to review, claimed by ana",
        value={"count": 1, "next": None, "previous": None, "results": [REVIEW_QUEUE_ITEM]},
        response_only=True,
        status_codes=["200"],
    )
]
DECISION_REQUEST = {
    "outcome": "approve",
    "reason_code": "GUARANTOR",
    "note": "Parent co-signs; salary slips for six months seen.",
}
DECISION_ANSWER = {
    "decision": {
        "id": 1,
        "prediction": 2,
        "outcome": "approve",
        "reason_code": {"code": "GUARANTOR", "label": "Guarantor or co-borrower added"},
        "note": "Parent co-signs; salary slips for six months seen.",
        "decided_by": "ana",
        "decided_at": "2026-12-06T10:05:12.550211+07:00",
        "recommendation": "decline",
        "credit_score": 400,
        "risk_grade": "E",
        "financed_amount": 200_000_000,
        "override": "low_side",
        "is_final": True,
    },
    "case": {"id": 2, "status": "decided", "final_outcome": "approve", "assignee": "ana"},
}
DECISION_EXAMPLES = [
    OpenApiExample("Approve a decline: a low-side override with its reason", value=DECISION_REQUEST, request_only=True),
    OpenApiExample("The override recorded", value=DECISION_ANSWER, response_only=True, status_codes=["201"]),
]
_OVERRIDE_FIGURES = {
    "decisions": 1,
    "firm_recommendation_decisions": 1,
    "overrides": 1,
    "high_side": 0,
    "low_side": 1,
    "override_rate": 1.0,
    "overridden_with_outcome": 0,
    "overridden_npl": 0,
    "overridden_npl_rate": None,
    "followed_with_outcome": 0,
    "followed_npl": 0,
    "followed_npl_rate": None,
}
OVERRIDE_REPORT_ANSWER = {
    "date_from": None,
    "date_to": None,
    "window_months": 12,
    "overall": _OVERRIDE_FIGURES,
    "awaiting_outcome": 1,
    "by_analyst": [{"analyst": "ana", **_OVERRIDE_FIGURES}],
    "by_reason": [{"reason": "GUARANTOR", "label": "Guarantor or co-borrower added", **_OVERRIDE_FIGURES}],
    "by_grade": [{"grade": "E", **_OVERRIDE_FIGURES}],
    "by_month": [{"month": "2026-12", **_OVERRIDE_FIGURES}],
}
OVERRIDE_REPORT_EXAMPLES = [
    OpenApiExample(
        "One low-side override, its outcome not known yet",
        value=OVERRIDE_REPORT_ANSWER,
        response_only=True,
        status_codes=["200"],
    )
]
