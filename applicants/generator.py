"""A realistic, reproducible Indonesian auto-finance loan book with a known truth.

``generate_loan_book`` draws applicants (income, vehicle, down payment, tenor, job, housing,
family), gives each a true probability of becoming NPL that is a documented function of its exported
attributes alone (``true_npl_probability``), draws the outcome from it, and writes a monthly payment
history that ``credit.labelling.label_installments`` labels exactly as the drawn outcome. The
histories come out in the raw export format of ``docs/data-format.md`` (mixed rupiah
spellings, ``3 orang`` or ``3``, shuffled rows), so the same file exercises the import, the
labelling and the models. ``docs/dataset-generator.md`` explains the model, the distributions and
the guarantees.

Everything is vectorised with numpy and generated in blocks of ``BLOCK_APPLICANTS`` applicants,
each with its own random stream derived from ``(seed, block number)``: the output depends only on
``(n_applicants, seed, as_of, first_app_id)``, and ``write_loan_book`` streams block by block so
memory stays flat for hundreds of thousands of applicants.
"""

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from applicants.attributes import (
    ATTRIBUTE_FIELDS,
    INSTALLMENT_AMOUNT_FIELDS,
    RUPIAH_ATTRIBUTE_FIELDS,
    HousingType,
    Pekerjaan,
    StatusPernikahan,
)
from applicants.loan_file import LOAN_FILE_COLUMNS
from credit.labelling import label_installments

LOAN_COLUMNS = list(LOAN_FILE_COLUMNS)
TRUTH_COLUMNS = ["app_id", "true_npl_probability", "true_npl"]
RUPIAH_COLUMNS = [*INSTALLMENT_AMOUNT_FIELDS, *RUPIAH_ATTRIBUTE_FIELDS]

BLOCK_APPLICANTS = 25_000

# ---------------------------------------------------------------------------------------------
# Applicant distributions (see docs/dataset-generator.md, "Distributions").
# ---------------------------------------------------------------------------------------------
PEKERJAAN = [
    Pekerjaan.KARYAWAN_SWASTA.value,
    Pekerjaan.WIRASWASTA.value,
    Pekerjaan.PNS.value,
    Pekerjaan.PROFESIONAL.value,
    Pekerjaan.BURUH.value,
    Pekerjaan.LAINNYA.value,
]
PEKERJAAN_SHARE = np.array([0.36, 0.24, 0.10, 0.08, 0.13, 0.09])
# Median monthly income (rupiah) and log-normal sigma per job, in PEKERJAAN order.
INCOME_MEDIAN_BY_JOB = np.array([10.0e6, 12.0e6, 10.0e6, 20.0e6, 6.0e6, 7.0e6])
INCOME_SIGMA_BY_JOB = np.array([0.50, 0.80, 0.35, 0.60, 0.35, 0.70])
INCOME_RANGE = (2_500_000, 100_000_000)
# Mean years in the current job per job type (gamma with shape 1.8).
LAMA_BEKERJA_MEAN_BY_JOB = np.array([6.0, 7.0, 11.0, 8.0, 5.0, 4.0])
LAMA_BEKERJA_MAX = 40
DEPENDANTS_MAX = 8

STATUS_PERNIKAHAN = [StatusPernikahan.NIKAH.value, StatusPernikahan.BELUM_NIKAH.value]
NIKAH_SHARE = 0.62

HOUSING_TYPES = list(HousingType.values)  # in the schema's order, which the shares below follow
HOUSING_SHARE_NIKAH = np.array([0.50, 0.10, 0.12, 0.20, 0.08])
HOUSING_SHARE_BELUM_NIKAH = np.array([0.25, 0.40, 0.02, 0.18, 0.15])

# The vehicle price follows income: otr ≈ 10 × monthly income, log-normal spread.
OTR_INCOME_MULTIPLE = 10.0
OTR_SIGMA = 0.40
OTR_RANGE = (80_000_000, 1_500_000_000)
OTR_ROUNDING = 100_000
DP_MAX_RATIO = 0.60
ZERO_DP_SHARE = 0.03
# Lender policy: the installment may not exceed this share of income, when a down payment up to
# DP_MAX_RATIO can bring it there (a few low-income applicants stay above it, as in real books).
MAX_DEBT_SERVICE_RATIO = 0.50

TENORS = np.array([12, 24, 36, 48, 60])
TENOR_SHARE = np.array([0.10, 0.22, 0.30, 0.18, 0.20])
# Flat annual interest by tenor (the rate card): interest = financed × rate × tenor / 12.
FLAT_RATE_BY_TENOR = {12: 0.08, 24: 0.09, 36: 0.10, 48: 0.11, 60: 0.12}
INSTALLMENT_ROUNDING = 1_000

# Disbursement: a whole number of months before the as-of month, on day 1–28 of its month. Five
# months at least, so the first installment is due 93+ days before as_of and an NPL is observable.
DISBURSED_MONTHS_BEFORE = (5, 36)

