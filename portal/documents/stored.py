"""A rendered document stored once, without holding any lock while it renders.

WeasyPrint takes up to seconds for a long proposal. Rendering inside a transaction that locks
a row (SELECT … FOR UPDATE) would hold that lock for as long; on SQLite, whose IMMEDIATE
transactions take the database's write lock, it would block every writer (the follower, other
customers' uploads) meanwhile. So the document renders outside any transaction, and the model's
unique constraint decides between two renders of the same document: the first INSERT wins, the
loser deletes the file it stored and returns the winner's row.
"""

import hashlib
import uuid
from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, models, router, transaction

from portal.documents.storage import file_store

Document = TypeVar("Document", bound=models.Model)


def document_store_once(
    *,
    stored: Callable[[], Document | None],
    render: Callable[[], bytes],
    build: Callable[..., Document],
    folder: str,
) -> Document:
    """The document `stored()` finds, else one rendered now and saved.

    `build(size=, sha256=)` returns the unsaved row for `render()`'s bytes; its model has a
    FileField `file` and a unique constraint over what `stored()` looks up. The file is saved
    under `<folder>/<random>.pdf`, a generated name. Call it outside any transaction of yours:
    the render would otherwise run under your locks.
    """
    document = stored()
    if document is not None:
        return document
    content = render()
    document = build(size=len(content), sha256=hashlib.sha256(content).hexdigest())
    file_store(document.file, f"{folder}/{uuid.uuid4().hex}.pdf", content)
    try:
        with transaction.atomic(using=router.db_for_write(type(document))):
            document.save()
    except IntegrityError:
        # Another render of the same document was stored first: serve that one.
        document.file.delete(save=False)
        winner = stored()
        if winner is None:
            raise
        return winner
    except Exception:
        document.file.delete(save=False)
        raise
    return document
