"""`autoreid data fetch` against a real HTTP server on loopback: resume, checksums, truncated
archives, path escapes, links out, manual datasets; nothing half-extracted."""
import hashlib
import http.server
import io
import tarfile
import threading
import zipfile

import pytest

from autoreid.data.fetch import download, fetch
from autoreid.errors import UserError
from helpers import assert_user_error, run_cli

MARKET = ["Market-1501-v15.09.15/bounding_box_train/0002_c1s1_000451_03.jpg",
          "Market-1501-v15.09.15/query/0001_c1s1_001051_00.jpg",
          "Market-1501-v15.09.15/bounding_box_test/0001_c2s1_000301_01.jpg"]


def jpeg() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 16), (200, 10, 10)).save(buf, format="JPEG")
    return buf.getvalue()


def market_zip(extra: dict | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in MARKET:
            z.writestr(name, jpeg())
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buf.getvalue()


class Server:
    """Serves bytes by path; honours Range unless told not to; can cut a response short."""

    def __init__(self):
        self.files, self.ranges, self.cut, self.requests = {}, True, None, []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append(self.headers.get("Range"))
                data = server.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                start = 0
                rng = self.headers.get("Range")
                if rng and server.ranges:
                    start = int(rng.split("=")[1].split("-")[0])
                    if start >= len(data):
                        self.send_response(416)
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: server.cut] if server.cut else body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.httpd.shutdown()


def test_fetch_verify_extract(server, tmp_path):
    data = market_zip()
    server.files["/market.zip"] = data
    out = fetch("market1501", tmp_path / "market", server.url + "/market.zip",
                hashlib.sha256(data).hexdigest(), log=lambda *_: None)
    assert (out / MARKET[0]).read_bytes()[:2] == b"\xff\xd8"
    run_cli("data", "prepare", "--benchmark", "market1501", "--raw", out, "--out-dir", tmp_path / "d",
            check=True)


def test_interrupted_download_resumes(server, tmp_path):
    data = market_zip()
    server.files["/m.zip"] = data
    server.cut = 100
    with pytest.raises(UserError, match="truncated .* rerun to resume"):
        download(server.url + "/m.zip", tmp_path / "m.zip", log=lambda *_: None)
    assert (tmp_path / "m.zip.part").stat().st_size == 100
    server.cut = None
    download(server.url + "/m.zip", tmp_path / "m.zip", hashlib.sha256(data).hexdigest(),
             log=lambda *_: None)
    assert server.requests[-1] == "bytes=100-" and (tmp_path / "m.zip").read_bytes() == data


def test_server_without_range_restarts(server, tmp_path):
    data = market_zip()
    server.files["/m.zip"] = data
    server.ranges = False
    (tmp_path / "m.zip.part").write_bytes(b"garbage from an older attempt")
    download(server.url + "/m.zip", tmp_path / "m.zip", hashlib.sha256(data).hexdigest(),
             log=lambda *_: None)
    assert (tmp_path / "m.zip").read_bytes() == data


def test_checksum_mismatch(server, tmp_path):
    server.files["/m.zip"] = market_zip()
    proc = run_cli("data", "fetch", "--dataset", "market1501", "--out-dir", tmp_path / "market",
                   "--url", server.url + "/m.zip", "--sha256", "0" * 64)
    assert_user_error(proc, "checksum mismatch")
    assert not (tmp_path / "market").exists() and not list(tmp_path.rglob("*.part"))


def test_truncated_archive(tmp_path):
    archive = tmp_path / "m.zip"
    archive.write_bytes(market_zip()[:-200])
    proc = run_cli("data", "fetch", "--dataset", "market1501", "--out-dir", tmp_path / "market",
                   "--from", archive)
    assert_user_error(proc, "truncated or corrupt archive")
    assert not (tmp_path / "market").exists()


@pytest.mark.parametrize("member", ["../evil.txt", "/tmp/evil.txt", "a/../../evil.txt"])
def test_members_escaping_the_destination(tmp_path, member):
    archive = tmp_path / "m.zip"
    archive.write_bytes(market_zip({member: b"x"}))
    proc = run_cli("data", "fetch", "--dataset", "market1501", "--out-dir", tmp_path / "market",
                   "--from", archive)
    assert_user_error(proc, "outside the destination")
    assert not (tmp_path / "market").exists() and not (tmp_path / "evil.txt").exists()


def test_tar_link_out_of_the_destination(tmp_path):
    archive = tmp_path / "m.tar"
    with tarfile.open(archive, "w") as t:
        link = tarfile.TarInfo("Market-1501-v15.09.15/passwd")
        link.type, link.linkname = tarfile.SYMTYPE, "../../../etc/passwd"
        t.addfile(link)
    with pytest.raises(UserError, match="links outside the destination"):
        fetch("market1501", tmp_path / "market", source=archive, log=lambda *_: None)
    assert not (tmp_path / "market").exists()


def test_manual_dataset_says_where_to_get_it(tmp_path):
    proc = run_cli("data", "fetch", "--dataset", "msmt17", "--out-dir", tmp_path / "msmt17")
    assert_user_error(proc, "pkuvmc.com", f"{tmp_path / 'msmt17'}/MSMT17_V1/list_train.txt")
    proc = run_cli("data", "fetch", "--dataset", "cuhk03", "--out-dir", tmp_path / "c")
    assert_user_error(proc, "cuhk03_new_protocol_config")


def test_dead_mirror(server, tmp_path):
    proc = run_cli("data", "fetch", "--dataset", "market1501", "--out-dir", tmp_path / "m", "--url",
                   server.url + "/gone.zip")
    assert_user_error(proc, "HTTP 404")


def test_existing_folder_is_linked(tmp_path):
    from test_market import make_tree

    src = make_tree(tmp_path / "mine")
    out = fetch("market1501", tmp_path / "data" / "market1501", source=src, log=lambda *_: None)
    assert out.is_symlink() and (out / "Market-1501-v15.09.15" / "query").is_dir()
    (tmp_path / "wrong").mkdir()
    with pytest.raises(UserError, match="not in the Market-1501 layout"):
        fetch("market1501", tmp_path / "other", source=tmp_path / "wrong", log=lambda *_: None)
