"""Administration console: staff accounts, dispatch API tokens and the audit log.

Admins only, on every page (the blueprint checks too, so a route added without the
decorator is still closed). Admins run accounts; they never see a safety profile or a
camera registration, and nothing here links to one.
"""

from __future__ import annotations

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.errors import AccountError
from ..accounts.forms import EmptyForm
from ..i18n import BY_CODE
from ..models import Role
from ..models.types import utcnow
from ..phones import display, masked
from ..security import role_required
from ..views import attach_error
from . import audit_log, bp, services, tokens
from .forms import ROLE_LABELS, AuditFilterForm, RoleForm, StaffAccountForm, TokenForm
from .services import ALL_ROLES


@bp.before_request
@role_required(Role.ADMIN)
def admins_only():
    return None  # role_required has already refused everyone else


@bp.context_processor
def admin_helpers():
    return {
        "role_label": lambda role: ROLE_LABELS[Role(role)],
        "role_labels": ROLE_LABELS,
        "language_name": lambda code: BY_CODE[code].name if code in BY_CODE else code,
        "show_phone": display,
        "masked_phone": masked,
    }


def _page_arg() -> int:
    try:
        return int(request.args.get("page", "1"))
    except ValueError:
        return 1


@bp.route("/")
@role_required(Role.ADMIN)
def index():
    return render_template("admin/index.html")


# --- staff accounts ------------------------------------------------------------------------


@bp.route("/accounts")
@role_required(Role.ADMIN)
def accounts():
    filters = {"role": request.args.get("role", ""), "phone": request.args.get("phone", "")[:40]}
    page = services.list_accounts(**filters, page=_page_arg())
    return render_template("admin/accounts.html", page=page, filters=filters,
                           all_roles=ALL_ROLES)  # fmt: skip


@bp.route("/accounts/new", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def new_account():
    form = StaffAccountForm()
    if form.validate_on_submit():
        try:
            user = services.create_staff(
                phone=form.phone.e164,
                role=Role(form.role.data),
                password=form.password.data,
                locale=form.locale.data,
            )
        except AccountError as error:
            attach_error(form, error)
        else:
            flash(_("The account is created. Give the temporary password to its holder in "
                    "person; they sign in with it and their phone number."), "success")  # fmt: skip
            return redirect(url_for("admin.account", user_id=user.id))
    return render_template("admin/new_account.html", form=form)


@bp.route("/accounts/<int:user_id>")
@role_required(Role.ADMIN)
def account(user_id: int):
    try:
        user = services.open_account(current_user, user_id)
    except services.NotFound:
        abort(404)
    return render_template("admin/account.html", user=user, role_form=RoleForm(role=user.role))


def _account_action(user_id: int, action, form, done: str):
    """Run ``action`` for a POSTed form, say how it went, and go back to the account."""
    if form.validate_on_submit():
        try:
            action()
        except services.NotFound:
            abort(404)
        except AccountError as error:
            flash(str(error.message), "error")
        else:
            flash(done, "success")
    return redirect(url_for("admin.account", user_id=user_id))


@bp.route("/accounts/<int:user_id>/role", methods=["POST"])
@role_required(Role.ADMIN)
def change_role(user_id: int):
    form = RoleForm()
    return _account_action(
        user_id,
        lambda: services.change_user_role(current_user, user_id, Role(form.role.data)),
        form,
        _("The role is changed. The account was signed out everywhere."),
    )


@bp.route("/accounts/<int:user_id>/disable", methods=["POST"])
@role_required(Role.ADMIN)
def disable(user_id: int):
    return _account_action(
        user_id,
        lambda: services.disable_account(current_user, user_id),
        EmptyForm(),
        _("The account is disabled and was signed out everywhere."),
    )


@bp.route("/accounts/<int:user_id>/second-factor/reset", methods=["POST"])
@role_required(Role.ADMIN)
def reset_second_factor(user_id: int):
    return _account_action(
        user_id,
        lambda: services.reset_second_factor(current_user, user_id),
        EmptyForm(),
        _("Two-step verification is reset and the account was signed out everywhere. Its "
          "holder sets up the app again at the next sign-in."),
    )  # fmt: skip


@bp.route("/accounts/<int:user_id>/enable", methods=["POST"])
@role_required(Role.ADMIN)
def enable(user_id: int):
    return _account_action(
        user_id,
        lambda: services.enable_account(current_user, user_id),
        EmptyForm(),
        _("The account is enabled. Its holder can sign in again."),
    )


# --- dispatch API tokens -------------------------------------------------------------------


@bp.route("/tokens", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def api_tokens():
    form = TokenForm()
    created = None
    if form.validate_on_submit():
        # Rendered, not redirected: the token must not travel in a flash (the cookie).
        created = tokens.create_token(current_user, agency=form.agency.data, name=form.name.data)
        form = TokenForm(formdata=None)
    return render_template("admin/tokens.html", form=form, tokens=tokens.list_tokens(),
                           created=created)  # fmt: skip


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@role_required(Role.ADMIN)
def revoke_token(token_id: int):
    if EmptyForm().validate_on_submit():
        try:
            tokens.revoke_token(current_user, token_id)
        except services.NotFound:
            abort(404)
        flash(_("The token is revoked. It no longer works."), "success")
    return redirect(url_for("admin.api_tokens"))


# --- the audit log -------------------------------------------------------------------------


@bp.route("/audit")
@role_required(Role.ADMIN)
def audit():
    form = AuditFilterForm(formdata=request.args)
    if request.args:
        form.validate()
    filters = form.filters()
    return render_template("admin/audit.html", form=form, filters=filters,
                           page=audit_log.browse(filters, _page_arg()))  # fmt: skip


@bp.route("/audit/export", methods=["POST"])
@role_required(Role.ADMIN)
def export_audit():
    form = AuditFilterForm(formdata=request.form)
    if not EmptyForm().validate_on_submit() or not form.validate():
        return redirect(url_for("admin.audit", **form.filters().as_args()))
    lines = audit_log.export_csv(current_user, form.filters())
    filename = f"audit-log-{utcnow():%Y%m%d-%H%M%S}.csv"
    return Response(
        stream_with_context(lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/audit/verify", methods=["POST"])
@role_required(Role.ADMIN)
def verify_audit():
    if EmptyForm().validate_on_submit():
        report = audit_log.verify(current_user)
        if report.ok:
            flash(_("The audit log is intact: %(num)d events checked.", num=report.checked),
                  "success")  # fmt: skip
        else:
            flash(_("The audit log is broken at event %(id)d. The %(num)d events before it are "
                    "intact.", id=report.first_bad_id, num=report.checked), "error")  # fmt: skip
    return redirect(url_for("admin.audit"))
