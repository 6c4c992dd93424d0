"""`autoreid data fetch`: get a raw dataset into place, safely.

- from a URL (params `datasets.<name>.url`, optional `sha256`): downloaded to `<out>.part`,
  resumed with an HTTP Range request when the server allows it (restarted otherwise), checked
  against the sha256 when one is known, then extracted;
- from an archive or a folder the user already has (`--from`): an archive is extracted, a folder
  is linked;
- extraction goes to a temporary folder that is renamed into place only when complete; members
  with absolute paths, `..`, links leading outside, or device files are refused before anything
  is written; truncated or corrupt archives are refused.
For datasets that need a request or an agreement (CUHK03, MSMT17), or a dead mirror, the error
says where to get the data and exactly where to put it.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from autoreid.errors import UserError
from autoreid.io import publish_dir

WHERE = {
    "market1501": ("Market-1501-v15.09.15.zip from the authors' page "
                   "https://zheng-lab.anu.edu.au/Project/project_reid.html (or a mirror)",
                   "{out}/Market-1501-v15.09.15/bounding_box_train"),
    "cuhk03": ("cuhk03_release.zip on request from "
               "https://www.ee.cuhk.edu.hk/~xgwang/CUHK_identification.html and the new-protocol "
               "files cuhk03_new_protocol_config_{{labeled,detected}}.mat from "
               "https://github.com/zhunzhong07/person-re-ranking (evaluation/data/CUHK03)",
               "{out}/cuhk03_release/cuhk-03.mat and {out}/cuhk03_new_protocol_config_labeled.mat"),
    "msmt17": ("MSMT17_V1.tar.gz (or V2) after signing the agreement at "
               "https://www.pkuvmc.com/dataset.html",
               "{out}/MSMT17_V1/list_train.txt"),
    "imagenet": ("the ILSVRC-2012 training images after the agreement at https://image-net.org",
                 "{out}/train/<class>/<image>.JPEG"),
}
CHUNK = 1 << 20


def where(dataset: str, out: Path) -> str:
    source, target = WHERE[dataset]
    return f"get {source}, and unpack it so that {target.format(out=out)} exists " \
           f"(or pass the archive or folder with --from)"


def check_layout(dataset: str, root: Path) -> None:
    if dataset == "market1501":
        from autoreid.data.market1501 import find_root

        find_root(root)
    elif dataset == "msmt17":
        from autoreid.data.msmt17 import find_root

        find_root(root)
    elif dataset == "imagenet":
        from autoreid.data.imagefolder import load_imagefolder

        load_imagefolder(root)
    elif dataset == "cuhk03":
        if not any((root / p).is_file() for p in ("cuhk03_release/cuhk-03.mat", "cuhk-03.mat")):
            raise UserError(f"{root}: no cuhk03_release/cuhk-03.mat; " + where(dataset, root))


# ----------------------------------------------------------------------------- download
def sha256sum(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def download(url: str, dest: Path, sha256: str | None = None, log=print) -> Path:
    """Download `url` to `dest` (via `dest.part`, resuming it when the server allows)."""
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=60)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:  # nothing left to fetch: the part file is complete
            response = None
        else:
            raise UserError(f"{url}: download failed (HTTP {e.code} {e.reason})") from None
    except (urllib.error.URLError, OSError) as e:
        raise UserError(f"{url}: download failed ({getattr(e, 'reason', e)})") from None
    if response is not None:
        with response:
            resumed = response.status == 206
            if have and not resumed:
                log(f"[fetch] server ignores Range: restarting {dest.name}")
                have = 0
            length = response.headers.get("Content-Length")
            total = have + int(length) if length is not None else None
            got, t0, last = have, time.time(), 0.0
            try:
                with open(part, "ab" if resumed else "wb") as f:
                    while block := response.read(CHUNK):
                        f.write(block)
                        got += len(block)
                        if time.time() - last > 5:
                            last = time.time()
                            rate = (got - have) / max(last - t0, 1e-9)
                            eta = f", ETA {int((total - got) / rate)} s" if total and rate else ""
                            log(f"[fetch] {dest.name}: {got >> 20} MiB"
                                f"{f' of {total >> 20} MiB' if total else ''}{eta}")
            except (OSError, urllib.error.URLError) as e:
                raise UserError(f"{url}: download interrupted after {got} bytes ({e}); rerun to "
                                "resume") from None
            if total is not None and got < total:
                raise UserError(f"{url}: download truncated ({got} of {total} bytes); rerun to resume")
    if sha256:
        actual = sha256sum(part)
        if actual.lower() != sha256.lower():
            part.unlink()
            raise UserError(f"{url}: checksum mismatch (sha256 {actual}, expected {sha256}); "
                            "the partial file was removed")
    os.replace(part, dest)
    return dest


# ----------------------------------------------------------------------------- extraction
def _safe_name(name: str, archive: Path) -> PurePosixPath:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or (p.parts and ":" in p.parts[0]) or ".." in p.parts:
        raise UserError(f"{archive}: member {name!r} would be written outside the destination; refused")
    return p


def _check_link(name: str, target: str, archive: Path, hard: bool = False) -> None:
    """A symlink's target is relative to its folder, a hard link's to the archive root; walking it
    must never climb above the root."""
    t = PurePosixPath(target)
    depth = 0 if hard else len(PurePosixPath(name).parent.parts)
    inside = not t.is_absolute()
    for part in t.parts if inside else ():
        depth += -1 if part == ".." else (0 if part == "." else 1)
        inside = inside and depth >= 0
    if not inside:
        raise UserError(f"{archive}: member {name!r} links outside the destination ({target!r}); refused")


def _members_ok(archive: Path) -> str:
    """Validate every member before extraction; returns the archive kind."""
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as z:
                for info in z.infolist():
                    _safe_name(info.filename, archive)
                    if (info.external_attr >> 16) & 0o170000 == 0o120000:
                        _check_link(info.filename, z.read(info).decode(), archive)
                bad = z.testzip()
                if bad is not None:
                    raise UserError(f"{archive}: member {bad!r} is corrupt")
            return "zip"
        with tarfile.open(archive) as t:
            for m in t.getmembers():
                _safe_name(m.name, archive)
                if m.issym() or m.islnk():
                    _check_link(m.name, m.linkname, archive, hard=m.islnk())
                elif not (m.isfile() or m.isdir()):
                    raise UserError(f"{archive}: member {m.name!r} is a device or fifo; refused")
        return "tar"
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as e:
        raise UserError(f"{archive}: truncated or corrupt archive ({type(e).__name__})") from None


def extract(archive: Path, out: Path) -> None:
    """Extract `archive` so that its contents appear at `out`, complete or not at all."""
    kind = _members_ok(archive)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        if kind == "zip":
            with zipfile.ZipFile(archive) as z:
                z.extractall(tmp)
        else:
            with tarfile.open(archive) as t:
                # the members were checked above; the "data" filter (3.11.4+) checks them again
                if hasattr(tarfile, "data_filter"):
                    t.extractall(tmp, filter="data")
                else:
                    t.extractall(tmp)
        publish_dir(tmp, out)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as e:
        raise UserError(f"{archive}: truncated or corrupt archive ({type(e).__name__})") from None
    except OSError as e:
        raise UserError(f"{archive}: extraction failed ({e.strerror or e})") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def fetch(dataset: str, out: str | Path, url: str | None = None, sha256: str | None = None,
          source: str | Path | None = None, log=print) -> Path:
    out = Path(out)
    if dataset not in WHERE:
        raise UserError(f"unknown dataset {dataset!r} (known: {', '.join(WHERE)})")
    if out.exists() and not out.is_symlink() and any(out.iterdir()):
        check_layout(dataset, out)
        log(f"{dataset}: already in place at {out}")
        return out
    if source is not None:
        src = Path(source)
        if src.is_dir():
            check_layout(dataset, src)
            if out.is_symlink() or out.exists():
                out.unlink() if out.is_symlink() else out.rmdir()
            out.parent.mkdir(parents=True, exist_ok=True)
            out.symlink_to(src.resolve(), target_is_directory=True)
            return out
        if not src.is_file():
            raise UserError(f"{src}: no such archive or folder")
        if sha256 and sha256sum(src).lower() != sha256.lower():
            raise UserError(f"{src}: checksum mismatch (expected sha256 {sha256})")
        archive = src
    elif url:
        archive = download(url, out.parent / ".downloads" / (Path(url.split("?")[0]).name or dataset),
                           sha256, log)
    else:
        raise UserError(f"{dataset}: no download URL is known for it; " + where(dataset, out))
    extract(archive, out)
    try:
        check_layout(dataset, out)
    except UserError:
        shutil.rmtree(out)
        raise UserError(f"{archive}: does not hold {dataset} in its official layout; "
                        + where(dataset, out)) from None
    return out
