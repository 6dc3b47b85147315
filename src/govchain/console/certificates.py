"""Certificate pages: the registry, issuance and status, and public verification.

- `/console/certificates`: certificate types, authorized issuers and signing
  keys for every role. The operator defines types and authorizes issuers, and
  an issuer department's staff see their certificates and change their status.
- `/console/certificates/issue`: an issuer's staff issue one certificate and
  get its QR code and printable card.
- `/console/certificates/verify`: public, without login. It verifies a photo
  of the QR code (a phone's file picker offers the camera), pasted QR text, or
  looks a holder up by ID number (masked results, rate-limited per client
  address and recorded).
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Annotated, Any

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from govchain.api._certs import RateLimiter, _with_status
from govchain.api._certs import _service as certificate_service
from govchain.audit import format_time
from govchain.certs import (
    CertificateError,
    CertificateService,
    Holder,
    card_pdf,
    decode_image_bytes,
    qr_png,
    trust_from_state,
    verify_text,
)
from govchain.certs._handlers import (
    CERT_NS,
    ISSUER_NS,
    KEY_NS,
    REASON_CODES,
    TEMPLATE_NS,
)
from govchain.certs.qrtext import MAX_TEXT_CHARS, strip_scanner_newline
from govchain.certs.verify import Verdict
from govchain.console._auth import require
from govchain.console._sessions import Session
from govchain.console._web import (
    Page,
    act,
    client_host,
    console_router,
    console_state,
    error_text,
    render,
    translator,
)
from govchain.errors import ValidationError
from govchain.ledger.store import LedgerStore

logger = logging.getLogger(__name__)

router = console_router("/certificates")
VIEW_ROLES = ("operator", "steward", "officer", "auditor")
ISSUE_ROLES = ("steward", "officer")
page = Page(
    area="certificates",
    router=router,
    label="certificates.nav",
    path="/console/certificates",
    roles=frozenset(VIEW_ROLES),
    order=50,
)
#: Public lookups by ID number per client address and minute.
PUBLIC_LOOKUPS_PER_MINUTE = 10
MAX_IMAGE_BYTES = 8 * 1024 * 1024
LIST_LIMIT = 200
_public_lookups = RateLimiter(PUBLIC_LOOKUPS_PER_MINUTE)


def _now(request: Request) -> int:
    return console_state(request).api.clock() // 1000


def _registry(store: LedgerStore, department: str) -> dict[str, Any]:
    templates = []
    for _key, record in store.scan(TEMPLATE_NS):
        current = record["versions"][str(record["current"])]
        templates.append({**current, "version": record["current"]})
    issuers = [r for _k, r in store.scan(ISSUER_NS) if r["types"]]
    keys = [r for _k, r in store.scan(KEY_NS)]
    # TODO: this reads every certificate on the ledger; an index by issuer is
    # needed once departments hold hundreds of thousands.
    mine = [r for _k, r in store.scan(CERT_NS) if r["issuer"] == department]
    authorization = store.get(ISSUER_NS, department)
    return {
        "templates": templates,
        "issuers": issuers,
        "keys": keys,
        "mine": mine[-LIST_LIMIT:][::-1],
        "my_types": authorization["types"] if authorization else [],
    }


def _index(
    request: Request,
    session: Session,
    *,
    notice: str = "",
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    api = console_state(request).api
    data = api.read(lambda store: _registry(store, session.user.department))
    now = _now(request)
    for record in data["mine"]:
        record["shown_status"] = record["status"]
        if record["status"] == "valid" and now > record["exp"]:
            record["shown_status"] = "expired"
    return render(
        request,
        "certificates/index.html",
        status_code=status,
        title_key="certificates.title",
        notice=notice,
        error=error,
        reasons=REASON_CODES,
        format_time=lambda ms: format_time(ms),
        seconds=lambda s: format_time(s * 1000),
        **data,
    )


@router.get("", response_class=HTMLResponse)
def index_page(
    request: Request,
    session: Annotated[Session, require(*VIEW_ROLES, action="certificates.view")],
    notice: str = "",
) -> HTMLResponse:
    """Show types, issuers and keys, and the department's own certificates."""
    return _index(request, session, notice=notice)


