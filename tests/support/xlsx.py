"""Reading the workbooks of the exports (xlsxwriter, constant-memory mode: inline strings)."""

from __future__ import annotations

import html
import re
import zipfile


def metadata_sheet(archive: zipfile.ZipFile, number: int) -> dict[str, str]:
    """The sheet `Metadaten` as {key (column B): value (column C)}; numbers as text."""
    xml = archive.read(f"xl/worksheets/sheet{number}.xml").decode()
    rows: dict[str, dict[str, str]] = {}
    for column, row, attributes, content in re.findall(
        r'<c r="([A-Z]+)(\d+)"([^>]*)>(.*?)</c>', xml
    ):
        assert 't="s"' not in attributes  # constant-memory mode writes strings inline
        found = re.search(r"<(?:v|t)[^>]*>([^<]*)</(?:v|t)>", content)
        rows.setdefault(row, {})[column] = html.unescape(found.group(1)) if found else ""
    return {cells["B"]: cells.get("C", "") for row, cells in rows.items() if row != "1"}
