"""Background jobs (后台任务): the transactional outbox, its relay to dramatiq, the actors.

See docs/jobs.md. Brokers, the relay and the worker runtime are imported from their modules
(``citylead.jobs.broker``, ``.relay``, ``.worker``) by the processes that run them.
"""

from citylead.jobs.outbox import OutboxMessage, enqueue
from citylead.jobs.registry import Job, JobContext, Registry, job

__all__ = ["Job", "JobContext", "OutboxMessage", "Registry", "enqueue", "job"]
