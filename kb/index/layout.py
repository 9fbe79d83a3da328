"""Where an index keeps its files, and the one way a build becomes the live one.

    INDEX/KB-INDEX           says "this folder is a kb index": kb writes and deletes only in such a folder
    INDEX/CURRENT            name of the live build (replaced atomically when a build finishes)
    INDEX/builds/NAME/       manifest.json, meta.sqlite, dense.faiss, lexical/ (and vectors.npy
                             for lossy dense kinds)
    INDEX/builds/.tmp-NAME/  a build in progress; never read, removed by the next build
    INDEX/.lock              held by `kb index` while it builds

Readers resolve CURRENT once and read only that complete build, so a `kb ask` during a rebuild,
or after a crashed one, always sees the last complete index.

kb deletes only what its own naming identifies (build folders named by `new_build_name`), and only
in a folder that is a kb index: a folder that holds anything else is refused, never cleaned.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from kb.errors import IndexCorrupt, IndexFolderInUse, IndexMissing, KBError

CURRENT = "CURRENT"
MARKER = "KB-INDEX"
MARKER_TEXT = "This folder is a kb index. kb writes and removes only its own builds here (see builds/).\n"
TEMPORARY_PREFIX = ".tmp-"
# 20251130T061500-1234-a1b2c3: build time, process id, random suffix.
BUILD_NAME = re.compile(r"\d{8}T\d{6}-\d+-[0-9a-f]{6}")
NOT_AN_INDEX_HINT = ("--index takes the folder `kb index` builds (default indexes/default), "
                     "not a document or the corpus.")


def new_build_name() -> str:
    return time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{secrets.token_hex(3)}"


@dataclass(frozen=True, slots=True)
class BuildParts:
    """The files of one build, by the names they have on disk."""

    folder: Path

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def manifest(self) -> Path:
        return self.folder / "manifest.json"

    @property
    def store(self) -> Path:
        return self.folder / "meta.sqlite"  # documents, chunks and corpus files (kb.index.store)

    @property
    def dense(self) -> Path:
        return self.folder / "dense.faiss"

    @property
    def lexical(self) -> Path:
        return self.folder / "lexical"  # a folder: the BM25 matrix and vocabulary

    @property
    def vectors(self) -> Path:
        return self.folder / "vectors.npy"  # exact vectors, kept only for lossy dense kinds


@dataclass(frozen=True, slots=True)
class Claim:
    """What `IndexLayout.claim` made in this run, so that a build that fails before its first
    publish can take exactly that away again (`IndexLayout.give_up`) and nothing else."""

    folders: tuple[Path, ...] = ()  # folders it created, the outermost first (the index folder last)
    marker: bool = False  # it wrote KB-INDEX
    lock: bool = False  # .lock did not exist before (the lock itself makes it)


@dataclass(frozen=True, slots=True)
class IndexLayout:
    root: Path

    @property
    def current_file(self) -> Path:
        return self.root / CURRENT

    @property
    def builds(self) -> Path:
        return self.root / "builds"

    @property
    def lock_file(self) -> Path:
        return self.root / ".lock"

    @property
    def marker(self) -> Path:
        return self.root / MARKER

    def is_kb_index(self) -> bool:
        """Marked as a kb index, or an index from before the marker (CURRENT naming a build)."""
        if self.marker.is_file():
            return True
        try:
            name = self.current_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return False
        return bool(BUILD_NAME.fullmatch(name)) and BuildParts(self.builds / name).manifest.is_file()

    def claim(self, corpus: Path) -> Claim:
        """Make `root` a kb index folder, or refuse: a folder holding other files is not kb's to write in.

        Creates the folder when it does not exist, and says what it created. Raises IndexFolderInUse
        when it holds anything kb did not make, or when it is, or contains, the corpus folder.
        """
        root = self.root.resolve()
        corpus = corpus.resolve()
        apart = "Keep the index apart from the documents, e.g. --index indexes/default."
        if corpus == root:
            raise IndexFolderInUse(f"The index folder {self.root} is the corpus folder.", apart)
        if self.root.exists() and not self.root.is_dir():
            raise IndexFolderInUse(f"The index path {self.root} is a file, not a folder.")
        if self.root.is_dir() and not self.is_kb_index():
            # A lock file alone is a first build starting: another `kb index` holds it.
            entries = sorted(entry.name for entry in self.root.iterdir() if entry.name != self.lock_file.name)
            if entries:
                shown = ", ".join(entries[:5]) + (f" and {len(entries) - 5} more" if len(entries) > 5 else "")
                raise IndexFolderInUse(f"The index folder {self.root} is not empty and is not a kb index "
                                       f"(it holds {shown}); kb will not write there.")
        if corpus.is_relative_to(root):
            raise IndexFolderInUse(f"The index folder {self.root} contains the corpus folder {corpus}.", apart)
        missing = [folder for folder in (self.root, *self.root.parents) if not folder.exists()]
        lock = not self.lock_file.exists()
        self.root.mkdir(parents=True, exist_ok=True)
        claim = Claim(tuple(folder for folder in reversed(missing) if folder.is_dir()), lock=lock)
        if not self.marker.is_file():
            try:
                self.marker.write_text(MARKER_TEXT, encoding="utf-8")
            except OSError:
                self.give_up(claim)
                raise
            claim = Claim(claim.folders, marker=True, lock=lock)
        return claim

    def give_up(self, claim: Claim) -> None:
        """Take away what `claim` made, when no build was published since: the marker and the lock
        file it wrote, kb's temporary builds and `builds/` in a folder it created or marked, then the
        folders it created, each only if empty. Anything else stays, and with it the folders that hold it.

        Called by the run that holds the lock (or that made nothing the lock needs yet).
        """
        if not claim.folders and not claim.marker and not claim.lock:
            return
        try:
            if self.current_build() is not None:  # a build was published: the index is real now
                return
        except KBError:
            return
        # A folder it created, or an empty one it marked: builds/ in it can only be this run's.
        fresh = claim.marker or bool(claim.folders) and claim.folders[-1] == self.root
        expected = {MARKER, self.lock_file.name} | ({self.builds.name} if fresh else set())
        try:
            entries = {entry.name for entry in self.root.iterdir()}
        except OSError:
            entries = set()
        if not entries <= expected:  # someone else's files, or another run's: leave it all
            return
        if fresh:
            for build in self.temporary_builds():
                shutil.rmtree(build, ignore_errors=True)
            with contextlib.suppress(OSError):
                self.builds.rmdir()
        if claim.marker:
            with contextlib.suppress(OSError):
                self.marker.unlink()
        if claim.lock:
            with contextlib.suppress(OSError):
                self.lock_file.unlink()
        for folder in reversed(claim.folders):
            try:
                folder.rmdir()  # only an empty folder: never what another run put there meanwhile
            except OSError:
                break

    def check_pointer(self) -> None:
        """Refuse to build when CURRENT is not a file: the swap would fail after all the work."""
        current = self.current_file
        if (current.exists() or current.is_symlink()) and (current.is_symlink() or not current.is_file()):
            raise IndexCorrupt(f"{current} is not a file: kb keeps the name of the live build there.",
                               f"Remove it (it is not kb's), then run kb index again: rm -r '{current}'")

    def own_builds(self) -> list[Path]:
        """Build folders kb made here, complete or temporary: the only entries it may remove."""
        if not self.builds.is_dir():
            return []
        found = []
        for entry in self.builds.iterdir():
            name = entry.name.removeprefix(TEMPORARY_PREFIX)
            if BUILD_NAME.fullmatch(name) and entry.is_dir() and not entry.is_symlink():
                found.append(entry)
        return sorted(found)

    def temporary_builds(self) -> list[Path]:
        """Builds left by an interrupted `kb index`."""
        return [path for path in self.own_builds() if path.name.startswith(TEMPORARY_PREFIX)]

    def current_build(self) -> Path | None:
        try:
            name = self.current_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except NotADirectoryError:  # the index path, or a folder on the way to it, is a file
            file = next(path for path in (self.root, *self.root.parents) if path.exists())
            raise IndexMissing(f"The index path {self.root} is a file, not an index folder." if file == self.root
                               else f"The index path {self.root} leads through {file}, which is a file.",
                               NOT_AN_INDEX_HINT) from None
        except OSError as exc:
            raise IndexCorrupt(f"Cannot read {self.current_file}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise IndexCorrupt(f"{self.current_file} does not name a build (it is not text).") from None
        if not BUILD_NAME.fullmatch(name):
            raise IndexCorrupt(f"{self.current_file} does not name a build: {name!r}")
        return self.builds / name

    def start_build(self) -> BuildParts:
        """A new temporary build folder to write the parts into; `publish` makes it the live build."""
        self.builds.mkdir(parents=True, exist_ok=True)
        folder = self.builds / f"{TEMPORARY_PREFIX}{new_build_name()}"
        folder.mkdir()
        return BuildParts(folder)

    def publish(self, build: BuildParts) -> Path:
        """Flush a complete temporary build to disk, then make it the live one: the only way an index changes.

        CURRENT names the new build only once all of it is on disk, so a crash at any moment leaves
        the previous build live.
        """
        for path in build.folder.rglob("*"):
            if path.is_file():
                _fsync_file(path)
        fsync_dir(build.folder)
        final = self.builds / build.name.removeprefix(TEMPORARY_PREFIX)
        os.rename(build.folder, final)
        fsync_dir(self.builds)
        pointer = self.root / f"{CURRENT}.tmp"
        pointer.write_text(final.name + "\n", encoding="utf-8")
        _fsync_file(pointer)
        os.replace(pointer, self.current_file)
        fsync_dir(self.root)
        return final


def fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())
