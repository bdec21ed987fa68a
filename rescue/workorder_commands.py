"""``rescue workorder show JOB_ID [--pdf FILE]``: a job's rescue work order (救援工作单) from
the records, as JSON, and optionally as the same A4 PDF the page exports."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from geo.errors import InputError
from geo.i18n import N_
from optimizer.dispatch.rules import load_business_rules
from records.rules import load_record_rules
from records.work_orders import work_order
from rescue.store_args import add_db_argument, opened_store


def _pdf_path(text: str) -> Path:
    path = Path(text)
    if path.suffix.lower() != ".pdf":
        raise InputError("--pdf", text, "a file name ending in .pdf")
    if not path.parent.is_dir():
        raise InputError("--pdf", text, "its folder does not exist")
    return path


def _show(args: argparse.Namespace) -> dict[str, Any]:
    pdf = None if args.pdf is None else _pdf_path(args.pdf)
    with opened_store(args) as store:
        order = work_order(store.engine, args.job_id)
    result = order.to_json()
    if pdf is not None:
        from webmap.work_order_view import pdf_bytes  # noqa: PLC0415 (WeasyPrint: slow)

        pdf.write_bytes(pdf_bytes(order, args.lang, load_business_rules(), load_record_rules()))
        result["pdf"] = str(pdf)
    return result


def register(subparsers: Any) -> None:
    command = subparsers.add_parser("workorder", help=N_("rescue work orders of the records"))
    sub = command.add_subparsers(dest="workorder_command", required=True)
    show = sub.add_parser("show", help=N_("a job's work order as JSON, optionally as a PDF"))
    show.add_argument("job_id", help=N_("the job's id (J00001)"))
    show.add_argument("--pdf", help=N_("also write the printable A4 PDF to this file"))
    add_db_argument(show)
    show.set_defaults(handler=_show)
