"""Reading a stored file as records, shared by the worker (which imports it) and the API (which
reads a failed import's file back): decoding, CSV records, workbooks and header mapping."""
