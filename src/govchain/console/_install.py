"""Mounts the console on the API's FastAPI application: `install_console`."""

from __future__ import annotations

import importlib
import logging

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from govchain.api._context import ApiContext
from govchain.console import _auth
from govchain.console._sessions import Sessions
from govchain.console._web import (
    PREFIX,
    STATIC,
    ConsoleState,
    Page,
    console_router,
    console_state,
    make_environment,
    render,
)
from govchain.console.i18n import Catalogs
from govchain.console.jobs import Jobs
from govchain.console.pages import PAGE_MODULES
from govchain.console.users import ROLES, User, UserStore

__all__ = [
    "ROLES",
    "Page",
    "User",
    "UserStore",
    "console_router",
    "console_state",
    "install_console",
    "render",
]

logger = logging.getLogger(__name__)


def install_console(app: FastAPI) -> None:
    """Add the console's routes and static files to `app`.

    `app.state.govchain` must already hold the API's `ApiContext`: the console
    uses its node, dataset store and clock.
    """
    context: ApiContext = app.state.govchain
    users = UserStore.of_home(context.node.home.path)
    state = ConsoleState(
        api=context,
        users=users,
        sessions=Sessions(users),
        catalogs=Catalogs.load(),
        env=make_environment(),
        jobs=Jobs(),
    )
    app.state.console = state
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="console-static")
    app.include_router(_auth.root_router)
    app.include_router(_auth.router)
    for name in PAGE_MODULES:
        page: Page = importlib.import_module(name).page
        state.pages.append(page)
        app.include_router(page.router)
    logger.debug("console installed with %d page groups", len(state.pages))
