"""The harvester's errors, in one flat module.

    HarvesterError
    ├── ExtractionError            a page could not be turned into a record
    │   ├── NotADocument           challenge page, error page, listing, empty or binary input
    │   │   └── ChallengePage      the bot manager's interstitial challenge (retry later)
    │   ├── InvalidRecord          extracted fields fail the record schema (reason says which)
    │   ├── ExtractorCrashed       the extraction worker process died twice on the page
    │   └── ExtractionTimeout      extraction of the page ran past the timeout twice
    ├── UnsafeKey                  a value that would make a storage key outside its place
    ├── StoreError                 the store could not be read or written (after retries)
    │   └── StoreConflict          a create-only write found the object already there
    └── ConfigError                bad CLI arguments or settings (one-line message)
"""

from __future__ import annotations


class HarvesterError(Exception):
    """Base of every error the harvester raises on purpose."""


class ExtractionError(HarvesterError):
    """A page could not be turned into a valid record."""


class NotADocument(ExtractionError):
    """The page is not a document page (challenge, error page, listing, empty, binary)."""


class RecordGone(NotADocument):
    """The source says, in its own protocol, that the record is no longer offered (OAI-PMH:
    idDoesNotExist, or a deleted header): the withdrawal check takes it as 410 Gone,
    withdrawn at once, not a 404 that a later campaign must confirm."""


class ChallengePage(NotADocument):
    """The bot manager's interstitial challenge page: back off and retry later."""


class InvalidRecord(ExtractionError):
    """The extracted record does not validate against the record schema."""


class ExtractorCrashed(ExtractionError):
    """The extraction worker process died (twice) while parsing the page."""


class ExtractionTimeout(ExtractionError):
    """Extraction of the page ran past HARVESTER_EXTRACT_TIMEOUT (twice)."""


class UnsafeKey(HarvesterError):
    """A record id or file name that cannot be used safely in a storage key."""


class StoreError(HarvesterError):
    """The store could not be read or written, even after retries."""


class StoreConflict(StoreError):
    """A create-only write found the object already present."""


class ConfigError(HarvesterError):
    """Bad arguments or settings; the message is shown to the user as one line."""