# ---------------------------------------------------------------------------------------------
# True risk model (see docs/dataset-generator.md, "True risk model"). The true NPL probability is
# a function of the exported attributes only: P(NPL | attributes). The randomness is the outcome.
#   logit p = INTERCEPT + Σ coefficient × centred attribute + job + housing;  true_npl ~ Bernoulli(p)
# ---------------------------------------------------------------------------------------------
RISK_INTERCEPT = -3.00
RISK_DSR = 5.5  # per unit of debt-service ratio (installment / income), centred at 0.30, capped at 1.5
RISK_DP_RATIO = -5.5  # per unit of down-payment ratio (dp / otr), centred at 0.25
RISK_LOG_LAMA_BEKERJA = -1.0  # per unit of ln(1 + years in job), centred at ln 6
RISK_DEPENDANT = 0.2  # per dependant above one
RISK_TENOR_MONTH = 0.03  # per month of tenor above 36
RISK_BY_JOB = np.array([0.0, 0.7, -1.7, -1.1, 1.0, 1.4])  # PEKERJAAN order
RISK_BY_HOUSING = np.array([-0.7, 0.0, -0.4, 0.55, 1.0])  # HOUSING_TYPES order


@dataclass(frozen=True)
class RiskSetting:
    """How strongly the attributes decide the outcome: the true log-odds are
    ``scale × (the risk model's log-odds) + shift``. ``standard`` is the risk model as it is (NPL
    rate about 12 %, oracle ROC AUC about 0.86); ``real-like`` resembles real lenders' books —
    higher NPL rate (about 24 %), weaker signal (oracle ROC AUC about 0.74), still monotonic in
    every attribute — so model choices are also tried where real books put them."""

    name: str
    scale: float
    shift: float


RISK_SETTINGS = {
    "standard": RiskSetting("standard", 1.0, 0.0),
    "real-like": RiskSetting("real-like", 0.55, 0.2),
}
STANDARD_RISK = RISK_SETTINGS["standard"]

# ---------------------------------------------------------------------------------------------
# Payment behaviour (see docs/dataset-generator.md, "Payment histories").
# ---------------------------------------------------------------------------------------------
LATE_SHARE_BASE = 0.01  # share of installments paid late by a performing applicant ...
LATE_SHARE_PER_RISK = 0.15  # ... plus this × its true NPL probability
SERIOUSLY_LATE_SHARE = 0.15  # of late installments: 31–90 days late, the rest 1–30
EARLY_SHARE = 0.40  # of on-time installments: paid 1–5 days early, the rest on the due date
ARREARS_PARTIAL_SHARE = 0.30  # of installments still owed at as_of: partly paid
NPL_CURED_SHARE = 0.20  # of NPL applicants: paid 91–240 days late, then resumed; others stop paying
DEFAULT_PARTIAL_SHARE = 0.25  # of applicants who stop paying: part of the first missed installment paid
NPL_DPD = 91

# Raw export spellings: a rupiah spelling per row (Rp9295094.0, Rp 9.295.094, Rp9.295.094,00).
RUPIAH_SPELLING_SHARE = np.array([0.6, 0.2, 0.2])
UNIT_SUFFIX_SHARE = 0.7  # rows spelling dependants "3 orang" and years "2 tahun"
MOVED_ROW_SHARE = 0.02  # rows moved away from their application's other rows


class LoanBookInvariantError(RuntimeError):
    """The generated histories do not label as the drawn outcomes: a bug in this module."""


@dataclass(frozen=True)
class LoanBookSummary:
    applicants: int
    installments: int
    npl_applicants: int

    @property
    def npl_rate(self) -> float:
        return self.npl_applicants / self.applicants if self.applicants else 0.0


