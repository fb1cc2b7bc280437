"""The service's Prometheus metrics, defined once here (the lowest package that records any of them).

Every process records into prometheus-client's default registry; under gunicorn, gunicorn.conf.py sets
PROMETHEUS_MULTIPROC_DIR so the web workers' figures are added up at /metrics. Labels carry only small
fixed vocabularies (agent, reason codes, statuses): never a user id, a message or a secret.
"""
from __future__ import annotations

from prometheus_client import Counter, Histogram

TURNS = Counter("salesbot_turns", "Customer turns answered, by agent and why the LLM did not answer",
                ["agent", "fallback_reason"])
SLIP_OUTCOMES = Counter("salesbot_slip_outcomes", "Slip checks decided, by outcome and reason code",
                        ["outcome", "reason"])
ACK_SECONDS = Histogram("salesbot_webhook_ack_seconds", "Time from a webhook request to its acknowledgement",
                        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0))
LINE_API_ERRORS = Counter("salesbot_line_api_errors", "Failed LINE Messaging API calls, by operation and status",
                          ["operation", "status"])
LLM_REQUEST_SECONDS = Histogram("salesbot_llm_request_seconds", "Chat completion requests to the model server",
                                buckets=(0.25, 0.5, 1, 2, 4, 8, 15, 30, 60))
LLM_TOKENS = Counter("salesbot_llm_tokens", "Tokens the model server reported, by kind", ["kind"])
