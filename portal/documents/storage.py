"""Writing a file to the default storage (local disk or S3) when the storage may fail.

A full disk or an S3 that does not answer must not leave half a file behind, nor a row that
points at a file that is not there: `file_store` removes whatever it wrote and raises
StorageUnavailable, whose pt-BR message the caller shows (portal.errors answers 503 with it
when a view lets it through).
"""

import logging
import sys

from django.core.files.base import ContentFile
from django.db.models.fields.files import FieldFile

logger = logging.getLogger(__name__)


def _s3_error(error: Exception) -> bool:
    """S3 unreachable, timing out or refusing. botocore is imported only where S3 is used
    (it costs every process a few hundred ms): an error of its kind means it is loaded."""
    botocore = sys.modules.get("botocore.exceptions")
    return botocore is not None and isinstance(error, botocore.BotoCoreError | botocore.ClientError)


class StorageUnavailable(Exception):
    """The file could not be stored; nothing of it was kept."""

    message = (
        "Não foi possível guardar o documento agora: o armazenamento de arquivos do portal não "
        "está disponível. Nada foi gravado. Tente novamente em alguns minutos."
    )


def file_store(field_file: FieldFile, name: str, content: bytes) -> None:
    """Store `content` under `name` (a fresh generated key) and set the field to it, without
    saving the row (as `FieldFile.save(..., save=False)`). On failure, removes any part
    already written and raises StorageUnavailable.
    """
    field, instance = field_file.field, field_file.instance
    target = field.generate_filename(instance, name)  # the key with the field's upload_to
    try:
        stored = field_file.storage.save(target, ContentFile(content), max_length=field.max_length)
    except Exception as error:
        # S3 stores an object whole or not at all: nothing to remove (and asking an unreachable
        # S3 to delete would make the customer wait twice as long). A local disk keeps what
        # was written before it filled up. (boto's timeouts are OSErrors too: S3 first.)
        if _s3_error(error):
            logger.exception("S3 refused %s", target)
        elif isinstance(error, OSError):
            logger.exception("Storage refused %s", target)
            file_discard(field_file.storage, target)
        else:
            raise
        raise StorageUnavailable from error
    setattr(instance, field.attname, stored)


def file_discard(storage, name: str) -> None:
    """Remove a file this request stored and no committed row points at (best effort: the
    storage may still be down; a leftover object is an orphan, never a broken row)."""
    try:
        storage.delete(name)
    except Exception as error:
        if not (isinstance(error, OSError) or _s3_error(error)):
            raise
        logger.warning("Could not remove %s from storage", name, exc_info=True)
