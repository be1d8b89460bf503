"""Days past due, kolektibilitas and NPL, exactly as ``docs/data-format.md`` defines them.

One vectorised function computes the labels from a frame of installments; the import, the
labelling service, the dataset generator's self-check and training all call it, so every part of
the product uses the same numbers.

Per installment, as of ``as_of``:
- not yet due (``due_date`` after ``as_of``): DPD = 0;
- still owing (``due_amount`` > 0): DPD = max(0, as_of − due_date);
- paid (``paid_date`` present, ``due_amount`` 0): DPD = max(0, paid_date − due_date), where a
  payment received after ``as_of`` was not yet known then and counts as owing until ``as_of``;
- nothing owed and nothing paid: DPD = 0.

An application's max DPD gives its kolektibilitas (OJK's five levels); NPL is kol 3, 4 or 5.
"""

from datetime import date

import numpy as np
import pandas as pd

KOLEKTIBILITAS_NAMES = {
    1: "Lancar",
    2: "Dalam Perhatian Khusus",
    3: "Kurang Lancar",
    4: "Diragukan",
    5: "Macet",
}
# Upper bounds (inclusive) of max DPD for kol 1..4; anything above the last is kol 5.
KOLEKTIBILITAS_UPPER_DPD = (0, 90, 120, 180)
NPL_MIN_KOLEKTIBILITAS = 3

LABEL_COLUMNS = ["app_id", "max_dpd", "kolektibilitas", "is_npl"]


def kolektibilitas_for_dpd(max_dpd):
    """Kolektibilitas 1–5 for a max DPD (scalar or array)."""
    return np.searchsorted(np.asarray(KOLEKTIBILITAS_UPPER_DPD), np.asarray(max_dpd), side="left") + 1


def installment_dpd(installments: pd.DataFrame, as_of: date) -> pd.Series:
    """Days past due of every installment as of ``as_of`` (vectorised).

    ``installments`` needs ``due_date``, ``paid_date`` (NaT when unpaid) and ``due_amount``.
    """
    as_of_ts = pd.Timestamp(as_of)
    due = pd.to_datetime(installments["due_date"])
    paid = pd.to_datetime(installments["paid_date"])
    owing = installments["due_amount"].to_numpy() > 0
    paid_known = paid.notna() & (paid <= as_of_ts)
    paid_later = paid.notna() & (paid > as_of_ts)

    days_owing = (as_of_ts - due).dt.days.to_numpy()
    days_paid_late = (paid - due).dt.days.to_numpy()

    dpd = np.zeros(len(installments), dtype=np.int64)
    settled_late = ~owing & paid_known.to_numpy()
    dpd[settled_late] = days_paid_late[settled_late]
    unpaid_as_of = owing | (~owing & paid_later.to_numpy())
    dpd[unpaid_as_of] = days_owing[unpaid_as_of]
    dpd[(due > as_of_ts).to_numpy()] = 0
    return pd.Series(np.clip(dpd, 0, None), index=installments.index, name="dpd")


def label_installments(installments: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Per application: ``app_id``, ``max_dpd``, ``kolektibilitas`` and ``is_npl`` as of ``as_of``."""
    if installments.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in LABEL_COLUMNS}).astype({"is_npl": bool})
    dpd = installment_dpd(installments, as_of)
    max_dpd = dpd.groupby(installments["app_id"].to_numpy()).max()
    kol = kolektibilitas_for_dpd(max_dpd.to_numpy())
    return pd.DataFrame(
        {
            "app_id": max_dpd.index.to_numpy(),
            "max_dpd": max_dpd.to_numpy(dtype=np.int64),
            "kolektibilitas": kol.astype(np.int64),
            "is_npl": kol >= NPL_MIN_KOLEKTIBILITAS,
        }
    )
