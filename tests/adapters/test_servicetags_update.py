"""Service tags kept current without credentials: ``pullpath service-tags update`` against a
loopback HTTPS stand-in for the Microsoft Download Center (download pages linking the weekly
files, which are small slices of the real files: tests/data/servicetags/weekly), the per-user
cache, which cached file an audit uses for its logs' cloud, the tag-file cloud mismatch, the
"tag file older than the event" reason, and cache entries that are not regular files.

The real HTTP client (azure-core's pipeline), the real files and the real CLI are used; only
the server is a stand-in (tests reach no network but loopback).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from pullpath.adapters.azure.retry import ClientSettings
from pullpath.adapters.azure.servicetags_download import DownloadError, find_weekly_file
from pullpath.adapters.servicetags_files import (
    cached_discovery_tags,
    cached_weekly_tags,
    choose_tags_file,
    load_service_tags,
    weekly_dir,
)
from pullpath.core.servicetags import weekly_file_links
from pullpath.knowledge.clouds import cloud_by_name, cloud_of_login_server, clouds
from pullpath.workflows.audit import cloud_mismatch, run_audit
from pullpath.workflows.live import update_weekly_service_tags
from tests.support import TESTS
from tests.support.live_server import LoopbackServer, Reply, free_port, loopback_settings
from tests.support.scenario import Scenario
from tests.support.tags import tags_containing

DATA = TESTS / "data" / "servicetags"
WEEKLY = DATA / "weekly"
FILES = {
    "Public": WEEKLY / "ServiceTags_Public_20251028.json",
    "AzureGovernment": WEEKLY / "ServiceTags_AzureGovernment_20260720.json",
    "China": WEEKLY / "ServiceTags_China_20260720.json",
}
TODAY = date(2026, 12, 6)
# the folders the real files are published under on download.microsoft.com
FOLDERS = {
    "Public": "7/1/D/71D86715-5596-4529-9B13-DA13A5DE5B63",
    "AzureGovernment": "6/4/D/64DB03BF-895B-4173-A8B1-BA4AD5D4DF22",
    "China": "9/D/0/9D03B7E2-4B80-4BF3-9B91-DA8C7D3EE9F9",
}


def page_html(link: str) -> str:
    return ("<!DOCTYPE html><html><body><h1>Azure IP Ranges and Service Tags</h1>"
            f'<a href="{link}" class="mscom-link">click here to download manually</a>'
            "</body></html>")


def file_path(cloud: str, name: str) -> str:
    return f"/download/{FOLDERS[cloud]}/{name}"


def serve(server: LoopbackServer, cloud: str, name: str, body: bytes, *,
          page: str = "details.aspx") -> None:
    """The cloud's download page (linking ``name`` on the server) and the file itself."""
    found = cloud_by_name(cloud)
    assert found is not None
    link = f"{server.url}{file_path(cloud, name)}"

    def handler(req: Any) -> Reply:
        if req.query.get("id") == [str(found.download_id)]:
            return Reply(200, page_html(link), {"Content-Type": "text/html; charset=utf-8"})
        return Reply(404, "no such download")

    server.route("GET", f"/download/{page}", handler)
    server.route("GET", file_path(cloud, name), Reply(200, body,
                                                      {"Content-Type": "application/json"}))


def serve_all(server: LoopbackServer) -> None:
    pages: dict[str, str] = {}
    for cloud, path in FILES.items():
        found = cloud_by_name(cloud)
        assert found is not None
        pages[str(found.download_id)] = page_html(f"{server.url}{file_path(cloud, path.name)}")
        server.route("GET", file_path(cloud, path.name), Reply(200, path.read_bytes()))

    def handler(req: Any) -> Reply:
        wanted = (req.query.get("id") or [""])[0]
        return Reply(200, pages[wanted], {"Content-Type": "text/html"}) if wanted in pages \
            else Reply(404, "no such download")

    server.route("GET", "/download/details.aspx", handler)


def settings_for(server: LoopbackServer, ca: Path) -> ClientSettings:
    return loopback_settings(server.url, ca, retries=1)


