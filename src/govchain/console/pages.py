"""The registration point of console page groups.

Each module named here defines `page`, a `govchain.console.Page`; the console
includes its router and lists it in the navigation. Add one line per area.
"""

PAGE_MODULES = (
    "govchain.console.overview",
    "govchain.console.catalog",
    "govchain.console.requests",
    "govchain.console.audit",
    "govchain.console.ledger",
    "govchain.console.consortium",
    "govchain.console.governance",
    "govchain.console.archive",
    "govchain.console.certificates",
)
