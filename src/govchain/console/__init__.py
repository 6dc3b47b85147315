"""The web console: department staff's daily work in the browser.

The console is served under `/console` by the same FastAPI application as the
API (`install_console`, called by `govchain.api.create_app`). Pages are
rendered on the server from Jinja2 templates. The node itself serves the
styles, the one script and the charts (SVG drawn on the server), so the
console works on a network without internet. Text is Simplified Chinese by
default and English by a switch.

Users, roles and sessions are in `HOME/console.sqlite` (see `users`); roles are
`operator`, `steward`, `officer` and `auditor`, each in a department hosted on
the node, whose key signs what the user does.

## Adding a page group

An area (for example `certificates`) adds four things:

1. A module `govchain/console/certificates.py` that builds its router with
   `console_router("/certificates")` and defines `page = Page(...)` with the
   navigation label key, the path, the roles that see the entry and an order.
   Each route states who may use it with `require(...)` from
   `govchain.console._auth` (or `Viewer` for any logged-in user, `Poster` for
   a form post of any user); `require(..., post=True)` also checks the CSRF
   token, which every form sends as the hidden field `csrf`.
   Render with `render(request, "certificates/index.html", **context)`.
2. Templates under `templates/certificates/`, extending `base.html` and
   filling its `content` block. Every visible string goes through `t("key")`.
3. A message catalog `messages/certificates.toml` whose keys start with the
   area name, each with `zh-CN` and `en` text (see `govchain.console.i18n`).
   The navigation label and the `action.<code>` messages of refused actions
   go there too.
4. One line naming the module in `PAGE_MODULES` of `govchain.console.pages`.

Long work runs through `console_state(request).jobs.start(...)`; the page
polls `/console/jobs/<id>` (see `govchain.console.jobs`).
"""

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