def validate_generator_arguments(n_applicants: int, seed: int, as_of: date, first_app_id: int = 1) -> None:
    """Raise ``ValueError`` naming the argument when the generator cannot use it."""
    if isinstance(n_applicants, bool) or not isinstance(n_applicants, int | np.integer) or n_applicants < 1:
        raise ValueError(f"the number of applicants must be a whole number of at least 1, got {n_applicants!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"the seed must be a whole number of at least 0, got {seed!r}")
    if not isinstance(as_of, date):
        raise ValueError(f"the as-of date must be a date, got {as_of!r}")
    if as_of.year < 1975:
        raise ValueError(f"the as-of date must be in 1975 or later (histories start up to 3 years before), got {as_of}")
    if isinstance(first_app_id, bool) or not isinstance(first_app_id, int | np.integer) or first_app_id < 1:
        raise ValueError(f"the first app_id must be a whole number of at least 1, got {first_app_id!r}")


def installment_amount(otr, dp, tenor) -> np.ndarray:
    """The monthly installment (rupiah, int64) of the rate card: flat annual interest by tenor.

    ``ceil((otr − dp) × (1 + rate × tenor / 12) / tenor)`` to the next ``INSTALLMENT_ROUNDING``;
    vectorised, so anyone holding a loan file's ``otr``, ``dp`` and ``tenor`` recomputes it exactly.
    """
    otr, dp, tenor = (np.asarray(values, dtype=np.int64) for values in (otr, dp, tenor))
    installment = np.ceil((otr - dp) * _repay_factor(tenor) / INSTALLMENT_ROUNDING) * INSTALLMENT_ROUNDING
    return installment.astype(np.int64)


def _repay_factor(tenor: np.ndarray) -> np.ndarray:
    """Installment per rupiah financed: ``(1 + rate × tenor / 12) / tenor`` with the rate card's rate."""
    flat_rate = np.vectorize(FLAT_RATE_BY_TENOR.__getitem__, otypes=[float])(tenor)
    return (1 + flat_rate * tenor / 12) / tenor


def true_npl_logit(
    debt_service_ratio,
    dp_ratio,
    lama_bekerja,
    num_of_dependent,
    tenor,
    pekerjaan_code,
    housing_code,
):
    """The true risk model's log-odds of NPL (vectorised; codes index PEKERJAAN / HOUSING_TYPES).

    Every term is an exported attribute or a ratio computed from them: nothing unobserved.
    """
    return (
        RISK_INTERCEPT
        + RISK_DSR * (np.minimum(debt_service_ratio, 1.5) - 0.30)
        + RISK_DP_RATIO * (dp_ratio - 0.25)
        + RISK_LOG_LAMA_BEKERJA * (np.log1p(lama_bekerja) - np.log(6.0))
        + RISK_DEPENDANT * (num_of_dependent - 1)
        + RISK_TENOR_MONTH * (tenor - 36)
        + RISK_BY_JOB[pekerjaan_code]
        + RISK_BY_HOUSING[housing_code]
    )


def true_npl_probability(applicants, risk: RiskSetting = STANDARD_RISK) -> np.ndarray:
    """P(NPL | attributes) for applicants given as the export's columns, e.g. one parsed row per app,
    under the risk setting ``risk``.

    ``applicants`` maps ``monthly_income``, ``otr``, ``dp``, ``tenor``, ``num_of_dependent``,
    ``lama_bekerja`` (numbers) and ``pekerjaan``, ``housing_type`` (the category words) to equal-length
    columns (a DataFrame will do). This is exactly the ``true_npl_probability`` of the truth file
    before its rounding to six decimals: the generator computes it with this function.
    """
    codes = {}
    for column, categories in (("pekerjaan", PEKERJAAN), ("housing_type", HOUSING_TYPES)):
        words = np.asarray(applicants[column], dtype=object)
        codes[column] = pd.Index(categories).get_indexer(words)
        if (codes[column] < 0).any():
            unknown = words[codes[column] < 0][0]
            raise ValueError(f"{column} {unknown!r} is not one of {', '.join(categories)}")
    income = np.asarray(applicants["monthly_income"], dtype=np.int64)
    otr = np.asarray(applicants["otr"], dtype=np.int64)
    dp = np.asarray(applicants["dp"], dtype=np.int64)
    tenor = np.asarray(applicants["tenor"], dtype=np.int64)
    logit = true_npl_logit(
        debt_service_ratio=installment_amount(otr, dp, tenor) / income,
        dp_ratio=dp / otr,
        lama_bekerja=np.asarray(applicants["lama_bekerja"], dtype=np.int64),
        num_of_dependent=np.asarray(applicants["num_of_dependent"], dtype=np.int64),
        tenor=tenor,
        pekerjaan_code=codes["pekerjaan"],
        housing_code=codes["housing_type"],
    )
    return 1 / (1 + np.exp(-(risk.scale * logit + risk.shift)))


def simulate_loan_book(
    n_applicants: int,
    seed: int,
    as_of: date,
    first_app_id: int = 1,
    risk: RiskSetting = STANDARD_RISK,
    *,
    shift: "AttributeShift | None" = None,
    book_as_of: date | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The loan book as parsed values: (installments, truth).

    ``installments`` has the columns of the export with their parsed types (dates as datetime64,
    ``paid_date`` NaT when nothing was paid, rupiah as int64); ``generate_loan_book`` is exactly
    this frame spelled as raw export strings.
    """
    installments, truths = [], []
    for block_installments, block_truth, _ in _simulate_blocks(
        n_applicants, seed, as_of, first_app_id, risk, shift=shift, book_as_of=book_as_of
    ):
        installments.append(block_installments)
        truths.append(block_truth)
    return pd.concat(installments, ignore_index=True), pd.concat(truths, ignore_index=True)


def generate_loan_book(
    n_applicants: int,
    seed: int,
    as_of: date,
    first_app_id: int = 1,
    risk: RiskSetting = STANDARD_RISK,
    *,
    shift: "AttributeShift | None" = None,
    book_as_of: date | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(loans, truth): installments as raw export strings, and each application's true outcome.

    ``loans`` has exactly ``LOAN_COLUMNS``, every value a string as exports spell it; ``truth`` has
    ``app_id``, ``true_npl_probability`` and ``true_npl`` (0/1), for evaluation only.
    """
    loans, truths = [], []
    for installments, truth, spelling_rng in _simulate_blocks(
        n_applicants, seed, as_of, first_app_id, risk, shift=shift, book_as_of=book_as_of
    ):
        loans.append(render_raw_export(installments, spelling_rng))
        truths.append(truth)
    return pd.concat(loans, ignore_index=True), pd.concat(truths, ignore_index=True)


def write_loan_book(
    out_path: str | Path,
    truth_path: str | Path,
    n_applicants: int,
    seed: int,
    as_of: date,
    first_app_id: int = 1,
    risk: RiskSetting = STANDARD_RISK,
    *,
    shift: "AttributeShift | None" = None,
    book_as_of: date | None = None,
) -> LoanBookSummary:
    """Write ``generate_loan_book``'s two frames as CSV files, block by block; return what was written.

    The files hold exactly what ``generate_loan_book`` returns (``true_npl_probability`` with six
    decimals), so the same arguments always give byte-identical files.
    """
    validate_generator_arguments(n_applicants, seed, as_of, first_app_id)
    validate_book_as_of(book_as_of, as_of)
    installments_written = npl_applicants = 0
    with (
        open(out_path, "w", newline="", encoding="utf-8") as loans_file,
        open(truth_path, "w", newline="", encoding="utf-8") as truth_file,
    ):
        loans_writer = csv.writer(loans_file, lineterminator="\n")
        truth_writer = csv.writer(truth_file, lineterminator="\n")
        loans_writer.writerow(LOAN_COLUMNS)
        truth_writer.writerow(TRUTH_COLUMNS)
        for installments, truth, spelling_rng in _simulate_blocks(
            n_applicants, seed, as_of, first_app_id, risk, shift=shift, book_as_of=book_as_of
        ):
            raw = render_raw_export(installments, spelling_rng)
            loans_writer.writerows(zip(*(raw[column].to_numpy() for column in LOAN_COLUMNS), strict=True))
            truth_writer.writerows(
                zip(
                    truth["app_id"].tolist(),
                    [f"{p:.6f}" for p in truth["true_npl_probability"].tolist()],
                    truth["true_npl"].tolist(),
                    strict=True,
                )
            )
            installments_written += len(raw)
            npl_applicants += int(truth["true_npl"].sum())
    return LoanBookSummary(applicants=n_applicants, installments=installments_written, npl_applicants=npl_applicants)


# ---------------------------------------------------------------------------------------------
# Later books for monitoring (see docs/dataset-generator.md, "Later books"): applicants whose
# attributes are shifted in known ways, and later payment histories of an earlier book.
# ---------------------------------------------------------------------------------------------
SHIFT_ALIASES = {"income": "monthly_income"}
# Amounts and counts move by a relative change: monthly_income=-0.2 lowers every income by 20 %.
SHIFTABLE_NUMBERS = ("monthly_income", "otr", "dp", "lama_bekerja", "num_of_dependent")
# Categories move by a share of the population: pekerjaan=Buruh:+0.1 makes 10 % more applicants Buruh.
SHIFTABLE_CATEGORIES = {
    "pekerjaan": PEKERJAAN,
    "housing_type": HOUSING_TYPES,
    "status_pernikahan": STATUS_PERNIKAHAN,
}


@dataclass(frozen=True)
class AttributeShift:
    """Known changes to the applicant population: relative changes of numbers, moved category shares."""

    numbers: tuple[tuple[str, float], ...] = ()
    categories: tuple[tuple[str, str, float], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.numbers or self.categories)

    @property
    def attributes(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.numbers) + tuple(name for name, _, _ in self.categories)


def parse_shift(text: str) -> AttributeShift:
    """``"income=-0.2,otr=+0.3,pekerjaan=Buruh:+0.1"`` → an :class:`AttributeShift`; ``ValueError`` naming
    the part that cannot be used."""
    numbers, categories, seen = [], [], set()
    for part in (piece.strip() for piece in (text or "").split(",")):
        if not part:
            continue
        name, equals, change = part.partition("=")
        name = SHIFT_ALIASES.get(name.strip(), name.strip())
        if not equals:
            raise ValueError(f"shift {part!r} is not ATTRIBUTE=CHANGE, e.g. income=-0.2 or pekerjaan=Buruh:+0.1")
        if name in seen:
            raise ValueError(f"shift names {name} twice")
        seen.add(name)
        if name in SHIFTABLE_NUMBERS:
            value = _shift_number(part, change)
            if value <= -1:
                raise ValueError(f"shift {part!r}: a relative change must be above -1 (-1 would make it zero)")
            numbers.append((name, value))
        elif name in SHIFTABLE_CATEGORIES:
            category, colon, share = change.rpartition(":")
            category = category.strip()
            if not colon or category not in SHIFTABLE_CATEGORIES[name]:
                raise ValueError(
                    f"shift {part!r}: expected {name}=CATEGORY:SHARE with CATEGORY one of "
                    f"{', '.join(SHIFTABLE_CATEGORIES[name])}"
                )
            value = _shift_number(part, share)
            if not -1 < value < 1:
                raise ValueError(f"shift {part!r}: the share must be between -1 and 1")
            categories.append((name, category, value))
        else:
            known = ", ".join((*SHIFT_ALIASES, *SHIFTABLE_NUMBERS, *SHIFTABLE_CATEGORIES))
            raise ValueError(f"shift {part!r}: cannot shift {name!r}; shiftable attributes: {known}")
    return AttributeShift(numbers=tuple(numbers), categories=tuple(categories))


def _shift_number(part: str, text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ValueError(f"shift {part!r}: {text.strip()!r} is not a number") from None
    if not np.isfinite(value):
        raise ValueError(f"shift {part!r}: {text.strip()!r} is not a finite number")
    return value


def shift_applicants(
    applicants: dict[str, np.ndarray],
    shift: AttributeShift,
    rng: np.random.Generator,
    risk: RiskSetting = STANDARD_RISK,
) -> dict:
    """Drawn applicants with ``shift`` applied; their installment, true probability and outcome follow.

    Numbers are multiplied by ``1 + change`` (amounts rounded as the generator rounds them, counts to
    whole numbers within their limits; a lower otr lowers a down payment above DP_MAX_RATIO of it).
    A category gains ``share`` of the population taken at random from the other categories (or, for
    a negative share, gives it to them in proportion to their shares). Attributes not named are left
    exactly as drawn. The truth follows the book's ``risk`` setting.
    """
    shifted = dict(applicants)
    n = len(shifted["tenor"])
    for name, change in shift.numbers:
        factor = 1.0 + change
        if name == "monthly_income":
            shifted[name] = np.maximum(np.round(shifted[name] * factor), 1).astype(np.int64)
        elif name in ("otr", "dp"):
            values = np.floor(shifted[name] * factor / OTR_ROUNDING) * OTR_ROUNDING
            shifted[name] = np.maximum(values, OTR_ROUNDING if name == "otr" else 0).astype(np.int64)
        else:
            limit = LAMA_BEKERJA_MAX if name == "lama_bekerja" else DEPENDANTS_MAX
            shifted[name] = np.clip(np.round(shifted[name] * factor), 0, limit).astype(np.int64)
    max_dp = (np.floor(shifted["otr"] * DP_MAX_RATIO / OTR_ROUNDING) * OTR_ROUNDING).astype(np.int64)
    if any(name in ("otr", "dp") for name, _ in shift.numbers):
        shifted["dp"] = np.minimum(shifted["dp"], np.maximum(max_dp, 0))
    for name, category, share in shift.categories:
        codes = shifted[name].copy()
        target = SHIFTABLE_CATEGORIES[name].index(category)
        current = float(np.mean(codes == target)) if n else 0.0
        if share > 0:
            move = (codes != target) & (rng.random(n) < min(1.0, share / max(1.0 - current, 1e-12)))
            codes[move] = target
        else:
            leave = (codes == target) & (rng.random(n) < min(1.0, -share / max(current, 1e-12)))
            others = np.array([code for code in range(len(SHIFTABLE_CATEGORIES[name])) if code != target])
            weights = np.array([np.sum(codes == code) for code in others], dtype=np.float64) + 1.0
            codes[leave] = rng.choice(others, size=int(leave.sum()), p=weights / weights.sum())
        shifted[name] = codes
    shifted["installment"] = installment_amount(shifted["otr"], shifted["dp"], shifted["tenor"])
    shifted["true_npl_probability"] = true_npl_probability(
        {
            **{name: shifted[name] for name in ("monthly_income", "otr", "dp", "tenor")},
            "num_of_dependent": shifted["num_of_dependent"],
            "lama_bekerja": shifted["lama_bekerja"],
            "pekerjaan": np.array(PEKERJAAN, dtype=object)[shifted["pekerjaan"]],
            "housing_type": np.array(HOUSING_TYPES, dtype=object)[shifted["housing_type"]],
        },
        risk,
    )
    shifted["true_npl"] = rng.random(n) < shifted["true_npl_probability"]
    return shifted


def validate_book_as_of(book_as_of: date | None, as_of: date) -> None:
    """``book_as_of`` (the as-of date of the earlier book being looked at again) may not follow ``as_of``."""
    if book_as_of is None:
        return
    if not isinstance(book_as_of, date):
        raise ValueError(f"the book's as-of date must be a date, got {book_as_of!r}")
    if book_as_of > as_of:
        raise ValueError(f"the book's as-of date {book_as_of} is after the as-of date {as_of}: histories cannot shrink")


def _months_between(earlier: date | None, later: date) -> int:
    if earlier is None:
        return 0
    return (later.year - earlier.year) * 12 + later.month - earlier.month


# ---------------------------------------------------------------------------------------------
# Simulation
# ---------------------------------------------------------------------------------------------
def _simulate_blocks(
    n_applicants: int,
    seed: int,
    as_of: date,
    first_app_id: int,
    risk: RiskSetting = STANDARD_RISK,
    *,
    shift: "AttributeShift | None" = None,
    book_as_of: date | None = None,
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame, np.random.Generator]]:
    """Per block: (installments, truth, the random stream for the block's raw spellings)."""
    validate_generator_arguments(n_applicants, seed, as_of, first_app_id)
    validate_book_as_of(book_as_of, as_of)
    for block_number, start in enumerate(range(0, n_applicants, BLOCK_APPLICANTS)):
        size = min(BLOCK_APPLICANTS, n_applicants - start)
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), block_number, 0]))
        spelling_rng = np.random.default_rng(np.random.SeedSequence([int(seed), block_number, 1]))
        installments, truth = _simulate_block(
            rng, size, as_of, int(first_app_id) + start, risk, shift=shift, book_as_of=book_as_of
        )
        yield installments, truth, spelling_rng


