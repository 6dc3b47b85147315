"""Console users and their roles, stored in `HOME/console.sqlite`.

A user has a login name, a role and a department hosted on the node. The
password is kept only as an Argon2id hash (argon2-cffi, RFC 9106), so a copy of
the file does not reveal it. Each user also has an opaque id (`u-` and 12 hex
digits): logs and the ledger name the user by that id, never by login name,
because a login name is often a person's name.

Failed logins are throttled per login name and per client address: after
`UserStore.FREE_FAILURES` failures in a row the name is locked for a minute,
and each further failure doubles the lock, up to an hour.
"""

from __future__ import annotations

import logging
import re
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from govchain.errors import ConfigError, ValidationError

logger = logging.getLogger(__name__)

#: Roles, in the order the console lists them.
ROLES = ("operator", "steward", "officer", "auditor")
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
MIN_PASSWORD_LENGTH = 10
FILE_NAME = "console.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    department TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS login_failures (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_ms INTEGER NOT NULL,
    locked_until_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    csrf TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    seen_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS actions (
    tx_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    action TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS actions_by_user ON actions (user_id);
"""


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class User:
    """A console user; `id` is the opaque name logs and the ledger use."""

    id: str
    username: str
    role: str
    department: str
    disabled: bool = False


class LoginRefused(ValidationError):
    """A login that failed: bad credentials, a disabled user or a throttled name.

    `reason` is `bad-credentials`, `disabled` or `throttled`; `retry_after_s`
    is set for `throttled`.
    """

    def __init__(self, message: str, *, reason: str, retry_after_s: int = 0) -> None:
        super().__init__(message, reason=reason)
        self.retry_after_s = retry_after_s


class UserStore:
    """The users, login throttle, sessions and action log of one node home."""

    #: Failures in a row before a login name is locked.
    FREE_FAILURES = 5
    #: Failures from one client address, across names, before it is locked.
    FREE_HOST_FAILURES = 20
    FIRST_LOCK_MS = 60_000
    MAX_LOCK_MS = 3_600_000
    #: Failures older than this are forgotten.
    FAILURE_MEMORY_MS = 15 * 60_000

    def __init__(self, path: Path, *, hasher: PasswordHasher | None = None) -> None:
        self.path = path
        self.hasher = hasher or PasswordHasher()
        # Verified against when the login name is unknown, so a probe for names
        # takes as long as a wrong password.
        self._dummy_hash = self.hasher.hash(secrets.token_hex(16))
        try:
            db = sqlite3.connect(self.path, timeout=10)
        except sqlite3.Error as exc:
            raise ConfigError(
                f"console user file {self.path} cannot be opened: {exc}",
                path=str(self.path),
            ) from exc
        try:
            db.executescript(_SCHEMA)
        finally:
            db.close()

    @classmethod
    def of_home(cls, home_path: Path) -> UserStore:
        return cls(home_path / FILE_NAME)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """Open a connection for one unit of work and commit it on success."""
        try:
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        except sqlite3.Error as exc:
            raise ConfigError(
                f"console user file {self.path} cannot be opened: {exc}",
                path=str(self.path),
            ) from exc
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    # -- users ------------------------------------------------------------------

    def add(self, username: str, password: str, role: str, department: str) -> User:
        """Create a user; raise `ValidationError` naming the bad field."""
        check_username(username)
        check_password(password)
        if role not in ROLES:
            raise ValidationError(
                f"role {role!r} is unknown; use one of {', '.join(ROLES)}",
                reason="bad-role",
            )
        user = User(f"u-{secrets.token_hex(6)}", username, role, department)
        password_hash = self.hasher.hash(password)
        with self.connect() as db:
            if self._row(db, username) is not None:
                raise ValidationError(
                    f"user {username!r} exists already; choose another login name "
                    "or change its password with `govchain user set-password`",
                    reason="user-exists",
                )
            db.execute(
                "INSERT INTO users VALUES (?, ?, ?, ?, ?, 0, ?)",
                (user.id, username, role, department, password_hash, now_ms()),
            )
        logger.info("console user %s added as %s of %s", user.id, role, department)
        return user

    def get(self, username: str) -> User | None:
        with self.connect() as db:
            row = self._row(db, username)
        return None if row is None else _user(row)

    def by_id(self, user_id: str) -> User | None:
        with self.connect() as db:
            row = db.execute(
                "SELECT id, username, role, department, disabled FROM users "
                "WHERE id = ?",
                (user_id,),
            ).fetchone()
        return None if row is None else _user(row)

    def list(self) -> list[User]:
        with self.connect() as db:
            rows = db.execute(
                "SELECT id, username, role, department, disabled FROM users "
                "ORDER BY username"
            ).fetchall()
        return [_user(row) for row in rows]

    def set_password(self, username: str, password: str) -> User:
        """Replace a user's password and end the user's sessions."""
        check_password(password)
        password_hash = self.hasher.hash(password)
        with self.connect() as db:
            user = self._existing(db, username)
            db.execute(
                "UPDATE users SET password_hash = ? WHERE id = ?",
                (password_hash, user.id),
            )
            db.execute("DELETE FROM sessions WHERE user_id = ?", (user.id,))
            db.execute(
                "DELETE FROM login_failures WHERE key = ?", (f"user:{username}",)
            )
        logger.info("password of console user %s changed", user.id)
        return user

    def disable(self, username: str) -> User:
        """Disable a user: the user cannot log in and loses every session."""
        with self.connect() as db:
            user = self._existing(db, username)
            db.execute("UPDATE users SET disabled = 1 WHERE id = ?", (user.id,))
            db.execute("DELETE FROM sessions WHERE user_id = ?", (user.id,))
        logger.info("console user %s disabled", user.id)
        return user

    def _row(self, db: sqlite3.Connection, username: str) -> tuple[object, ...] | None:
        row: tuple[object, ...] | None = db.execute(
            "SELECT id, username, role, department, disabled FROM users "
            "WHERE username = ?",
            (username,),
        ).fetchone()
        return row

    def _existing(self, db: sqlite3.Connection, username: str) -> User:
        row = self._row(db, username)
        if row is None:
            raise ValidationError(
                f"user {username!r} does not exist; list users with "
                "`govchain user list`",
                reason="unknown-user",
            )
        return _user(row)

    # -- logging in -------------------------------------------------------------

    def authenticate(self, username: str, password: str, client: str) -> User:
        """Return the user when the password matches, else raise `LoginRefused`.

        A throttled name or address is refused before the password is checked.
        Every outcome is logged with the user id (when the name is known) and
        the client address, never the name typed or the password.
        """
        now = now_ms()
        keys = (f"user:{username}", f"host:{client}")
        with self.connect() as db:
            locked_for = max(self._locked_for(db, key, now) for key in keys)
            row = db.execute(
                "SELECT id, username, role, department, disabled, password_hash "
                "FROM users WHERE username = ?",
                (username,),
            ).fetchone()
        if locked_for:
            logger.warning("console login from %s throttled", client)
            raise LoginRefused(
                "too many failed logins", reason="throttled", retry_after_s=locked_for
            )
        if not self._password_matches(row[5] if row else None, password):
            with self.connect() as db:
                self._count_failure(db, keys[0], self.FREE_FAILURES, now)
                self._count_failure(db, keys[1], self.FREE_HOST_FAILURES, now)
            who = row[0] if row else "with an unknown login name"
            logger.warning("console login of user %s from %s failed", who, client)
            raise LoginRefused("wrong login name or password", reason="bad-credentials")
        user = _user(row[:5])
        if user.disabled:
            logger.warning("console login of disabled user %s from %s", user.id, client)
            raise LoginRefused("user is disabled", reason="disabled")
        with self.connect() as db:
            db.execute("DELETE FROM login_failures WHERE key = ?", (keys[0],))
            if self.hasher.check_needs_rehash(str(row[5])):
                db.execute(
                    "UPDATE users SET password_hash = ? WHERE id = ?",
                    (self.hasher.hash(password), user.id),
                )
        logger.info(
            "console login of user %s (%s of %s) from %s",
            user.id,
            user.role,
            user.department,
            client,
        )
        return user

    def _password_matches(self, stored: object, password: str) -> bool:
        try:
            return self.hasher.verify(
                str(stored) if stored else self._dummy_hash, password
            ) and bool(stored)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _locked_for(self, db: sqlite3.Connection, key: str, now: int) -> int:
        row = db.execute(
            "SELECT locked_until_ms FROM login_failures WHERE key = ?", (key,)
        ).fetchone()
        if row is None or row[0] <= now:
            return 0
        return max(1, (int(row[0]) - now + 999) // 1000)

    def _count_failure(
        self, db: sqlite3.Connection, key: str, free: int, now: int
    ) -> None:
        row = db.execute(
            "SELECT failures, last_ms FROM login_failures WHERE key = ?", (key,)
        ).fetchone()
        failures = 1
        if row is not None and now - row[1] < self.FAILURE_MEMORY_MS:
            failures = row[0] + 1
        locked_until = 0
        if failures >= free:
            lock = min(self.FIRST_LOCK_MS * 2 ** (failures - free), self.MAX_LOCK_MS)
            locked_until = now + lock
        db.execute(
            "INSERT OR REPLACE INTO login_failures VALUES (?, ?, ?, ?)",
            (key, failures, now, locked_until),
        )


def check_username(username: str) -> None:
    if not USERNAME_RE.match(username):
        raise ValidationError(
            "login name must be 2 to 32 characters: lower-case letters, digits, "
            "'.', '_' or '-', starting with a letter or digit",
            reason="bad-username",
        )


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"password is {len(password)} characters; use at least "
            f"{MIN_PASSWORD_LENGTH}",
            reason="weak-password",
        )


def _user(row: tuple[object, ...]) -> User:
    return User(
        id=str(row[0]),
        username=str(row[1]),
        role=str(row[2]),
        department=str(row[3]),
        disabled=bool(row[4]),
    )