def mirror(server: LoopbackServer) -> str:
    return f"{server.url}/download/"


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail instead of hanging (a FIFO opened for reading blocks until a writer comes). The
    alarm's exception may be swallowed by the code under test, so its firing is also
    checked afterwards."""
    fired: list[bool] = []

    def expired(signum: int, frame: object) -> None:
        fired.append(True)
        raise TimeoutError(f"still running after {seconds} s: blocked on a cache entry?")

    old = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert not fired, f"blocked for {seconds} s"


# ----------------------------------------------------------------------------- the pages


def test_links_are_found_in_html_and_in_escaped_json() -> None:
    page = (
        '<a href="https://download.microsoft.com/download/7/1/D/X/ServiceTags_Public_20251028.json'
        '">download</a> <script>{"url":"https:\\/\\/download.microsoft.com\\/download\\/7\\/1\\/D'
        '\\/X\\/ServiceTags_Public_20251103.json"}</script>'
        '<a href="https://download.microsoft.com/download/6/4/D/Y/ServiceTags_AzureGovernment_'
        '20260720.json">gov</a>'
    )
    assert weekly_file_links(page, "Public") == [
        ("https://download.microsoft.com/download/7/1/D/X/ServiceTags_Public_20251103.json",
         date(2025, 11, 3)),
        ("https://download.microsoft.com/download/7/1/D/X/ServiceTags_Public_20251028.json",
         date(2025, 10, 28)),
    ]
    assert [d for _, d in weekly_file_links(page, "AzureGovernment")] == [date(2026, 7, 20)]
    assert weekly_file_links(page, "China") == []


def test_clouds_of_login_servers() -> None:
    assert [cloud_of_login_server(s).name for s in  # type: ignore[union-attr]
            ("a.azurecr.io", "B.AZURECR.US", "c.chinanorth3.geo.azurecr.cn")] == [
        "Public", "AzureGovernment", "China"]
    assert cloud_of_login_server("azurecr.io.example.com") is None
    assert {c.download_id for c in clouds()} == {56519, 57063, 57062}


def test_the_official_file_host_is_accepted_and_others_refused(
        loopback: LoopbackServer, tls_cert: tuple[Path, Path]) -> None:
    public = cloud_by_name("Public")
    assert public is not None
    official = "https://download.microsoft.com/download/7/1/D/X/ServiceTags_Public_20251028.json"
    loopback.route("GET", "/ok/details.aspx", Reply(200, page_html(official)))
    link = find_weekly_file(public, settings=settings_for(loopback, tls_cert[0]),
                            base=f"{loopback.url}/ok/")
    assert (link.url, link.published, link.name) == (
        official, date(2025, 10, 28), "ServiceTags_Public_20251028.json")

    elsewhere = "https://downloads.example.net/ServiceTags_Public_20261130.json"
    plain = f"http://127.0.0.1:{loopback.port}/x/ServiceTags_Public_20261130.json"
    loopback.route("GET", r"/bad/(details|confirmation)\.aspx",
                   Reply(200, page_html(elsewhere) + page_html(plain)))
    with pytest.raises(DownloadError, match="other hosts"):
        find_weekly_file(public, settings=settings_for(loopback, tls_cert[0]),
                         base=f"{loopback.url}/bad/")


# ----------------------------------------------------------------------------- update


def test_update_writes_the_three_caches(loopback: LoopbackServer, tls_cert: tuple[Path, Path],
                                        tmp_path: Path) -> None:
    serve_all(loopback)
    results = update_weekly_service_tags(
        clouds(), settings=settings_for(loopback, tls_cert[0]), mirror=mirror(loopback),
        cache_dir=tmp_path, today=TODAY,
    )
    assert [(r.cloud, r.status) for r in results] == [
        ("Public", "downloaded"), ("AzureGovernment", "downloaded"), ("China", "downloaded")]
    for r in results:
        source = FILES[r.cloud]
        assert r.path == weekly_dir(tmp_path) / source.name
        assert r.path.read_bytes() == source.read_bytes()  # as published, byte for byte
        assert r.change_number == str(json.loads(source.read_bytes())["changeNumber"])
        cached = cached_weekly_tags(r.cloud, tmp_path)
        assert cached is not None
        assert cached.path == r.path
        index = load_service_tags(r.path, cache_dir=tmp_path)
        assert index.cloud == r.cloud
    assert sorted(p.name for p in weekly_dir(tmp_path).iterdir()) == sorted(
        p.name for p in FILES.values())  # no temporary file left

    files_before = len(loopback.requests_to(r"/download/\d/.*\.json"))
    again = update_weekly_service_tags(
        clouds(), settings=settings_for(loopback, tls_cert[0]), mirror=mirror(loopback),
        cache_dir=tmp_path, today=TODAY,
    )
    assert {r.status for r in again} == {"current"}
    assert len(loopback.requests_to(r"/download/\d/.*\.json")) == files_before


def test_the_confirmation_page_is_read_when_the_details_page_has_no_link(
        loopback: LoopbackServer, tls_cert: tuple[Path, Path], tmp_path: Path) -> None:
    gov = FILES["AzureGovernment"]
    loopback.route("GET", "/download/details.aspx", Reply(200, "<html>no link here</html>"))
    serve(loopback, "AzureGovernment", gov.name, gov.read_bytes(), page="confirmation.aspx")
    gov_cloud = cloud_by_name("AzureGovernment")
    assert gov_cloud is not None
    (result,) = update_weekly_service_tags(
        [gov_cloud], settings=settings_for(loopback, tls_cert[0]),
        mirror=mirror(loopback), cache_dir=tmp_path, today=TODAY)
    assert result.status == "downloaded", result.message
    assert len(loopback.requests_to("/download/details.aspx")) == 1


def _corrupt(kind: str) -> bytes:
    gov = FILES["AzureGovernment"].read_bytes()
    if kind == "truncated":
        return gov[: len(gov) // 2]
    if kind == "another-cloud":
        return FILES["China"].read_bytes()
    if kind == "html":
        return b"<html><body>Sorry, this download is no longer available</body></html>"
    doc = json.loads(gov)
    if kind == "no-values":
        doc["values"] = []
    elif kind == "no-change-number":
        del doc["changeNumber"]
    elif kind == "bad-tag":
        doc["values"][0]["properties"]["addressPrefixes"] = "13.72.0.0/18"
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("kind", "said"),
    [("truncated", "not JSON"), ("another-cloud", "for cloud 'China'"), ("html", "not JSON"),
     ("no-values", "no service tag"), ("no-change-number", "no changeNumber"),
     ("bad-tag", "must be a list")],
)
def test_a_bad_download_is_refused_and_the_cached_file_kept(
        loopback: LoopbackServer, tls_cert: tuple[Path, Path], tmp_path: Path, kind: str,
        said: str) -> None:
    gov_cloud = cloud_by_name("AzureGovernment")
    assert gov_cloud is not None
    good = FILES["AzureGovernment"]
    serve(loopback, "AzureGovernment", good.name, good.read_bytes())
    settings = settings_for(loopback, tls_cert[0])
    (first,) = update_weekly_service_tags([gov_cloud], settings=settings, mirror=mirror(loopback),
                                          cache_dir=tmp_path, today=TODAY)
    assert first.status == "downloaded"

    serve(loopback, "AzureGovernment", "ServiceTags_AzureGovernment_20260727.json",
          _corrupt(kind))
    (second,) = update_weekly_service_tags([gov_cloud], settings=settings,
                                           mirror=mirror(loopback), cache_dir=tmp_path,
                                           today=TODAY)
    assert second.status == "failed"
    assert said in second.message
    assert "the cached ServiceTags_AzureGovernment_20260720.json stays in use" in second.message
    assert [p.name for p in weekly_dir(tmp_path).iterdir()] == [good.name]
    assert (weekly_dir(tmp_path) / good.name).read_bytes() == good.read_bytes()


def test_a_file_dated_after_today_is_refused(loopback: LoopbackServer,
                                             tls_cert: tuple[Path, Path], tmp_path: Path) -> None:
    public = cloud_by_name("Public")
    assert public is not None
    serve(loopback, "Public", "ServiceTags_Public_20991231.json", FILES["Public"].read_bytes())
    (result,) = update_weekly_service_tags([public], settings=settings_for(loopback, tls_cert[0]),
                                           mirror=mirror(loopback), cache_dir=tmp_path,
                                           today=TODAY)
    assert result.status == "failed"
    assert "dated after today" in result.message
    assert "the bundled file from 2025-10-28 stays in use" in result.message
    assert not weekly_dir(tmp_path).exists() or not any(weekly_dir(tmp_path).iterdir())


# ----------------------------------------------------------------------------- the CLI


def cli(*args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "pullpath", *args], capture_output=True,
                          text=True, timeout=120, env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture
def user_env(tmp_path: Path, tls_cert: tuple[Path, Path]) -> dict[str, str]:
    """A user's environment: HOME and XDG_CACHE_HOME in tmp_path, the loopback CA trusted."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULLPATH_")}
    env.update(HOME=str(tmp_path / "home"), XDG_CACHE_HOME=str(tmp_path / "xdg-cache"),
               REQUESTS_CA_BUNDLE=str(tls_cert[0]), PULLPATH_RETRY_BACKOFF_FACTOR="0.01",
               PULLPATH_RETRY_TOTAL="1")
    for proxy in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        env.pop(proxy, None)
    return env