@router.post("/templates", response_model=None)
def define_template(
    request: Request,
    session: Annotated[
        Session, require("operator", action="certificates.define", post=True)
    ],
    template: Annotated[str, Form()] = "",
) -> Response:
    """Define a certificate type (or its next version) from JSON."""
    t = translator(request)
    try:
        parsed = json.loads(template)
    except json.JSONDecodeError as exc:
        return _index(
            request,
            session,
            error=t("certificates.bad_json", detail=str(exc)),
            status=422,
        )
    try:
        version = act(
            request,
            session.user,
            "certificates.define",
            lambda node: CertificateService(node).define_template(parsed),
        )
    except ValidationError as exc:
        return _index(request, session, error=error_text(request, exc), status=422)
    notice = t("certificates.defined", type=parsed.get("id"), version=version)
    return _index(request, session, notice=notice)


@router.post("/issuers", response_model=None)
def authorize_issuer(
    request: Request,
    session: Annotated[
        Session, require("operator", action="certificates.authorize", post=True)
    ],
    department: Annotated[str, Form()] = "",
    types: Annotated[str, Form()] = "",
) -> Response:
    """Set the types a department may issue."""
    t = translator(request)
    chosen = [x.strip() for x in types.replace("，", ",").split(",") if x.strip()]
    try:
        act(
            request,
            session.user,
            "certificates.authorize",
            lambda node: CertificateService(node).authorize_issuer(
                department.strip(), chosen
            ),
        )
    except ValidationError as exc:
        return _index(request, session, error=error_text(request, exc), status=422)
    notice = t(
        "certificates.authorized", department=department, types=", ".join(chosen) or "-"
    )
    return _index(request, session, notice=notice)


def _issue_form(
    request: Request,
    session: Session,
    cert_type: str,
    *,
    values: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    department = session.user.department
    data = console_state(request).api.read(lambda store: _registry(store, department))
    chosen = (
        cert_type if cert_type in data["my_types"] else (data["my_types"] or [""])[0]
    )
    template = next((x for x in data["templates"] if x["id"] == chosen), None)
    return render(
        request,
        "certificates/issue.html",
        status_code=status,
        title_key="certificates.issue",
        types=data["my_types"],
        chosen=chosen,
        form_template=template,
        department=department,
        values=values or {},
        error=error,
    )


@router.get("/issue", response_class=HTMLResponse)
def issue_page(
    request: Request,
    session: Annotated[Session, require(*ISSUE_ROLES, action="certificates.issue")],
    type: str = "",
) -> HTMLResponse:
    """Show the issuance form of one certificate type."""
    return _issue_form(request, session, type)


def _claim_value(kind: str, raw: str) -> Any:
    if kind == "boolean":
        return raw == "true"
    if kind == "integer" and raw.strip().lstrip("-").isdigit():
        return int(raw)
    return raw.strip()


@router.post("/issue", response_model=None)
async def issue(
    request: Request,
    session: Annotated[
        Session, require(*ISSUE_ROLES, action="certificates.issue", post=True)
    ],
) -> Response:
    """Issue one certificate and show its QR code and card."""
    # 1. Read the form and the type's template.
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if k != "csrf"}
    cert_type = values.get("type", "")
    department = session.user.department
    data = console_state(request).api.read(lambda store: _registry(store, department))
    template = next((x for x in data["templates"] if x["id"] == cert_type), None)
    if template is None or cert_type not in data["my_types"]:
        return _issue_form(
            request,
            session,
            cert_type,
            values=values,
            status=422,
            error=translator(request)("certificates.not_issuer"),
        )

    # 2. Build the holder's claims from the template's fields.
    claims = {
        c["name"]: _claim_value(c["type"], values.get(f"claim_{c['name']}", ""))
        for c in template["claims"]
        if values.get(f"claim_{c['name']}", "") != "" or c["type"] == "boolean"
    }
    holder = Holder(values.get("holder_id", ""), values.get("holder_name", ""), claims)

    # 3. Sign, record and index it, then render the QR code and the card.
    now = _now(request)
    try:
        issued = act(
            request,
            session.user,
            "certificates.issue",
            lambda node: CertificateService(node).issue(
                department, cert_type, [holder], now=now
            ),
        )[0]
    except ValidationError as exc:
        values.pop("holder_id", None)
        return _issue_form(
            request,
            session,
            cert_type,
            values=values,
            status=422,
            error=error_text(request, exc),
        )
    dept = (
        console_state(request).api.read(lambda store: store.get("dept", department))
        or {}
    )
    pdf = card_pdf(issued, issuer_name=dept.get("name", ""))
    return render(
        request,
        "certificates/issued.html",
        title_key="certificates.issued_title",
        cert=issued,
        png=base64.b64encode(qr_png(issued.qr_text)).decode("ascii"),
        pdf=base64.b64encode(pdf).decode("ascii"),
    )


