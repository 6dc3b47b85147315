"""`govchain user`: add, list, set-password and disable, run as a process."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from tests.cli_support import run_govchain
from typer.testing import CliRunner, Result

import govchain.data as packaged_data
from govchain.cli._app import app
from govchain.console.users import LoginRefused, UserStore
from govchain.errors import ValidationError

PASSWORD = "a-long-enough-password"


def govchain(
    home: Path, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return run_govchain(*args, home=home, stdin=stdin)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One node home for the module; each test uses its own login names."""
    path = tmp_path_factory.mktemp("user-cli") / "home"
    consortium = Path(packaged_data.__file__).parent / "consortium" / "demo.toml"
    result = govchain(
        path, "init", "--consortium", str(consortium), "--insecure-dev-keys"
    )
    assert result.returncode == 0, result.stderr
    return path


def run(home: Path, *args: str, stdin: str = "") -> Result:
    """Run a command in this process, which is quicker than a new interpreter."""
    return CliRunner().invoke(app, ["--home", str(home), *args], input=stdin)


def test_user_add_and_list(home: Path) -> None:
    added = govchain(
        home,
        "user",
        "add",
        "li.wei",
        "--role",
        "steward",
        "--department",
        "city-health",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert added.returncode == 0, added.stderr
    listed = run(home, "user", "list")
    assert listed.exit_code == 0, listed.output
    assert "li.wei" in listed.output
    assert "steward" in listed.output
    user = UserStore.of_home(home).authenticate("li.wei", PASSWORD, "test")
    assert user.department == "city-health"


def test_user_add_unhosted_department(home: Path) -> None:
    result = run(
        home,
        "user",
        "add",
        "zhao",
        "--role",
        "officer",
        "--department",
        "no-such-dept",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert isinstance(result.exception, ValidationError)
    assert "not hosted on this node" in str(result.exception)


def test_user_add_short_password(home: Path) -> None:
    result = run(
        home,
        "user",
        "add",
        "zhao",
        "--role",
        "officer",
        "--department",
        "city-cdc",
        "--password-stdin",
        stdin="short\n",
    )
    assert isinstance(result.exception, ValidationError)
    assert "use at least 10" in str(result.exception)
    assert "short" not in str(result.exception)


def test_user_add_bad_role(home: Path) -> None:
    result = run(
        home,
        "user",
        "add",
        "zhao",
        "--role",
        "admin",
        "--department",
        "city-cdc",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert isinstance(result.exception, ValidationError)
    assert "role 'admin' is unknown" in str(result.exception)


def test_user_set_password_and_disable(home: Path) -> None:
    store = UserStore.of_home(home)
    store.add("qian", PASSWORD, "auditor", "city-bdb")
    changed = run(
        home,
        "user",
        "set-password",
        "qian",
        "--password-stdin",
        stdin="another-password\n",
    )
    assert changed.exit_code == 0, changed.output
    assert store.authenticate("qian", "another-password", "test").role == "auditor"
    disabled = run(home, "user", "disable", "qian")
    assert disabled.exit_code == 0, disabled.output
    with pytest.raises(LoginRefused, match="disabled"):
        store.authenticate("qian", "another-password", "test")


def test_user_store_keeps_no_password(home: Path) -> None:
    store = UserStore.of_home(home)
    store.add("sun", PASSWORD, "officer", "city-cdc")
    data = (home / "console.sqlite").read_bytes()
    assert PASSWORD.encode() not in data
    assert b"$argon2id$" in data