def test_cli_offline_is_one_clear_error_and_exit_2(user_env: dict[str, str]) -> None:
    closed = f"https://127.0.0.1:{free_port()}/download/"
    proc = cli("service-tags", "update", "--cloud", "public", "--mirror", closed, env=user_env,
               check=False)
    assert proc.returncode == 2
    assert "could not reach 127.0.0.1" in proc.stderr
    assert "the bundled file from 2025-10-28 stays in use" in proc.stderr
    assert proc.stdout == ""


def test_cli_usage_errors(user_env: dict[str, str]) -> None:
    for args, said in (
        (("--cloud", "germany"), "not a cloud"),
        (("--discovery",), "--discovery needs --location"),
        (("--subscription", "x"), "apply to --discovery"),
        (("--mirror", "http://mirror.example/"), "must be an https:// URL"),
    ):
        proc = cli("service-tags", "update", *args, env=user_env, check=False)
        assert proc.returncode == 2, proc.stderr
        assert said in proc.stderr


def gov_logs(root: Path, ip: str) -> Path:
    """Registry logs of a Government registry (login server *.azurecr.us)."""
    sc = Scenario()
    sc.event("govacr", ip=ip, time="2026-11-30T10:00:00.0000000Z")
    for record in sc.records:
        record["properties"]["loginServer"] = "govacr.azurecr.us"
    logs, _ = sc.write(root)
    return logs


