"""The training store's reconciliation: nothing stays under `training/<account>/` unless the
account is opted in. Run by the scheduled sweeper after its transient sweep.

It finishes the erasures opt-outs started (a large contribution takes more than one request)
and deletes what a capture left behind when its own take-back failed (an S3 fault, or the
function died between the write and the re-check). Accounts are read strongly consistent,
and a capture re-reads the flag after writing, so an opted-in account's data is never touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from cutout.clock import Clock, utc_now
from cutout.data.accounts import AccountStore
from cutout.data.training import TrainingStore
from cutout.errors import AccountNotFound
from cutout.service.accounts import iso


@dataclass(frozen=True)
class ReconcileReport:
    """Counts of one run (never account ids or keys in logs: counts only)."""

    accounts_examined: int = 0
    deleted: int = 0
    finished: bool = True  # False when the run stopped for time; the next one carries on

    def counts(self) -> dict[str, object]:
        return {"training_accounts_examined": self.accounts_examined,
                "training_objects_deleted": self.deleted, "training_finished": self.finished}


class TrainingReconciler:
    """Deletes the training data of every account that is not opted in, page by page."""

    def __init__(self, training: TrainingStore, accounts: AccountStore,
                 clock: Clock = utc_now) -> None:
        self._training = training
        self._accounts = accounts
        self._clock = clock

    def reconcile(self, out_of_time: Callable[[], bool] = lambda: False) -> ReconcileReport:
        """One pass over the accounts present in the store; stops early once out of time."""
        examined, deleted = 0, 0
        for account_id in self._training.account_ids():
            if out_of_time():
                return ReconcileReport(examined, deleted, finished=False)
            examined += 1
            try:
                account = self._accounts.get_account(account_id)
            except AccountNotFound:
                account = None  # an account that is gone keeps nothing
            if account is not None and account.opt_in:
                continue
            # Checked before every page: an account that opts in meanwhile keeps its new data.
            step = self._training.erase_account_data(
                account_id, out_of_time=partial(self._stop_erasing, out_of_time, account_id))
            deleted += step.deleted
            if account is not None and account.erasing:
                self._accounts.record_erasure(account_id, step.deleted, step.finished,
                                              iso(self._clock()))
            if not step.finished and out_of_time():
                return ReconcileReport(examined, deleted, finished=False)
        return ReconcileReport(examined, deleted)

    def _stop_erasing(self, out_of_time: Callable[[], bool], account_id: str) -> bool:
        return out_of_time() or self._opted_in(account_id)

    def _opted_in(self, account_id: str) -> bool:
        try:
            return self._accounts.get_account(account_id).opt_in
        except AccountNotFound:
            return False
