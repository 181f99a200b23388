"""`make audit` judges pip-audit's and npm audit's answers: a vulnerability fails, an advisory
service that is out of reach or does not know the packages warns visibly and does not fail."""

from __future__ import annotations

import json

from devtools.audit import judge_npm_audit, judge_pip_audit


def test_pip_audit_vulnerabilities_fail() -> None:
    report = {
        "dependencies": [
            {"name": "pyjwt", "version": "2.10.0", "vulns": [{"id": "GHSA-75c5-xw7c-p5pm"}]},
            {"name": "httpx", "version": "0.28.1", "vulns": []},
        ],
        "fixes": [],
    }
    verdict = judge_pip_audit(json.dumps(report), "", 1)
    assert verdict.failed
    assert any("pyjwt 2.10.0 is vulnerable: GHSA-75c5-xw7c-p5pm" in ln for ln in verdict.lines)
    assert not any(ln.startswith("WARNING") for ln in verdict.lines)


def test_pip_audit_clean_passes() -> None:
    report = {"dependencies": [{"name": "httpx", "version": "0.28.1", "vulns": []}]}
    verdict = judge_pip_audit(json.dumps(report), "", 0)
    assert not verdict.failed and verdict.lines == ["pip-audit: 1 packages audited, 0 vulnerable"]


def test_pip_audit_unknown_packages_warn() -> None:
    report = {"dependencies": [{"name": "x", "skip_reason": "Dependency not found on PyPI"}]}
    verdict = judge_pip_audit(json.dumps(report), "", 0)
    assert not verdict.failed
    assert verdict.lines[0].startswith("WARNING: pip-audit could not audit 1 of 1")


def test_pip_audit_without_network_warns() -> None:
    verdict = judge_pip_audit("", "ConnectionError: pypi.org unreachable\n", 1)
    assert not verdict.failed
    assert verdict.lines == [
        "WARNING: pip-audit did not run, audit skipped: ConnectionError: pypi.org unreachable"
    ]


def npm_report(**counts: int) -> str:
    levels = {"info": 0, "low": 0, "moderate": 0, "high": 0, "critical": 0, **counts}
    vulns = {f"pkg-{level}": {"severity": level} for level, n in counts.items() if n}
    return json.dumps(
        {
            "auditReportVersion": 2,
            "vulnerabilities": vulns,
            "metadata": {"vulnerabilities": {**levels, "total": sum(levels.values())}},
        }
    )


def test_npm_audit_moderate_and_worse_fail() -> None:
    assert judge_npm_audit(npm_report(high=1), 1).failed
    assert judge_npm_audit(npm_report(moderate=2), 1).failed
    low = judge_npm_audit(npm_report(low=1), 1)
    assert not low.failed and "npm audit: pkg-low (low)" in low.lines
    assert not judge_npm_audit(npm_report(), 0).failed


def test_npm_audit_endpoint_errors_warn() -> None:
    answer = json.dumps({"message": "405 Method Not Allowed - POST .../advisories/bulk"})
    verdict = judge_npm_audit(answer, 1)
    assert not verdict.failed and verdict.lines[0].startswith("WARNING: npm audit")
    assert "405" in verdict.lines[0]
    assert judge_npm_audit("", 1).lines[0].startswith("WARNING: npm audit")
