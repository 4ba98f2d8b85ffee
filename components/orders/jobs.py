"""The names of orders' timer jobs (service.py schedules them, hooks.py registers them)."""

TIMEOUT_JOB = "orders.payment_timeout"
AUTO_COMPLETE_JOB = "orders.auto_complete"
