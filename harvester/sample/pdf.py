"""Small valid PDFs (deterministic bytes, a few KB) naming the record they stand for."""

from __future__ import annotations

import random


def _pdf_string(text: str) -> str:
    safe = text.encode("latin-1", "replace").decode("latin-1")
    return "(" + safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def make_pdf(record_id: int, title: str, variant: str, lines: int = 40) -> bytes:
    """A one-page PDF 1.4 with Helvetica text: the record, its title and filler lines."""
    rng = random.Random(f"pdf:{variant}:{record_id}")
    words = ("archive", "telegram", "embassy", "ministry", "copy", "secret", "report", "page")
    text = [
        f"Wilson Center Digital Archive - Record ID {record_id}",
        title[:90],
        f"{variant}",
    ] + [" ".join(rng.choice(words) for _ in range(10)) for _ in range(lines)]
    ops = ["BT", "/F1 10 Tf", "14 TL", "50 800 Td"]
    for line in text:
        ops.append(f"{_pdf_string(line)} Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Title " + _pdf_string(f"Record {record_id}").encode("latin-1")
        + b" /Producer (harvester sample archive) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)
