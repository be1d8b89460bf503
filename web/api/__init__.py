"""The REST API under /api/v1/ and the compatibility /predict/: one module per resource, one exception handler."""
