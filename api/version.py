"""The service's version: the package's (pyproject.toml reads it from here), the OpenAPI
document's and the client's User-Agent."""

VERSION = "0.1.0"