def test_cli_update_then_audit_uses_the_cached_file_of_the_logs_cloud(
        loopback: LoopbackServer, user_env: dict[str, str], tmp_path: Path) -> None:
    serve_all(loopback)
    gov = json.loads(FILES["AzureGovernment"].read_bytes())
    acr = next(v for v in gov["values"] if v["name"] == "AzureContainerRegistry.USGovVirginia")
    prefix = acr["properties"]["addressPrefixes"][0]
    ip = prefix.split("/")[0].rsplit(".", 1)[0] + ".200"
    assert tags_containing(ip) == set()  # in no tag of the bundled Public file
    logs = gov_logs(tmp_path, ip)

    update = cli("service-tags", "update", "--mirror", mirror(loopback), env=user_env)
    saved = Path(user_env["XDG_CACHE_HOME"]) / "pullpath" / "servicetags" / "weekly"
    assert sorted(p.name for p in saved.iterdir()) == sorted(p.name for p in FILES.values())
    assert "ServiceTags_AzureGovernment_20260720.json (changeNumber 402" in update.stderr

    doc = json.loads(cli("audit", "--logs", str(logs), "--format", "json", env=user_env).stdout)
    assert doc["service_tags"]["cloud"] == "AzureGovernment"
    assert doc["service_tags"]["source"] == str(saved / FILES["AzureGovernment"].name)
    assert doc["service_tags"]["cloud_mismatch"] is None
    (flow,) = doc["flows"]
    assert flow["source"]["kind"] == "azure-platform"
    assert flow["source"]["service_tag"] == "AzureContainerRegistry.USGovVirginia"

    shown = json.loads(cli("service-tags", "show", "--cloud", "usgov", "--json",
                           env=user_env).stdout)
    assert shown["cloud"] == "AzureGovernment"
    assert shown["cached_weekly"]["China"] == str(saved / FILES["China"].name)


def test_a_tag_file_of_another_cloud_is_a_warning_or_strict_error(
        user_env: dict[str, str], tmp_path: Path) -> None:
    gov = FILES["AzureGovernment"]
    sc = Scenario()
    sc.event("contosoacr", ip="203.0.113.7")  # a *.azurecr.io registry
    logs, _ = sc.write(tmp_path)
    proc = cli("audit", "--logs", str(logs), "--service-tags", str(gov), "--format", "json",
               env=user_env)
    doc = json.loads(proc.stdout)
    mismatch = doc["service_tags"]["cloud_mismatch"]
    assert mismatch is not None
    assert "cloud AzureGovernment" in mismatch
    assert "Public: contosoacr.azurecr.io" in mismatch
    assert "--cloud public" in mismatch
    assert mismatch in doc["warnings"]

    strict = cli("audit", "--logs", str(logs), "--service-tags", str(gov), "--strict",
                 "--format", "json", env=user_env, check=False)
    assert strict.returncode == 2
    assert "--strict" in strict.stderr
    assert "cloud AzureGovernment" in strict.stderr
    assert json.loads(strict.stdout)["flows"]  # the report is still written

    same = cli("audit", "--logs", str(logs), "--strict", "--format", "json", env=user_env)
    assert json.loads(same.stdout)["service_tags"]["cloud_mismatch"] is None


