"""Background jobs (后台任务): the transactional outbox, its relay to dramatiq, the actors."""
