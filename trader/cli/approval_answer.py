"""What an approver's answer means: orders named by row or id prefix, edits, the approver.

Orders are named by their row number in the proposed-orders table (1, 2, ...) or by a unique
prefix of their client order id (`mat-3fa2b1c0…`, with or without `mat-`). Row numbers win when
a token could be both. Orders not named are approved only with `--all`; otherwise rejected
(the resume schema as is: `approve_all` plus per-order `decisions`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agents.risk.models import ProposedOrder
from core.errors import ConfigurationError
from graphs.nodes.approval import Action, ApprovalResponse, OrderDecision
from trader.cli import render

# --- naming orders -------------------------------------------------------------------------


MIN_ID_PREFIX = 4
"""Characters of an order id (after `mat-`) that name it: fewer would match by accident."""


def resolve_order(token: str, orders: Sequence[ProposedOrder]) -> ProposedOrder:
    """Find the order a token names: a row number (1-based) or a client-id prefix.

    A token of digits shorter than `MIN_ID_PREFIX` is always a row number, so a row that does
    not exist is an error rather than an id that happens to start with those digits. An id
    prefix needs at least `MIN_ID_PREFIX` characters after `mat-` and must match one order.

    Raises:
        ConfigurationError: no order, or more than one, matches.
    """
    text = token.strip()
    if not text:
        raise ConfigurationError("an empty order id was given")
    rows = f"1..{len(orders)}"
    if text.isdigit():
        if 1 <= int(text) <= len(orders):
            return orders[int(text) - 1]
        if len(text) < MIN_ID_PREFIX:
            raise ConfigurationError(f"no row {text}: rows are {rows}")
    prefix = text.removeprefix(render.ID_PREFIX)
    if len(prefix) < MIN_ID_PREFIX:
        raise ConfigurationError(
            f"{text!r} is too short to name an order: give a row number {rows} or at least "
            f"{MIN_ID_PREFIX} characters of its id"
        )
    matches = [
        o for o in orders if o.client_order_id.removeprefix(render.ID_PREFIX).startswith(prefix)
    ]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ConfigurationError(
            f"no proposed order matches {text!r}: give a row number {rows} "
            "or a prefix of the order id"
        )
    names = ", ".join(render.short_id(o.client_order_id) for o in matches)
    raise ConfigurationError(f"{text!r} matches several orders ({names}); give more characters")


@dataclass(frozen=True)
class Edit:
    """A new quantity and/or limit price for one order."""

    qty: int | None
    limit_price_krw: int | None


def _positive_int(text: str, what: str, spec: str) -> int:
    cleaned = text.strip().replace(",", "").replace("_", "")
    if not cleaned.isdigit() or int(cleaned) <= 0:
        raise ConfigurationError(f"{what} in {spec!r} must be a whole number above 0")
    return int(cleaned)


def parse_edit_value(value: str, spec: str) -> Edit:
    """Parse `QTY@PRICE`, `QTY` or `@PRICE` (commas allowed in numbers)."""
    qty_text, at, price_text = value.partition("@")
    qty = _positive_int(qty_text, "the quantity", spec) if qty_text.strip() else None
    price = _positive_int(price_text, "the price", spec) if at else None
    if qty is None and price is None:
        raise ConfigurationError(f"--edit {spec!r}: give ID=QTY@PRICE, ID=QTY or ID=@PRICE")
    return Edit(qty=qty, limit_price_krw=price)


def _split(values: Sequence[str] | None) -> list[str]:
    """Options are repeatable and also take comma lists (`--reject 1,3`)."""
    out: list[str] = []
    for value in values or ():
        out.extend(part for part in value.split(",") if part.strip())
    return out


def build_response(
    orders: Sequence[ProposedOrder],
    *,
    approve_all: bool,
    approve: Sequence[str] = (),
    reject: Sequence[str] = (),
    edit: Sequence[str] = (),
    decided_by: str = "cli",
) -> ApprovalResponse:
    """Turn the command's arguments into the approval resume value.

    Raises:
        ConfigurationError: nothing was decided, an id is unknown or ambiguous, an order is
            named twice, or an edit is malformed. Nothing is resumed then.
    """
    if not (approve_all or approve or reject or edit):
        raise ConfigurationError(
            "say what to do: --all, --approve ID, --reject ID or --edit ID=QTY@PRICE"
        )
    decisions: dict[str, OrderDecision] = {}

    def add(order: ProposedOrder, decision: OrderDecision, token: str) -> None:
        if order.client_order_id in decisions:
            raise ConfigurationError(f"order {token!r} is named more than once")
        decisions[order.client_order_id] = decision

    for token in _split(approve):
        order = resolve_order(token, orders)
        add(
            order,
            OrderDecision(client_order_id=order.client_order_id, action=Action.APPROVE),
            token,
        )
    for token in _split(reject):
        order = resolve_order(token, orders)
        add(
            order, OrderDecision(client_order_id=order.client_order_id, action=Action.REJECT), token
        )
    for spec in edit:
        token, eq, value = spec.partition("=")
        if not eq:
            raise ConfigurationError(f"--edit {spec!r}: give ID=QTY@PRICE, ID=QTY or ID=@PRICE")
        order = resolve_order(token, orders)
        change = parse_edit_value(value, spec)
        add(
            order,
            OrderDecision(
                client_order_id=order.client_order_id,
                action=Action.EDIT,
                qty=change.qty,
                limit_price_krw=change.limit_price_krw,
            ),
            token,
        )
    # Keep the table's order, so the review reads like the request.
    ordered = [decisions[o.client_order_id] for o in orders if o.client_order_id in decisions]
    return ApprovalResponse(decisions=ordered, approve_all=approve_all, decided_by=decided_by)


def describe_response(orders: Sequence[ProposedOrder], response: ApprovalResponse) -> str:
    """One line: how many orders are approved, edited and rejected by this answer."""
    by_id = {d.client_order_id: d.action for d in response.decisions}
    approved = edited = rejected = 0
    for order in orders:
        action = by_id.get(order.client_order_id)
        if action is Action.EDIT:
            edited += 1
        elif action is Action.APPROVE or (action is None and response.approve_all):
            approved += 1
        else:
            rejected += 1
    return f"{approved} approved, {edited} edited, {rejected} rejected"


APPROVER_MAX_LENGTH = 64
"""Longest approver name (`--by`); the approvals table stores 64 characters."""


def check_approver(name: str) -> str:
    """Return the approver's name trimmed; a blank, too long or unprintable one is an error."""
    text = name.strip()
    if not text:
        raise ConfigurationError("--by is empty: name who decides (e.g. --by kim)")
    if len(text) > APPROVER_MAX_LENGTH:
        raise ConfigurationError(
            f"--by is {len(text)} characters long; at most {APPROVER_MAX_LENGTH} are kept"
        )
    if not text.isprintable():
        raise ConfigurationError("--by contains control characters")
    return text