def _simulate_block(
    rng: np.random.Generator,
    n: int,
    as_of: date,
    first_app_id: int,
    risk: RiskSetting,
    *,
    shift: "AttributeShift | None" = None,
    book_as_of: date | None = None,
):
    applicants = _draw_applicants(rng, n, risk)
    if shift:
        applicants = shift_applicants(applicants, shift, rng, risk)
    applicants["app_id"] = np.arange(first_app_id, first_app_id + n, dtype=np.int64)
    installments = _draw_histories(rng, applicants, as_of, book_as_of=book_as_of)

    truth = pd.DataFrame(
        {
            "app_id": applicants["app_id"],
            "true_npl_probability": np.round(applicants["true_npl_probability"], 6),
            "true_npl": applicants["true_npl"].astype(np.int64),
        }
    )
    labels = label_installments(installments, as_of).set_index("app_id")["is_npl"]
    mismatched = truth["app_id"][labels.reindex(truth["app_id"]).to_numpy() != truth["true_npl"].astype(bool)]
    if len(mismatched):
        raise LoanBookInvariantError(
            f"{len(mismatched)} generated applications label differently from their drawn outcome, "
            f"e.g. app_id {mismatched.iloc[0]} (as of {as_of})"
        )
    return installments, truth


def generate_applicants(n_applicants: int, seed: int) -> dict[str, np.ndarray]:
    """The nine attributes of ``n_applicants`` applicants as columns, categories by name: drawn as the
    loan books draw them (so valid and realistic), without payment histories. For scoring
    benchmarks and tests that need many varied applicants."""
    drawn = _draw_applicants(np.random.default_rng(seed), n_applicants)
    for attribute, names in (
        ("pekerjaan", PEKERJAAN),
        ("status_pernikahan", STATUS_PERNIKAHAN),
        ("housing_type", HOUSING_TYPES),
    ):
        drawn[attribute] = np.array(names, dtype=object)[drawn[attribute]]
    return {attribute: drawn[attribute] for attribute in ATTRIBUTE_FIELDS}


