"""The periodic jobs of the dialogue domains, run by the worker (and ``entente jobs run``)."""

from __future__ import annotations

from dataclasses import dataclass

from service.consultations import service as consultation_service
from service.permits import service as permit_service
from service.uow import UnitOfWork


@dataclass(frozen=True)
class JobResult:
    expired_permits: int
    overdue_consultations: int


async def run_periodic(uow: UnitOfWork) -> JobResult:
    return JobResult(
        expired_permits=await permit_service.expire_permits(uow),
        overdue_consultations=await consultation_service.flag_overdue(uow),
    )
