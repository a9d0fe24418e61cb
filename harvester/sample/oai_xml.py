"""The XML of the sample archive's OAI-PMH responses (text templates, no protocol logic)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from xml.sax.saxutils import escape, quoteattr

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
_ROOT = (f'<OAI-PMH xmlns="{OAI_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
         f'xsi:schemaLocation="{OAI_NS} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">')
OAI_DC_FORMAT = ("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
                 "http://www.openarchives.org/OAI/2.0/oai_dc/")


def envelope(response_date: str, base_url: str, params: Mapping[str, str] | None,
             inner: str) -> bytes:
    """A whole response; `params` None: the request element without attributes (badVerb,
    badArgument answers)."""
    attrs = "".join(f" {name}={quoteattr(value)}" for name, value in (params or {}).items())
    text = ('<?xml version="1.0" encoding="UTF-8"?>\n' + _ROOT
            + f"<responseDate>{response_date}</responseDate>"
            + f"<request{attrs}>{escape(base_url)}</request>{inner}</OAI-PMH>\n")
    return text.encode("utf-8")


def error(code: str, text: str) -> str:
    return f'<error code="{code}">{escape(text)}</error>'


def header(identifier: str, datestamp: str, sets: Iterable[str], deleted: bool) -> str:
    status = ' status="deleted"' if deleted else ""
    specs = "".join(f"<setSpec>{escape(s)}</setSpec>" for s in sets)
    return (f"<header{status}><identifier>{escape(identifier)}</identifier>"
            f"<datestamp>{datestamp}</datestamp>{specs}</header>")


def record(header_xml: str, metadata_xml: str | None) -> str:
    if metadata_xml is None:
        return f"<record>{header_xml}</record>"
    return f"<record>{header_xml}<metadata>{metadata_xml}</metadata></record>"


def resumption_token(token: str, complete: int, cursor: int) -> str:
    return (f'<resumptionToken completeListSize="{complete}" cursor="{cursor}">'
            f"{escape(token)}</resumptionToken>")


def last_token(complete: int, cursor: int) -> str:
    """The empty token closing a list that took several responses."""
    return f'<resumptionToken completeListSize="{complete}" cursor="{cursor}"/>'


def identify(*, name: str, base_url: str, email: str, earliest: str, deleted_record: str,
             granularity: str, repository_id: str, sample_id: str) -> str:
    return ("<Identify>"
            f"<repositoryName>{escape(name)}</repositoryName>"
            f"<baseURL>{escape(base_url)}</baseURL>"
            "<protocolVersion>2.0</protocolVersion>"
            f"<adminEmail>{escape(email)}</adminEmail>"
            f"<earliestDatestamp>{earliest}</earliestDatestamp>"
            f"<deletedRecord>{deleted_record}</deletedRecord>"
            f"<granularity>{granularity}</granularity>"
            "<compression>gzip</compression>"
            "<description><oai-identifier "
            'xmlns="http://www.openarchives.org/OAI/2.0/oai-identifier" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/oai-identifier '
            'http://www.openarchives.org/OAI/2.0/oai-identifier.xsd">'
            f"<scheme>oai</scheme><repositoryIdentifier>{escape(repository_id)}"
            "</repositoryIdentifier><delimiter>:</delimiter>"
            f"<sampleIdentifier>{escape(sample_id)}</sampleIdentifier>"
            "</oai-identifier></description></Identify>")


def metadata_formats() -> str:
    prefix, schema, namespace = OAI_DC_FORMAT
    return ("<ListMetadataFormats><metadataFormat>"
            f"<metadataPrefix>{prefix}</metadataPrefix><schema>{schema}</schema>"
            f"<metadataNamespace>{namespace}</metadataNamespace>"
            "</metadataFormat></ListMetadataFormats>")


def sets(specs: Iterable[tuple[str, str]]) -> str:
    inner = "".join(f"<set><setSpec>{escape(spec)}</setSpec><setName>{escape(name)}</setName>"
                    "</set>" for spec, name in specs)
    return f"<ListSets>{inner}</ListSets>"
