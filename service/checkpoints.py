"""SQLite's WAL checkpoints on a thread of their own, off the write path.

In WAL mode every commit appends to the write-ahead log, and by default the commit that takes
the log past 1,000 pages also copies the log back into the database file (a checkpoint) before
it returns, while its writer still holds this process's write lock. The write bench saw those
commits as the lock's longest holds (tens of milliseconds against about five), and every writer
queued behind them waited as long.

Here a thread with its own connection runs a PASSIVE checkpoint every ``INTERVAL`` seconds: it
copies what it can without waiting for or blocking anyone, so writers never checkpoint in
their normal run. The connections of the same ``Database`` raise their automatic checkpoint
to ``FALLBACK_PAGES``, which is only reached if this thread stops keeping up.
"""

from __future__ import annotations

import sqlite3
import threading

import structlog

log = structlog.get_logger("entente.db")

INTERVAL = 0.2  # seconds; at a few hundred writes a second, a few hundred pages each time
FALLBACK_PAGES = 20_000  # the writers' own automatic checkpoint (about 80 MB of log)


class Checkpointer:
    """Runs ``PRAGMA wal_checkpoint(PASSIVE)`` on ``path`` every ``interval`` seconds."""

    def __init__(self, path: str, *, interval: float = INTERVAL) -> None:
        self.path = path
        self.interval = interval
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.starting = threading.Lock()

    def start(self) -> None:
        """Start the thread, once; later calls do nothing."""
        with self.starting:
            if self.thread is not None or self.stopping.is_set():
                return
            self.thread = threading.Thread(
                target=self.run, name=f"wal checkpoints {self.path}", daemon=True
            )
            self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        with self.starting:
            thread = self.thread
        if thread is not None:
            thread.join(timeout=5)

    def run(self) -> None:
        try:
            connection = sqlite3.connect(self.path, isolation_level=None)
        except sqlite3.Error as error:
            log.warning("cannot open the database for checkpoints", error=str(error))
            return
        try:
            while not self.stopping.wait(self.interval):
                self.checkpoint(connection)
        finally:
            connection.close()

    @staticmethod
    def checkpoint(connection: sqlite3.Connection) -> None:
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as error:  # the file went away, a disk error: try again later
            log.warning("WAL checkpoint failed", error=str(error))


def file_path(database: str | None) -> str | None:
    """The file behind a SQLite URL's database part; None for an in-memory database or a
    ``file:`` URI, which keep SQLite's own checkpoints."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return database
