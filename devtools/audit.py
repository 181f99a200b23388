"""`make audit`: known vulnerabilities in what production runs.

- pip-audit on `requirements.lock` (the pins `make package` ships), no resolution, against
  PyPI's advisory data;
- `npm audit --omit=dev` in `web/` (the page's runtime packages), moderate and above.

A vulnerability fails the audit. An advisory service that cannot be reached, or that does not
know the packages (a mirror without advisory data), does not: the audit says so on a line
starting with `WARNING:` and goes on, so a machine without the network still runs `make test`,
and nobody mistakes a skipped audit for a clean one.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
NPM_FAILING = ("moderate", "high", "critical")
TIMEOUT = 180


@dataclass(frozen=True)
class Verdict:
    failed: bool
    lines: list[str]


def judge_pip_audit(stdout: str, stderr: str, returncode: int) -> Verdict:
    """pip-audit's `--format json` answer: vulnerabilities fail; skipped packages warn."""
    try:
        report = json.loads(stdout)
        deps = report["dependencies"]
    except (ValueError, KeyError, TypeError):
        reason = (stderr.strip().splitlines() or [f"exit code {returncode}"])[-1]
        return Verdict(False, [f"WARNING: pip-audit did not run, audit skipped: {reason}"])
    vulnerable = [d for d in deps if d.get("vulns")]
    skipped = [d for d in deps if d.get("skip_reason")]
    lines = []
    for dep in vulnerable:
        ids = ", ".join(v.get("id", "?") for v in dep["vulns"])
        lines.append(f"pip-audit: {dep['name']} {dep.get('version', '')} is vulnerable: {ids}")
    if skipped:
        lines.append(
            f"WARNING: pip-audit could not audit {len(skipped)} of {len(deps)} locked packages "
            f"(the advisory service does not know them), e.g. {skipped[0]['skip_reason']}"
        )
    audited = len(deps) - len(skipped)
    lines.append(f"pip-audit: {audited} packages audited, {len(vulnerable)} vulnerable")
    return Verdict(bool(vulnerable), lines)


def judge_npm_audit(stdout: str, returncode: int) -> Verdict:
    """`npm audit --json`: moderate and worse fail; an audit endpoint that errs warns."""
    try:
        report = json.loads(stdout)
        counts = report["metadata"]["vulnerabilities"]
    except (ValueError, KeyError, TypeError):
        try:
            reason = str(json.loads(stdout).get("message") or f"exit code {returncode}")
        except (ValueError, AttributeError):
            reason = f"exit code {returncode}"
        return Verdict(
            False, [f"WARNING: npm audit could not reach its advisories, skipped: {reason}"]
        )
    failing = {level: counts.get(level, 0) for level in NPM_FAILING if counts.get(level, 0)}
    lines = [
        f"npm audit: {name} ({info.get('severity')})"
        for name, info in sorted(report.get("vulnerabilities", {}).items())
    ]
    total = counts.get("total", sum(v for k, v in counts.items() if k != "total"))
    lines.append(f"npm audit: {total} vulnerable runtime packages, failing: {failing or 'none'}")
    return Verdict(bool(failing), lines)


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


def audit_python() -> Verdict:
    pip_audit = Path(sys.executable).with_name("pip-audit")
    command = [str(pip_audit), "-r", str(LOCK), "--no-deps", "--disable-pip"]
    try:
        done = run([*command, "--progress-spinner", "off", "--format", "json"], ROOT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Verdict(False, [f"WARNING: pip-audit did not run, audit skipped: {exc}"])
    return judge_pip_audit(done.stdout, done.stderr, done.returncode)


def audit_web() -> Verdict:
    try:
        done = run(["npm", "audit", "--omit=dev", "--json"], ROOT / "web")
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Verdict(False, [f"WARNING: npm audit did not run, skipped: {exc}"])
    return judge_npm_audit(done.stdout, done.returncode)


def main() -> int:
    failed = False
    for verdict in (audit_python(), audit_web()):
        for line in verdict.lines:
            print(line, flush=True)
        failed = failed or verdict.failed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
