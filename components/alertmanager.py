"""Alertmanager's routing as code: who hears about which alert (docs/observability.md).

Pure functions: `alertmanager_config(...)` returns the configuration Alertmanager reads,
as a dict; nothing here needs Pulumi, so `amtool check-config` and
`amtool config routes test` check exactly what ships.

- Alerts are grouped by `service` and `alertname`: one notification per burning objective
  of a service, not one per pod or window.
- `severity="page"` goes to the paging receiver, `severity="ticket"` to the ticket
  receiver (and to Slack too when a Slack webhook is configured), the always-firing
  `Watchdog` (`severity="heartbeat"`) to the dead-man receiver every minute; anything
  else falls to the ticket receiver, so no alert is dropped.
- While a page fires for a service, that service's tickets are inhibited.

Receivers' URLs are never in the configuration: each webhook reads its URL from a file
(`url_file`, `api_url_file`) that Alertmanager mounts from a Kubernetes Secret
(`secret_file`). A receiver whose URL is not configured keeps its name and routes but has
no integration: its alerts are visible in Alertmanager and notify nobody.
"""

from __future__ import annotations

from typing import Any

#: Where the Alertmanager of kube-prometheus-stack mounts a Secret listed in
#: `alertmanagerSpec.secrets`: /etc/alertmanager/secrets/<secret>/<key>.
SECRETS_DIR = "/etc/alertmanager/secrets"
#: Keys of the receivers' Secret, one URL each.
PAGE_KEY = "page-webhook-url"
TICKET_KEY = "ticket-webhook-url"
HEARTBEAT_KEY = "heartbeat-webhook-url"
SLACK_KEY = "slack-webhook-url"

PAGE, TICKET, HEARTBEAT, SLACK = "page", "ticket", "heartbeat", "ticket-slack"


def secret_file(secret: str, key: str) -> str:
    """The path a key of a mounted Secret has in the Alertmanager container."""
    return f"{SECRETS_DIR}/{secret}/{key}"


#: The Secret keys of the receivers every configuration names.
ALL_KEYS = frozenset({PAGE_KEY, TICKET_KEY, HEARTBEAT_KEY})


def alertmanager_config(
    *, secret: str, slack: bool = False, configured: frozenset[str] | set[str] = ALL_KEYS
) -> dict[str, Any]:
    """The Alertmanager configuration, reading every URL from the Secret `secret` (its
    keys: `PAGE_KEY`, `TICKET_KEY`, `HEARTBEAT_KEY`, and `SLACK_KEY` when `slack`).
    `configured` names the keys the Secret holds (default all three): a receiver without
    its key gets no webhook.

    Timing: a new group waits 30 s for its siblings; a page repeats every 4 hours and a
    ticket every 24 hours while it fires; the Watchdog repeats every minute so the
    dead-man's switch at the other end notices within minutes when it stops."""

    def webhook(name: str, key: str, *, send_resolved: bool = True) -> dict[str, Any]:
        if key not in configured:
            return {"name": name}
        return {
            "name": name,
            "webhook_configs": [
                {"url_file": secret_file(secret, key), "send_resolved": send_resolved}
            ],
        }

    receivers = [
        webhook(PAGE, PAGE_KEY),
        webhook(TICKET, TICKET_KEY),
        webhook(HEARTBEAT, HEARTBEAT_KEY, send_resolved=False),
    ]
    ticket_routes: list[dict[str, Any]] = [
        {"receiver": TICKET, "matchers": ['severity="ticket"'], "repeat_interval": "24h"}
    ]
    if slack:
        receivers[1]["slack_configs"] = [
            {"api_url_file": secret_file(secret, SLACK_KEY), "send_resolved": True}
        ]
    return {
        "route": {
            "receiver": TICKET,
            "group_by": ["service", "alertname"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "12h",
            "routes": [
                {
                    "receiver": HEARTBEAT,
                    "matchers": ['alertname="Watchdog"'],
                    "group_wait": "0s",
                    "group_interval": "1m",
                    "repeat_interval": "1m",
                },
                {"receiver": PAGE, "matchers": ['severity="page"'], "repeat_interval": "4h"},
                *ticket_routes,
            ],
        },
        "inhibit_rules": [
            {
                "source_matchers": ['severity="page"'],
                "target_matchers": ['severity="ticket"'],
                "equal": ["service"],
            }
        ],
        "receivers": receivers,
    }