@router.post("/{cert_id}/status", response_model=None)
def change_status(
    cert_id: str,
    request: Request,
    session: Annotated[
        Session, require(*ISSUE_ROLES, action="certificates.status", post=True)
    ],
    status: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Suspend, reinstate or revoke a certificate of the user's department."""
    t = translator(request)
    try:
        act(
            request,
            session.user,
            "certificates.status",
            lambda node: CertificateService(node).set_status(
                session.user.department, cert_id, status, reason
            ),
        )
    except ValidationError as exc:
        return _index(request, session, error=error_text(request, exc), status=422)
    notice = t(
        "certificates.changed", id=cert_id, status=t(f"certificates.status_{status}")
    )
    return _index(request, session, notice=notice)


# -- public verification ---------------------------------------------------------


def _verify_page(
    request: Request, *, status: int = 200, **context: Any
) -> HTMLResponse:
    return render(
        request,
        "certificates/verify.html",
        status_code=status,
        title_key="certificates.verify",
        max_text=MAX_TEXT_CHARS,
        **context,
    )


@router.get("/verify", response_class=HTMLResponse)
def verify_page(request: Request) -> HTMLResponse:
    """Show the public verification form: QR photo or text, or an ID number."""
    return _verify_page(request)


@router.post("/verify", response_class=HTMLResponse)
async def verify(
    request: Request,
    image: Annotated[UploadFile | None, File()] = None,
    qr_text: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """Verify a QR photo or QR text against the ledger, without login."""
    t = translator(request)
    text = strip_scanner_newline(qr_text.strip("\r\n"))[: MAX_TEXT_CHARS + 16]
    verdict: Verdict | None = None
    if image is not None and image.filename:
        data = await image.read(MAX_IMAGE_BYTES + 1)
        try:
            if len(data) > MAX_IMAGE_BYTES:
                raise CertificateError("image", "the image is larger than 8 MiB")
            text = decode_image_bytes(data, source="the photo")
        except CertificateError as exc:
            verdict = Verdict(code=exc.code, message=str(exc), steps={"image": False})
    if verdict is None and not text:
        return _verify_page(request, status=422, error=t("certificates.no_input"))
    if verdict is None:
        api = console_state(request).api
        trust = api.read(trust_from_state)
        verdict = verify_text(text, trust, at=_now(request))
    logger.info(
        "public verification from %s: %s", client_host(request), verdict.code or "valid"
    )
    return _verify_page(request, verdict=verdict.to_dict())


@router.post("/lookup", response_class=HTMLResponse)
def lookup(request: Request, id_number: Annotated[str, Form()] = "") -> HTMLResponse:
    """Look a holder up by ID number, without login; masked and recorded."""
    t = translator(request)
    client = client_host(request)
    if not _public_lookups.allow(client):
        logger.warning("public certificate lookups from %s over the limit", client)
        return _verify_page(request, status=429, error=t("certificates.rate_limited"))
    api = console_state(request).api
    try:
        found = certificate_service(api.node).lookup(
            id_number[:32], requester="public", client=client
        )
    except ValidationError as exc:
        return _verify_page(request, status=422, error=error_text(request, exc))
    now = _now(request)
    results = api.read(
        lambda store: [_with_status(store, e.to_dict(), now) for e in found]
    )
    for record in results:
        record["expires"] = format_time(record["expires_at"] * 1000)
    return _verify_page(request, results=results, looked_up=True)
