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
