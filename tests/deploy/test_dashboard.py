"""``deploy/grafana-dashboard.json`` graphs metrics the gateway exposes, under their names."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.deploy.servers import ROOT
from tests.metrics.test_metrics import gateway

DASHBOARD = ROOT / "deploy" / "grafana-dashboard.json"
METRIC = re.compile(r"\b((?:mercure|gateway)_[a-z_]+)\b")


def expressions(dashboard: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def test_every_metric_of_the_dashboard_is_exposed(tmp_path: Path) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    used = {name for expr in expressions(dashboard) for name in METRIC.findall(expr)}
    assert used >= {
        "mercure_subscribers_connected",
        "mercure_subscribers_total",
        "mercure_updates_total",
        "gateway_http_requests_total",
        "gateway_http_request_duration_seconds_bucket",
        "gateway_outbox_updates",
        "gateway_outbox_oldest_age_seconds",
        "gateway_transport_reconnects_total",
        "gateway_subscribers_dropped_total",
    }
    app = gateway(tmp_path, {})
    client = app.test_client()
    client.get("/books")
    exposed = {
        sample.name
        for family in text_string_to_metric_families(client.get("/metrics").get_data(as_text=True))
        for sample in family.samples
    }
    assert used <= exposed, used - exposed


def test_the_dashboard_is_well_formed() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        for target in panel.get("targets", []):
            expr = target["expr"]
            assert expr.count("(") == expr.count(")"), expr
            assert "$job" in expr, expr
    names = [variable["name"] for variable in dashboard["templating"]["list"]]
    assert names == ["datasource", "job"]