def test_a_damaged_cached_file_never_stops_an_audit(user_env: dict[str, str],
                                                   tmp_path: Path) -> None:
    saved = Path(user_env["XDG_CACHE_HOME"]) / "pullpath" / "servicetags" / "weekly"
    saved.mkdir(parents=True)
    gov = FILES["AzureGovernment"].read_bytes()
    (saved / FILES["AzureGovernment"].name).write_bytes(gov[: len(gov) // 3])  # disk damage
    logs = gov_logs(tmp_path, "20.140.88.200")
    doc = json.loads(cli("audit", "--logs", str(logs), "--format", "json", env=user_env).stdout)
    assert doc["service_tags"]["source"].startswith("bundled")
    assert any("the cached service tags cannot be used" in w for w in doc["warnings"])
    assert doc["service_tags"]["cloud_mismatch"] is not None  # Public tags, .azurecr.us logs
    assert "--cloud usgov" in doc["service_tags"]["cloud_mismatch"]


# ----------------------------------------------------------------------------- stale tags


def test_a_caller_newer_than_the_tag_file_is_blamed_on_the_tag_file(tmp_path: Path) -> None:
    """20.143.190.0/23 is in AzureCloud.japaneast of the 2026-06-26 Public file and in no
    prefix of the bundled 2025-10-28 file: a Microsoft address the old file lacks."""
    newer = json.loads((DATA / "split-20260626" / "AzureCloud.japaneast.serviceTag.json")
                       .read_text())
    assert "20.143.190.0/23" in newer["properties"]["addressPrefixes"]
    caller = "20.143.190.10"
    assert tags_containing(caller) == set()

    sc = Scenario()
    sc.registry("contosoacr", public="Enabled", default_action="Deny", bypass="AzureServices")
    sc.event("contosoacr", ip=caller, time="2026-11-30T10:00:00.0000000Z")
    sc.event("contosoacr", ip=caller, repo="old", time="2025-10-01T10:00:00.0000000Z")
    logs, inv = sc.write(tmp_path)
    report = run_audit([logs], inventory_paths=[inv])
    by_repo = {f.repository: f for f in report.result.flows}
    recent, old = by_repo["app"], by_repo["old"]
    assert recent.source.kind.value == old.source.kind.value == "internet"
    assert recent.path.value == old.path.value == "unknown"
    said = " ".join(recent.verdict.reasons)
    assert ("the service tags file is from 2025-10-28, older than this event (2026-11-30): a "
            "new Microsoft address may be missing; run `pullpath service-tags update`") in said
    assert "the inventory may be stale" not in said
    assert any("service-tags update" in m for m in report.result.missing)
    # an event before the tag file: the tags cannot be the reason
    assert old.verdict.reasons[-1].endswith("the inventory may be stale")


# ----------------------------------------------------------------------------- cache entries


def _make(kind: str, path: Path, elsewhere: Path) -> None:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "symlink":
        os.symlink(elsewhere, path)
    elif kind == "dangling":
        os.symlink(path.parent / "nothing-here", path)


KINDS = ("fifo", "directory", "symlink", "dangling")


@pytest.mark.parametrize("kind", KINDS)
def test_a_weekly_cache_entry_that_is_not_a_file_is_skipped_then_rebuilt(
        loopback: LoopbackServer, tls_cert: tuple[Path, Path], tmp_path: Path,
        kind: str) -> None:
    gov_cloud = cloud_by_name("AzureGovernment")
    assert gov_cloud is not None
    gov = FILES["AzureGovernment"]
    cache = tmp_path / "cache"
    folder = weekly_dir(cache)
    folder.mkdir(parents=True)
    elsewhere = tmp_path / "someone-elses.json"
    elsewhere.write_bytes(FILES["China"].read_bytes())
    entry = folder / gov.name
    _make(kind, entry, elsewhere)
    with deadline(10):
        assert cached_weekly_tags("AzureGovernment", cache) is None
        assert choose_tags_file(None, "AzureGovernment", cache) is None  # the bundled file
        serve(loopback, "AzureGovernment", gov.name, gov.read_bytes())
        (result,) = update_weekly_service_tags(
            [gov_cloud], settings=settings_for(loopback, tls_cert[0]),
            mirror=mirror(loopback), cache_dir=cache, today=TODAY)
    assert result.status == "downloaded", result.message
    assert entry.is_file()
    assert not entry.is_symlink()
    assert entry.read_bytes() == gov.read_bytes()
    assert elsewhere.read_bytes() == FILES["China"].read_bytes()  # the link's target untouched
    assert choose_tags_file(None, "AzureGovernment", cache) == entry


@pytest.mark.parametrize("kind", KINDS)
def test_an_index_cache_entry_that_is_not_a_file_is_skipped_and_rebuilt(
        tmp_path: Path, kind: str) -> None:
    gov = FILES["AzureGovernment"]
    cache = tmp_path / "cache"
    first = load_service_tags(gov, cache_dir=cache)
    (entry,) = (cache / "servicetags").glob("*.npz")
    # a valid index of another file, which a link at the entry would hand over if followed
    other = tmp_path / "other-cache"
    load_service_tags(FILES["China"], cache_dir=other)
    (elsewhere,) = (other / "servicetags").glob("*.npz")
    kept = elsewhere.read_bytes()
    entry.unlink()
    _make(kind, entry, elsewhere)
    with deadline(10):
        again = load_service_tags(gov, cache_dir=cache)
    assert again.cloud == "AzureGovernment"
    assert again.names == first.names
    assert again.lookup("13.72.0.1") == first.lookup("13.72.0.1")
    assert entry.is_file()
    assert not entry.is_symlink()
    assert elsewhere.read_bytes() == kept


@pytest.mark.parametrize("kind", KINDS)
def test_a_discovery_cache_entry_that_is_not_a_file_is_skipped(tmp_path: Path,
                                                               kind: str) -> None:
    cache = tmp_path / "cache"
    folder = cache / "servicetags" / "discovery"
    folder.mkdir(parents=True)
    elsewhere = tmp_path / "tags.json"
    elsewhere.write_bytes(FILES["Public"].read_bytes())
    _make(kind, folder / "ServiceTags_Public_20261201.westeurope.json", elsewhere)
    (folder / "ServiceTags_Public_20261115.westeurope.json").write_bytes(
        FILES["Public"].read_bytes())
    with deadline(10):
        found = cached_discovery_tags("Public", cache)
        assert found is not None
        assert found.path.name == "ServiceTags_Public_20261115.westeurope.json"


def test_the_mismatch_names_every_other_cloud() -> None:
    tags = load_service_tags(FILES["Public"], use_cache=False)
    assert cloud_mismatch(tags, ["a.azurecr.io", "/subscriptions/x/registries/b"]) == ""
    text = cloud_mismatch(tags, ["a.azurecr.io", "b.azurecr.cn", "c.azurecr.us"])
    assert "AzureGovernment: c.azurecr.us; China: b.azurecr.cn" in text
    assert "--cloud usgov,china" in text
    assert "audit each cloud's logs on their own" in text
    assert "on their own" not in cloud_mismatch(tags, ["b.azurecr.cn"])


def test_update_keeps_the_three_newest_files_of_a_cloud(
        loopback: LoopbackServer, tls_cert: tuple[Path, Path], tmp_path: Path) -> None:
    china = cloud_by_name("China")
    assert china is not None
    body = FILES["China"].read_bytes()
    folder = weekly_dir(tmp_path)
    folder.mkdir(parents=True)
    older = ["ServiceTags_China_20260629.json", "ServiceTags_China_20260706.json",
             "ServiceTags_China_20260713.json"]
    for name in older:
        (folder / name).write_bytes(body)
    (folder / "notes.txt").write_text("not ours")
    serve(loopback, "China", FILES["China"].name, body)
    (result,) = update_weekly_service_tags([china], settings=settings_for(loopback, tls_cert[0]),
                                           mirror=mirror(loopback), cache_dir=tmp_path,
                                           today=TODAY)
    assert result.status == "downloaded"
    assert sorted(p.name for p in folder.iterdir()) == [*older[1:], FILES["China"].name,
                                                        "notes.txt"]