def _draw_applicants(rng: np.random.Generator, n: int, risk: RiskSetting = STANDARD_RISK) -> dict[str, np.ndarray]:
    job = rng.choice(len(PEKERJAAN), size=n, p=PEKERJAAN_SHARE)
    income = np.exp(np.log(INCOME_MEDIAN_BY_JOB[job]) + INCOME_SIGMA_BY_JOB[job] * rng.standard_normal(n))
    income = np.clip(np.round(income), *INCOME_RANGE).astype(np.int64)

    nikah = rng.random(n) < NIKAH_SHARE
    marital = np.where(nikah, 0, 1)
    dependants = np.where(nikah, rng.poisson(1.8, n), rng.poisson(0.3, n))
    dependants = np.minimum(dependants, DEPENDANTS_MAX).astype(np.int64)
    housing_uniform = rng.random(n)
    housing = np.where(
        nikah,
        np.searchsorted(np.cumsum(HOUSING_SHARE_NIKAH), housing_uniform, side="right"),
        np.searchsorted(np.cumsum(HOUSING_SHARE_BELUM_NIKAH), housing_uniform, side="right"),
    )
    housing = np.minimum(housing, len(HOUSING_TYPES) - 1)
    lama = np.floor(rng.gamma(1.8, LAMA_BEKERJA_MEAN_BY_JOB[job] / 1.8))
    lama = np.minimum(lama, LAMA_BEKERJA_MAX).astype(np.int64)

    otr = np.exp(np.log(income * OTR_INCOME_MULTIPLE) + OTR_SIGMA * rng.standard_normal(n))
    otr = np.clip(np.round(otr / OTR_ROUNDING) * OTR_ROUNDING, *OTR_RANGE).astype(np.int64)
    tenor = rng.choice(TENORS, size=n, p=TENOR_SHARE).astype(np.int64)
    repay_factor = _repay_factor(tenor)

    dp_ratio = np.where(rng.random(n) < ZERO_DP_SHARE, 0.0, np.clip(rng.beta(3, 9, n), 0, DP_MAX_RATIO))
    # Lender policy: when the installment would exceed MAX_DEBT_SERVICE_RATIO of income, the down
    # payment is raised (up to DP_MAX_RATIO) to bring it to 70–100 % of that limit.
    target_ratio = MAX_DEBT_SERVICE_RATIO * rng.uniform(0.7, 1.0, n)
    over_limit = (1 - dp_ratio) * otr * repay_factor > MAX_DEBT_SERVICE_RATIO * income
    affordable_dp_ratio = np.minimum(1 - target_ratio * income / repay_factor / otr, DP_MAX_RATIO)
    dp_ratio = np.where(over_limit, np.maximum(dp_ratio, affordable_dp_ratio), dp_ratio)
    dp = (np.floor(dp_ratio * otr / OTR_ROUNDING) * OTR_ROUNDING).astype(np.int64)

    # The true probability from the attributes alone; the outcome is its Bernoulli draw.
    probability = true_npl_probability(
        {
            "monthly_income": income,
            "otr": otr,
            "dp": dp,
            "tenor": tenor,
            "num_of_dependent": dependants,
            "lama_bekerja": lama,
            "pekerjaan": np.array(PEKERJAAN, dtype=object)[job],
            "housing_type": np.array(HOUSING_TYPES, dtype=object)[housing],
        },
        risk,
    )
    true_npl = rng.random(n) < probability
    return {
        "pekerjaan": job,
        "monthly_income": income,
        "status_pernikahan": marital,
        "num_of_dependent": dependants,
        "housing_type": housing,
        "lama_bekerja": lama,
        "otr": otr,
        "dp": dp,
        "tenor": tenor,
        "installment": installment_amount(otr, dp, tenor),
        "true_npl_probability": probability,
        "true_npl": true_npl,
    }


