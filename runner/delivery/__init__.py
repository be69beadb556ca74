"""The delivery room: claim, send, record; the retry policy; the Pull check.

Everything that decides whether a request may go on the wire goes through here.
"""

from runner.delivery.callbacks import CallbackUrls
from runner.delivery.deliver import Delivery, Sender, claim_request, deliver
from runner.delivery.pullcheck import Finding
from runner.delivery.pullcheck import check as pull_check
from runner.delivery.retry import backoff, retry_deadline

__all__ = ["CallbackUrls", "Delivery", "Finding", "Sender", "backoff", "claim_request", "deliver",
           "pull_check", "retry_deadline"]
