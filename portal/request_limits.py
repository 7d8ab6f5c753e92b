"""No request body larger than MAX_REQUEST_BYTES is read, on any page.

Django writes each uploaded file to a temporary file as it arrives, before any view can look
at it, and its own limits are per file (FILE_UPLOAD_MAX_MEMORY_SIZE decides memory or disk) or
for the form fields only (DATA_UPLOAD_MAX_MEMORY_SIZE): one POST of 8 parts of 10 MiB spooled
80 MiB. This handler, first in FILE_UPLOAD_HANDLERS, refuses such a body (400) unread. The
signed-contract upload adds its own limit on the files (contracts.uploads).
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import FileUploadHandler


class RequestSizeLimitHandler(FileUploadHandler):
    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > settings.MAX_REQUEST_BYTES:
            raise RequestDataTooBig(
                f"Request body of {content_length} bytes exceeds MAX_REQUEST_BYTES."
            )

    def receive_data_chunk(self, raw_data, start):
        return raw_data

    def file_complete(self, file_size):
        return None