def _draw_histories(
    rng: np.random.Generator, applicants: dict[str, np.ndarray], as_of: date, *, book_as_of: date | None = None
) -> pd.DataFrame:
    n = len(applicants["app_id"])
    as_of_day = np.datetime64(as_of, "D")
    as_of_month = (as_of.year - 1970) * 12 + as_of.month - 1

    months_before = rng.integers(DISBURSED_MONTHS_BEFORE[0], DISBURSED_MONTHS_BEFORE[1] + 1, n)
    # A later look at an earlier book: the loans keep that book's dates, the histories run on to as_of.
    months_before = months_before + _months_between(book_as_of, as_of)
    day_of_month = rng.integers(1, 29, n)
    # Installment k is due k months after disbursement, same day of month; those due by as_of exist.
    due_by_as_of = months_before - 1 + (day_of_month <= as_of.day)
    count = np.minimum(applicants["tenor"], due_by_as_of)

    owner = np.repeat(np.arange(n), count)
    rows = len(owner)
    starts = np.cumsum(count) - count
    number = np.arange(rows) - starts[owner] + 1  # installment number, 1-based
    due_month = (as_of_month - months_before[owner] + number).astype("datetime64[M]")
    due = due_month.astype("datetime64[D]") + (day_of_month[owner] - 1)
    days_due_before_as_of = (as_of_day - due).astype(np.int64)
    amount = applicants["installment"][owner]

    # Performing behaviour for every installment: on time (some early), 1–30 or 31–90 days late.
    late_share = LATE_SHARE_BASE + LATE_SHARE_PER_RISK * applicants["true_npl_probability"]
    late = rng.random(rows) < late_share[owner]
    seriously_late = rng.random(rows) < SERIOUSLY_LATE_SHARE
    mildly_late_days = np.minimum(1 + np.floor(rng.exponential(6.0, rows)), 30)
    days_late = np.where(seriously_late, rng.integers(31, 91, rows), mildly_late_days)
    days_early = np.where(rng.random(rows) < EARLY_SHARE, rng.integers(1, 6, rows), 0)
    offset = np.where(late, days_late, -days_early).astype(np.int64)
    paid = due + offset
    paid_amount = amount.copy()
    owing = offset > days_due_before_as_of  # would be paid after as_of: still owed today
    partial = owing & (rng.random(rows) < ARREARS_PARTIAL_SHARE)
    partial_fraction = rng.uniform(0.2, 0.8, rows)
    partial_amount = (np.floor(amount * partial_fraction / INSTALLMENT_ROUNDING) * INSTALLMENT_ROUNDING).astype(
        np.int64
    )
    days_into_arrears = np.floor(rng.random(rows) * (np.maximum(days_due_before_as_of, 0) + 1)).astype(np.int64)
    paid = np.where(partial, due + days_into_arrears, paid)
    paid_amount = np.where(partial, partial_amount, paid_amount)
    paid = np.where(owing & ~partial, np.datetime64("NaT"), paid)
    paid_amount = np.where(owing & ~partial, 0, paid_amount)

    # NPL applicants: from installment `first_missed` (due 91+ days before as_of) either stop paying,
    # or pay it and those due until then 91–240 days late in one catch-up payment and carry on.
    npl = applicants["true_npl"]
    eligible = np.bincount(owner, weights=days_due_before_as_of >= NPL_DPD, minlength=n).astype(np.int64)
    first_missed = 1 + np.floor(rng.random(n) * np.maximum(eligible, 1)).astype(np.int64)
    cured = npl & (rng.random(n) < NPL_CURED_SHARE)
    stopped = npl & ~cured
    due_first_missed = due[starts + first_missed - 1] if rows else np.array([], dtype="datetime64[D]")
    room = (as_of_day - due_first_missed).astype(np.int64)
    catch_up_days = np.floor(NPL_DPD + rng.random(n) * (np.clip(room, NPL_DPD, 240) - NPL_DPD + 1)).astype(np.int64)
    catch_up = due_first_missed + catch_up_days
    stop_partial = stopped & (rng.random(n) < DEFAULT_PARTIAL_SHARE)
    stop_partial_days = rng.integers(0, 61, n)

    from_missed = number >= first_missed[owner]
    unpaid = stopped[owner] & from_missed
    first_unpaid_partial = unpaid & (number == first_missed[owner]) & stop_partial[owner]
    caught_up = cured[owner] & from_missed & (due <= catch_up[owner])
    paid = np.where(caught_up, catch_up[owner], paid)
    paid_amount = np.where(caught_up, amount, paid_amount)
    paid = np.where(unpaid, np.datetime64("NaT"), paid)
    paid_amount = np.where(unpaid, 0, paid_amount)
    paid = np.where(first_unpaid_partial, due + stop_partial_days[owner], paid)
    paid_amount = np.where(first_unpaid_partial, partial_amount, paid_amount)

    # Order by application and due date, then move a few rows elsewhere (exports are not sorted).
    position = np.arange(rows, dtype=np.float64)
    moved = rng.random(rows) < MOVED_ROW_SHARE
    position[moved] = rng.random(int(moved.sum())) * rows
    order = np.argsort(position, kind="stable")

    def per_row(values):
        return values[owner][order]

    return pd.DataFrame(
        {
            "app_id": per_row(applicants["app_id"]),
            "due_date": due[order],
            "paid_date": paid.astype("datetime64[D]")[order],
            "due_amount": (amount - paid_amount)[order],
            "paid_amount": paid_amount[order],
            "monthly_income": per_row(applicants["monthly_income"]),
            "housing_type": pd.Categorical.from_codes(per_row(applicants["housing_type"]), HOUSING_TYPES),
            "num_of_dependent": per_row(applicants["num_of_dependent"]),
            "lama_bekerja": per_row(applicants["lama_bekerja"]),
            "otr": per_row(applicants["otr"]),
            "status_pernikahan": pd.Categorical.from_codes(per_row(applicants["status_pernikahan"]), STATUS_PERNIKAHAN),
            "pekerjaan": pd.Categorical.from_codes(per_row(applicants["pekerjaan"]), PEKERJAAN),
            "tenor": per_row(applicants["tenor"]),
            "dp": per_row(applicants["dp"]),
        }
    )


