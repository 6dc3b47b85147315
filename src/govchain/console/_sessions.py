"""Console sessions and the log of what each user submitted.

A session is a random token in an HttpOnly cookie. The file keeps only its
SHA-256, so a copy of `console.sqlite` cannot be used to log in. Each session
has its own CSRF token, which every form that changes something must send back.
A session ends after `IDLE_MS` without a request or `MAX_AGE_MS` in all.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass

from govchain.console.users import User, UserStore, now_ms

logger = logging.getLogger(__name__)

IDLE_MS = 30 * 60_000
MAX_AGE_MS = 12 * 3_600_000


@dataclass(frozen=True)
class Session:
    """A logged-in user and the CSRF token of the session."""

    user: User
    csrf: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Sessions:
    """Sessions and actions, kept in the same file as the users."""

    def __init__(self, users: UserStore) -> None:
        self.users = users

    def open(self, user: User) -> tuple[str, Session]:
        """Start a session for `user`; return the cookie token and the session."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = now_ms()
        with self.users.connect() as db:
            db.execute(
                "DELETE FROM sessions WHERE seen_ms < ? OR created_ms < ?",
                (now - IDLE_MS, now - MAX_AGE_MS),
            )
            db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                (_hash(token), user.id, csrf, now, now),
            )
        return token, Session(user, csrf)

    def find(self, token: str | None) -> Session | None:
        """Return the live session of cookie `token` and mark it seen, or None."""
        if not token:
            return None
        now = now_ms()
        with self.users.connect() as db:
            row = db.execute(
                "SELECT users.id, username, role, department, disabled, csrf, "
                "sessions.created_ms, seen_ms FROM sessions JOIN users ON users.id = user_id "
                "WHERE token_hash = ?",
                (_hash(token),),
            ).fetchone()
            if row is None:
                return None
            if row[4] or now - row[7] > IDLE_MS or now - row[6] > MAX_AGE_MS:
                db.execute("DELETE FROM sessions WHERE token_hash = ?", (_hash(token),))
                return None
            db.execute(
                "UPDATE sessions SET seen_ms = ? WHERE token_hash = ?",
                (now, _hash(token)),
            )
        user = User(str(row[0]), str(row[1]), str(row[2]), str(row[3]), bool(row[4]))
        return Session(user, str(row[5]))

    def close(self, token: str | None) -> None:
        if token:
            with self.users.connect() as db:
                db.execute("DELETE FROM sessions WHERE token_hash = ?", (_hash(token),))

    def record_action(self, user: User, tx_id: str, action: str) -> None:
        """Note that `user` submitted transaction `tx_id`, for the audit by person."""
        with self.users.connect() as db:
            db.execute(
                "INSERT INTO actions VALUES (?, ?, ?, ?)",
                (tx_id, user.id, action, now_ms()),
            )

    def transactions_of(self, user_id: str) -> set[str]:
        """Return the ids of the transactions `user_id` submitted in the console."""
        with self.users.connect() as db:
            rows = db.execute(
                "SELECT tx_id FROM actions WHERE user_id = ?", (user_id,)
            ).fetchall()
        return {str(row[0]) for row in rows}

    def actors(self, tx_ids: list[str]) -> dict[str, str]:
        """Return `{tx_id: user_id}` for the given transactions submitted here."""
        found: dict[str, str] = {}
        with self.users.connect() as db:
            for start in range(0, len(tx_ids), 500):
                chunk = tx_ids[start : start + 500]
                marks = ", ".join("?" for _ in chunk)
                rows = db.execute(
                    f"SELECT tx_id, user_id FROM actions WHERE tx_id IN ({marks})",
                    chunk,
                ).fetchall()
                found.update({str(tx): str(user) for tx, user in rows})
        return found
