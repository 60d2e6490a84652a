"""Where a study's results live: a local folder, a shared file system, or a storage URI.

Tune writes the trials there itself (`RunConfig(storage_path=...)` takes local paths and the
URIs pyarrow understands: `s3://`, `gs://`, `file://`, ...); this module writes the study's own
files beside them (spec, provenance, tidy table) through the same pyarrow file system, and
names the Optuna storage: an RDB URL (PostgreSQL for clusters) or, by default, SQLite in a
local file, so a study can be resumed and inspected with optuna-dashboard.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from pathlib import Path

import pyarrow.fs as pafs
from sqlalchemy.engine import make_url

from analysis.tidy import Location

DEFAULT_STORAGE = "study_results"
STORAGE_VARIABLE = "STUDY_STORAGE_PATH"


def is_uri(path: str) -> bool:
    return "://" in path


def storage_root(chosen: str) -> str:
    """A URI unchanged; a local path made absolute (Tune needs absolute paths)."""
    return chosen if is_uri(chosen) else str(Path(chosen).expanduser().resolve())


@dataclass
class ExperimentFiles:
    """One experiment's folder under a storage root, for the files the study writes itself."""

    root: str
    name: str

    @classmethod
    def at(cls, experiment: str) -> "ExperimentFiles":
        """The experiment a user names by its folder or URI."""
        path = experiment.rstrip("/")
        root, name = path.rsplit("/", 1) if "/" in path else (".", path)
        return cls(storage_root(root), name)

    def __post_init__(self) -> None:
        self.location = Location.parse(posixpath.join(self.root, self.name) if is_uri(self.root) else os.path.join(self.root, self.name))

    @property
    def path(self) -> str:
        """The experiment as a user names it: a local path or a URI."""
        return posixpath.join(self.root, self.name) if is_uri(self.root) else os.path.join(self.root, self.name)

    @property
    def local(self) -> Path | None:
        """The folder on this machine, when the storage is local."""
        return None if is_uri(self.root) else Path(self.path)

    def exists(self) -> bool:
        return self.location.filesystem.get_file_info(self.location.path).type == pafs.FileType.Directory

    def create(self) -> None:
        self.location.filesystem.create_dir(self.location.path, recursive=True)

    def write_text(self, relative: str, text: str) -> None:
        with self.location.filesystem.open_output_stream(self.location.join(relative)) as stream:
            stream.write(text.encode("utf-8"))

    def read_text(self, relative: str) -> str:
        return self.location.read_text(self.location.join(relative))

    def has(self, relative: str) -> bool:
        return self.location.exists(self.location.join(relative))

    def remove(self, relative: str) -> None:
        if self.has(relative):
            self.location.filesystem.delete_file(self.location.join(relative))


def optuna_storage_url(requested: str | None, experiment: ExperimentFiles, fallback_dir: str) -> str:
    """The spec's RDB URL, else SQLite in the experiment folder (local storage) or in `fallback_dir`."""
    if requested:
        return requested
    folder = experiment.local if experiment.local is not None else Path(fallback_dir).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    name = "optuna.db" if experiment.local is not None else f"{experiment.name}-optuna.db"
    return f"sqlite:///{folder / name}"


class StorageError(ValueError):
    """A results folder or Optuna database the study cannot use; the message names it (password masked)."""


def check_results_folder(root: str) -> None:
    """A local storage root must be creatable and writable by this user; URIs are Tune's and pyarrow's to check."""
    if is_uri(root):
        return
    path = Path(root)
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir():
        raise StorageError(f"storage path {root}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise StorageError(f"storage path {root}: {existing} is not writable by this user")


def check_optuna_storage(url: str, timeout_s: int = 5) -> None:
    """Before Ray starts: the database driver importable, the server answering within `timeout_s`."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import SQLAlchemyError

    parsed = make_url(url)
    shown = shown_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            check_results_folder(str(Path(database).expanduser().resolve().parent))
        return
    try:
        parsed.get_dialect().import_dbapi()
    except ImportError as error:
        extra = " (pip install 'weight-sensitivity-study[postgres]')" if parsed.get_backend_name() == "postgresql" else ""
        raise StorageError(f"search.storage {shown}: its database driver is not installed{extra}: {error}") from None
    connect_args = {"connect_timeout": timeout_s} if parsed.get_backend_name() in ("postgresql", "mysql") else {}
    try:
        engine = create_engine(url, connect_args=connect_args)
        with engine.connect():
            pass
        engine.dispose()
    except SQLAlchemyError as error:
        text = str(getattr(error, "orig", error)).strip()
        reason = text.splitlines()[0] if text else type(error).__name__
        if parsed.password:
            reason = reason.replace(parsed.password, "***")
        raise StorageError(f"search.storage {shown}: cannot connect within {timeout_s} s: {reason}") from None


def shown_url(url: str) -> str:
    """An RDB URL with its password masked, for files and logs."""
    return make_url(url).render_as_string(hide_password=True)