# ---------------------------------------------------------------------------------------------
# Raw export spelling
# ---------------------------------------------------------------------------------------------
def render_raw_export(installments: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Spell parsed installments as an export would: one rupiah spelling per row, ``3 orang`` or ``3``.

    Every column holds Python strings (object dtype); ``paid_date`` is ``""`` when nothing was paid.
    """
    rows = len(installments)
    spelling = rng.choice(len(RUPIAH_SPELLING_SHARE), size=rows, p=RUPIAH_SPELLING_SHARE)
    with_unit = (rng.random(rows) < UNIT_SUFFIX_SHARE).astype(np.int64)
    plain = np.zeros(rows, dtype=np.int64)
    raw = {
        "app_id": _spell_distinct(installments["app_id"], plain, [str]),
        "due_date": _iso_dates(installments["due_date"]),
        "paid_date": _iso_dates(installments["paid_date"]),
        "num_of_dependent": _spell_distinct(installments["num_of_dependent"], with_unit, [str, "{} orang".format]),
        "lama_bekerja": _spell_distinct(installments["lama_bekerja"], with_unit, [str, "{} tahun".format]),
        "tenor": _spell_distinct(installments["tenor"], plain, [str]),
    }
    for column in RUPIAH_COLUMNS:
        raw[column] = spell_rupiah(installments[column], spelling)
    for column in ("housing_type", "status_pernikahan", "pekerjaan"):
        categories = installments[column].cat.categories.to_numpy(dtype=object)
        raw[column] = categories[installments[column].cat.codes.to_numpy()]
    return pd.DataFrame(raw, columns=LOAN_COLUMNS, dtype=object)


def _rupiah_plain(value: int) -> str:
    return f"Rp{value}.0"


def _rupiah_dotted_thousands(value: int) -> str:
    return "Rp " + f"{value:,}".replace(",", ".")


def _rupiah_indonesian_decimal(value: int) -> str:
    return "Rp" + f"{value:,}".replace(",", ".") + ",00"


RUPIAH_SPELLINGS = [_rupiah_plain, _rupiah_dotted_thousands, _rupiah_indonesian_decimal]


def spell_rupiah(values, spelling: np.ndarray) -> np.ndarray:
    """Rupiah strings for integer ``values``: spelling 0 ``Rp9295094.0``, 1 ``Rp 9.295.094``, 2 ``Rp9.295.094,00``."""
    return _spell_distinct(values, spelling, RUPIAH_SPELLINGS)


def _spell_distinct(values, choice: np.ndarray, spellers) -> np.ndarray:
    """``spellers[choice[i]](values[i])`` for every i, calling each speller once per distinct value.

    A loan book repeats few distinct values (amounts, ids, counts) many times, so this formats a
    few thousand values instead of millions.
    """
    distinct, position = np.unique(np.asarray(values, dtype=np.int64), return_inverse=True)
    table = np.empty((len(spellers), len(distinct)), dtype=object)
    for row, speller in enumerate(spellers):
        table[row] = [speller(v) for v in distinct.tolist()]
    return table[np.asarray(choice), position.ravel()]


def _iso_dates(values: pd.Series) -> np.ndarray:
    """``YYYY-MM-DD`` strings, ``""`` for NaT."""
    days = values.to_numpy().astype("datetime64[D]")
    distinct, position = np.unique(days, return_inverse=True)
    text = np.datetime_as_string(distinct, unit="D").astype(object)
    text[np.isnat(distinct)] = ""
    return text[position.ravel()]
